"""FAQ editing queries: validation, versions, status, diff, restore, re-check, live use."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from knowledge.clock import vietnam_today
from knowledge.kb.faq import (
    FaqError,
    check_messages,
    citations_text,
    create_entry,
    diff,
    last_checked_by,
    list_entries,
    parse_entry,
    preview,
    restore,
    round_since,
    set_status,
    update_entry,
    versions,
)
from knowledge.kb.loader import read_entries, read_rounds, sync
from knowledge.kb.queries import choose_entry, entry_by_key
from knowledge.models import Entry
from knowledge.staff import recent_audit

KEY = "after_release_rights"


def get_entry(db: Session, key: str) -> Entry:
    found = entry_by_key(db, key)
    assert found is not None, key
    return found


def chosen(db: Session, topic: str, question: str) -> str | None:
    choice = choose_entry(db, topic, question)
    return choice.entry.key if choice else None


def form(**changes: str) -> dict[str, str]:
    base = {
        "topic": "ask_after_release",
        "title": "Quyền của người được đặc xá",
        "round": "law",
        "verified": "on",
        "questions": "Người được đặc xá có những quyền gì?\nquyen loi cua nguoi duoc dac xa",
        "answer": "Người được đặc xá có các quyền như mọi công dân khác.",
        "citations": "Luật Đặc xá số 30/2018/QH14 | Điều 21 | khoản 1",
    }
    return base | changes


def fields(**changes: str) -> dict:
    return parse_entry(form(**changes), max_chars=2000)


def test_parse_entry_reads_the_form() -> None:
    parsed = fields(citations="Luật Đặc xá số 30/2018/QH14 | Điều 21 | khoản 1\nQĐ 1 | Điều 2")
    assert parsed["questions"] == [
        "Người được đặc xá có những quyền gì?",
        "quyen loi cua nguoi duoc dac xa",
    ]
    assert parsed["citations"] == [
        {"document": "Luật Đặc xá số 30/2018/QH14", "article": "Điều 21", "clause": "khoản 1"},
        {"document": "QĐ 1", "article": "Điều 2"},
    ]
    assert parsed["verified"] is True
    assert citations_text(parsed["citations"]).splitlines()[1] == "QĐ 1 | Điều 2"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"topic": "ask_weather"}, "topic", "không có trong danh sách"),
        ({"answer": "x" * 2001}, "answer", "2001 ký tự, quá giới hạn 2000"),
        ({"answer": "   "}, "answer", "trống"),
        ({"questions": "\n \n"}, "questions", "ít nhất một"),
        ({"citations": "chỉ có tên văn bản"}, "citations", "Dòng 1"),
        ({"citations": ""}, "citations", "ít nhất một nguồn"),
        ({"round": "1999"}, "round", "đợt"),
        ({"title": ""}, "title", "Tiêu đề"),
    ],
)
def test_bad_input_says_what_to_fix(changes: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(FaqError) as caught:
        fields(**changes)
    assert message in caught.value.errors[field]


def test_script_tags_are_kept_as_plain_text() -> None:
    answer = "Xem <script>alert(1)</script> nhé"
    assert fields(answer=answer)["answer"] == answer


def test_edit_is_versioned_audited_and_used_at_once(loaded: sessionmaker[Session]) -> None:
    question = "quyen loi cua nguoi duoc dac xa"
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        assert entry is not None
        before = entry.answer
        update_entry(db, entry, fields(answer="Nội dung mới đã sửa."), actor="lan", base=0)
    with loaded() as db:
        choice = choose_entry(db, "ask_after_release", question)
        assert choice is not None and choice.entry.key == KEY
        assert choice.entry.answer == "Nội dung mới đã sửa."
        assert choice.entry.edited_by == "lan"
        saved = versions(db, choice.entry)
        assert [v.number for v in saved] == [2, 1]
        assert saved[1].snapshot["answer"] == before and saved[1].saved_by is None
        assert saved[0].snapshot["answer"] == "Nội dung mới đã sửa."
        assert saved[0].saved_by == "lan"
        assert [(e.actor, e.action, e.target) for e in recent_audit(db)] == [
            ("lan", "entry_saved", KEY)
        ]


def test_reloading_the_yaml_keeps_the_staff_edit(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        update_entry(db, entry, fields(answer="Sửa bởi cán bộ."), actor="lan")
    yaml_entries = read_entries()
    for item in yaml_entries:
        if item["key"] == KEY:
            item["answer"] += " (YAML đổi)"
    with loaded.begin() as db:
        report = sync(db, yaml_entries, read_rounds())
        assert KEY in report.kept_staff_edits
    with loaded() as db:
        assert get_entry(db, KEY).answer == "Sửa bởi cán bộ."


def test_stale_form_is_refused_and_changes_nothing(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        update_entry(db, entry, fields(answer="Lần một."), actor="lan", base=0)
    with loaded() as db:
        entry = get_entry(db, KEY)
        with pytest.raises(FaqError, match="người khác"):
            update_entry(db, entry, fields(answer="Lần hai."), actor="binh", base=0)
        db.rollback()
        assert get_entry(db, KEY).answer == "Lần một."


def test_retired_entry_is_not_chosen_and_publish_brings_it_back(
    loaded: sessionmaker[Session],
) -> None:
    question = "quyen loi cua nguoi duoc dac xa"
    with loaded.begin() as db:
        set_status(db, get_entry(db, KEY), "retired", actor="lan")
    with loaded() as db:
        assert chosen(db, "ask_after_release", question) != KEY
    with loaded.begin() as db:
        set_status(db, get_entry(db, KEY), "published", actor="lan")
    with loaded() as db:
        assert chosen(db, "ask_after_release", question) == KEY
        assert [e.action for e in recent_audit(db)] == ["entry_published", "entry_retired"]
        with pytest.raises(FaqError):
            set_status(db, get_entry(db, KEY), "deleted", actor="lan")


def test_new_entry_is_a_draft_until_published(loaded: sessionmaker[Session]) -> None:
    question = "người được đặc xá có được đi xuất khẩu lao động không"
    new = fields(title="Đi làm ở nước ngoài", questions=question, answer="Câu trả lời mới.")
    with loaded.begin() as db:
        entry = create_entry(db, "after_release_abroad", new, actor="lan")
        assert entry.status == "draft" and entry.checked == vietnam_today()
    with loaded() as db:
        assert chosen(db, "ask_after_release", question) != "after_release_abroad"
    with loaded.begin() as db:
        set_status(db, get_entry(db, "after_release_abroad"), "published", actor="lan")
    with loaded() as db:
        assert chosen(db, "ask_after_release", question) == "after_release_abroad"


@pytest.mark.parametrize(("key", "message"), [("Có dấu", "Mã mục"), (KEY, "đã có")])
def test_new_entry_needs_a_free_valid_key(
    loaded: sessionmaker[Session], key: str, message: str
) -> None:
    with loaded() as db, pytest.raises(FaqError, match=message):
        create_entry(db, key, fields(), actor="lan")


def test_restore_brings_back_content_and_keeps_status(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        original = entry.answer
        update_entry(db, entry, fields(answer="Sai, cần bỏ."), actor="lan")
        set_status(db, entry, "draft", actor="lan")
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        restore(db, entry, 1, actor="binh")
    with loaded() as db:
        entry = get_entry(db, KEY)
        assert entry.answer == original and entry.status == "draft"
        saved = versions(db, entry)
        assert [v.number for v in saved] == [4, 3, 2, 1]
        assert saved[0].note == "Khôi phục phiên bản 1" and saved[0].saved_by == "binh"
        assert recent_audit(db)[0].action == "entry_restored"
        with pytest.raises(FaqError, match="phiên bản 9"):
            restore(db, entry, 9, actor="binh")


def test_diff_shows_what_changed(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        update_entry(db, entry, fields(answer="Dòng một.\nDòng hai."), actor="lan")
        update_entry(db, entry, fields(answer="Dòng một.\nDòng ba."), actor="lan")
        v3, v2, v1 = versions(db, entry)
        lines = diff(v2, v3)
        assert "-Dòng hai." in lines and "+Dòng ba." in lines
        assert " Dòng một." in lines
        assert diff(v3, v3) == []
        assert any(line.startswith("-Tiêu đề") for line in diff(v1, v2)) is False


def test_recheck_lists_entries_checked_before_the_round_was_set(
    loaded: sessionmaker[Session],
) -> None:
    with loaded.begin() as db:
        since = round_since(db, "2026")
        assert since == vietnam_today()
    with loaded.begin() as db:
        assert round_since(db, "2026") == since
        stale = list_entries(db, checked_before=since)
        assert KEY in {e.key for e in stale}
        entry = get_entry(db, KEY)
        update_entry(db, entry, fields(), actor="lan", checked_now=True)
    with loaded() as db:
        entry = get_entry(db, KEY)
        assert entry.checked == vietnam_today()
        assert last_checked_by(db, entry) == "lan"
        assert KEY not in {e.key for e in list_entries(db, checked_before=since)}
        assert round_since(db, "2027") == vietnam_today()
        assert {e.topic for e in list_entries(db, topic="ask_fees")} == {"ask_fees"}
        assert list_entries(db, text="giấy chứng nhận đặc xá")
        assert list_entries(db, status="draft") == []


def test_preview_is_what_the_chat_shows(loaded: sessionmaker[Session]) -> None:
    common = {"department": "PC10 tỉnh X", "contact": "số 0000", "current_round": "2025-2"}
    with loaded() as db:
        messages = preview(db, fields(answer="Hỏi {department} qua {contact}."), **common)
        assert messages[0].startswith("Hỏi PC10 tỉnh X qua số 0000.")
        assert "Nguồn: Luật Đặc xá số 30/2018/QH14, Điều 21 khoản 1." in messages[-1]
        conditions = fields(topic="ask_conditions")
        text = "\n".join(preview(db, conditions, **common))
        assert "Đặc xá năm 2025 (đợt 2" in text
        assert "không phải quyết định" in text
    with pytest.raises(FaqError, match="quá giới hạn 100"):
        check_messages(["x" * 101], 100)
    check_messages(["x" * 100], 100)


def test_checked_date_survives_a_snapshot_round_trip(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        entry.checked = dt.date(2025, 1, 2)
        update_entry(db, entry, fields(), actor="lan")
        update_entry(db, entry, fields(), actor="lan", checked_now=True)
        restore(db, entry, 2, actor="lan")
        assert entry.checked == dt.date(2025, 1, 2)
