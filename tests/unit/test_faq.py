"""FAQ editing queries: validation, versions, status, diff, restore, re-check, live use."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from knowledge.clock import vietnam_today
from knowledge.kb.choose import published
from knowledge.kb.faq import (
    check_messages,
    create_entry,
    describe,
    diff,
    last_checked_by,
    list_entries,
    preview,
    restore,
    set_status,
    snapshot,
    update_entry,
    versions,
)
from knowledge.kb.faq_form import FaqError, citations_text, parse_entry
from knowledge.kb.loader import read_entries, read_rounds, sync
from knowledge.kb.queries import entry_by_key
from knowledge.kb.rounds import calendar, now_line
from knowledge.models import Entry, EntryVersion
from knowledge.staff import recent_audit

KEY = "after_release_rights"


def get_entry(db: Session, key: str) -> Entry:
    found = entry_by_key(db, key)
    assert found is not None, key
    return found


def in_use(db: Session, key: str) -> Entry | None:
    """The entry as the assistant reads it for every message (published entries only)."""
    return next((e for e in published(db) if e.key == key), None)


PRESS = "Luật Thi hành án hình sự số 127/2025/QH15 | | | press | VietnamPlus, 10/12/2025"


def form(**changes: str) -> dict[str, str]:
    base = {
        "topic": "ask_after_release",
        "measure": "amnesty",
        "facet": "rights",
        "title": "Quyền của người được đặc xá",
        "round": "law",
        "verified": "on",
        "questions": "Người được đặc xá có những quyền gì?\nquyen loi cua nguoi duoc dac xa",
        "lead": "Người được đặc xá có các quyền như người đã chấp hành xong án.",
        "answer": "Người được đặc xá có các quyền như mọi công dân khác.",
        "citations": "Luật Đặc xá số 30/2018/QH14 | Điều 21 | khoản 1 | text",
        "laws": "luat-dac-xa-2018",
    }
    return base | changes


def fields(**changes: str) -> dict:
    return parse_entry(form(**changes), max_chars=2000)


def test_parse_entry_reads_the_form() -> None:
    citations = f"Luật Đặc xá số 30/2018/QH14 | Điều 21 | khoản 1 | text\n{PRESS}"
    parsed = fields(citations=citations, verified="", minors="on", laws="blhs-2015, lthahs-2025")
    assert parsed["questions"] == [
        "Người được đặc xá có những quyền gì?",
        "quyen loi cua nguoi duoc dac xa",
    ]
    assert parsed["citations"] == [
        {
            "document": "Luật Đặc xá số 30/2018/QH14",
            "article": "Điều 21",
            "clause": "khoản 1",
            "kind": "text",
        },
        {
            "document": "Luật Thi hành án hình sự số 127/2025/QH15",
            "kind": "press",
            "outlet": "VietnamPlus, 10/12/2025",
        },
    ]
    assert (parsed["measure"], parsed["facet"], parsed["minors"]) == ("amnesty", "rights", True)
    assert parsed["laws"] == ["blhs-2015", "lthahs-2025"]
    assert parsed["lead"].startswith("Người được đặc xá có các quyền")
    assert parsed["verified"] is False
    assert citations_text(parsed["citations"]).splitlines() == citations.splitlines()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"topic": "ask_weather"}, "topic", "không có trong danh sách"),
        ({"measure": "weather"}, "measure", "Biện pháp 'weather'"),
        ({"facet": ""}, "facet", "Khía cạnh"),
        ({"answer": "x" * 2001}, "answer", "2001 ký tự, quá giới hạn 2000"),
        ({"answer": "   "}, "answer", "trống"),
        ({"lead": "x" * 401}, "lead", "tối đa 400"),
        ({"questions": "\n \n"}, "questions", "ít nhất một"),
        ({"citations": "chỉ có tên văn bản"}, "citations", "Dòng 1 của phần nguồn: thiếu loại"),
        ({"citations": ""}, "citations", "ít nhất một nguồn"),
        ({"citations": "Luật X | Điều 1 | | bao"}, "citations", "loại nguồn 'bao' không có"),
        ({"citations": " | Điều 1 | | text"}, "citations", "thiếu tên văn bản"),
        ({"citations": "a | b | c | text | d | e"}, "citations", "quá 5 cột"),
        (
            {"citations": "Luật X | Điều 5 | | press | Báo Y", "verified": ""},
            "citations",
            "chỉ ghi điều, khoản khi đã đọc chính văn bản",
        ),
        ({"citations": "Luật X | | | secondary", "verified": ""}, "citations", "nơi đưa tin"),
        ({"citations": "Luật X | toàn văn | | text"}, "citations", "'toàn văn'"),
        ({"citations": PRESS}, "verified", "mọi nguồn là loại text hoặc copy"),
        ({"citations": "Luật X | | | listing"}, "verified", "loại listing"),
        ({"laws": "luat-khong-co"}, "laws", "luat-khong-co"),
        ({"round": "1999"}, "round", "đợt"),
        ({"title": ""}, "title", "Tiêu đề"),
    ],
)
def test_bad_input_says_what_to_fix(changes: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(FaqError) as caught:
        parse_entry(form(**changes), max_chars=2000, laws={"luat-dac-xa-2018", "blhs-2015"})
    assert message in caught.value.errors[field]


def test_copy_and_text_sources_may_be_verified_and_laws_need_not_be_checked() -> None:
    parsed = fields(citations="Nghị định số 213/2026/NĐ-CP | Điều 3 | | copy", laws="x-y")
    assert parsed["verified"] is True and parsed["laws"] == ["x-y"]


def test_script_tags_are_kept_as_plain_text() -> None:
    answer = "Xem <script>alert(1)</script> nhé"
    assert fields(answer=answer)["answer"] == answer


def test_edit_is_versioned_audited_and_used_at_once(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        assert entry is not None
        before = entry.answer
        update_entry(db, entry, fields(answer="Nội dung mới đã sửa."), actor="lan", base=0)
    with loaded() as db:
        used = in_use(db, KEY)
        assert used is not None
        assert used.answer == "Nội dung mới đã sửa."
        assert used.edited_by == "lan"
        saved = versions(db, used)
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
    with loaded.begin() as db:
        set_status(db, get_entry(db, KEY), "retired", actor="lan")
    with loaded() as db:
        assert in_use(db, KEY) is None
    with loaded.begin() as db:
        set_status(db, get_entry(db, KEY), "published", actor="lan")
    with loaded() as db:
        assert in_use(db, KEY) is not None
        assert [e.action for e in recent_audit(db)] == ["entry_published", "entry_retired"]
        with pytest.raises(FaqError):
            set_status(db, get_entry(db, KEY), "deleted", actor="lan")


def test_new_entry_is_a_draft_until_published(loaded: sessionmaker[Session]) -> None:
    question = "người được đặc xá có được đi xuất khẩu lao động không"
    new = fields(
        title="Đi làm ở nước ngoài",
        questions=question,
        answer="Câu trả lời mới.",
        facet="conditions",
    )
    with loaded.begin() as db:
        entry = create_entry(db, "after_release_abroad", new, actor="lan")
        assert entry.status == "draft" and entry.checked == vietnam_today()
    with loaded() as db:
        assert in_use(db, "after_release_abroad") is None
    with loaded.begin() as db:
        set_status(db, get_entry(db, "after_release_abroad"), "published", actor="lan")
    with loaded() as db:
        assert in_use(db, "after_release_abroad") is not None


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


def test_check_date_and_lists(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        entry.checked = dt.date(2025, 1, 2)
        update_entry(db, entry, fields(), actor="lan", checked_now=True)
    with loaded() as db:
        entry = get_entry(db, KEY)
        assert entry.checked == vietnam_today()
        assert last_checked_by(db, entry) == "lan"
        assert {e.topic for e in list_entries(db, topic="ask_fees")} == {"ask_fees"}
        assert list_entries(db, text="giấy chứng nhận đặc xá")
        assert list_entries(db, status="draft") == []
        assert list_entries(db, recheck=True) == []


def test_new_fields_are_saved_versioned_and_shown_in_the_diff(
    loaded: sessionmaker[Session],
) -> None:
    changes = {"facet": "effect", "minors": "on", "laws": "luat-dac-xa-2018\nnd-52-2019"}
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        update_entry(db, entry, fields(**changes, lead="Trả lời ngắn mới."), actor="lan")
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        assert (entry.facet, entry.minors, entry.lead) == ("effect", True, "Trả lời ngắn mới.")
        assert entry.laws == ["luat-dac-xa-2018", "nd-52-2019"]
        new, old = versions(db, entry)
        assert new.snapshot["laws"] == entry.laws and new.snapshot["minors"] is True
        lines = diff(old, new)
        assert "+Khía cạnh: Sau đó thế nào, nghĩa vụ" in lines
        assert "+Trả lời ngắn mới." in lines
        assert "+Văn bản làm căn cứ: luat-dac-xa-2018, nd-52-2019" in lines
        restore(db, entry, 1, actor="lan")
        assert (entry.facet, entry.minors) == ("rights", False)


def test_a_version_saved_before_the_new_fields_restores_and_reads(
    loaded: sessionmaker[Session],
) -> None:
    with loaded.begin() as db:
        entry = get_entry(db, KEY)
        old = {k: v for k, v in snapshot(entry).items() if k not in ("measure", "facet", "lead")}
        old |= {"answer": "Bản cũ.", "laws": [], "minors": False}
        for name in ("laws", "minors"):
            del old[name]
        db.add(EntryVersion(entry_id=entry.id, number=1, saved_by="lan", snapshot=old))
        db.flush()
        assert "Biện pháp: Đặc xá, đại xá" in describe(old)
        restore(db, entry, 1, actor="lan")
        assert entry.answer == "Bản cũ." and entry.facet == "rights"  # kept


def test_preview_is_what_the_chat_shows(loaded: sessionmaker[Session]) -> None:
    common = {"department": "PC10 tỉnh X", "contact": "số 0000"}
    today = dt.date(2026, 12, 6)
    with loaded() as db:
        rights = preview(
            db, fields(answer="Hỏi {department} qua {contact}."), **common, today=today
        )
        assert rights[0].startswith(
            "Người được đặc xá có các quyền như người đã chấp hành xong án."
        )
        assert "Hỏi PC10 tỉnh X qua số 0000." in rights[0]
        assert "Nguồn: Luật Đặc xá số 30/2018/QH14, Điều 21 khoản 1." in rights[-1]
        now = now_line(calendar(db), today)
        assert now.startswith("Đến nay (06/12/2026)")
        assert now not in "\n".join(rights)  # the calendar is for conditions, timing...
        conditions = fields(topic="ask_conditions", facet="conditions")
        text = "\n".join(preview(db, conditions, **common, today=today))
        assert now.replace("\n\n", "\n") in text
        reduction = fields(measure="reduction", facet="timing")
        assert now not in "\n".join(preview(db, reduction, **common, today=today))
        press = fields(citations=PRESS, verified="")
        text = "\n".join(preview(db, press, **common, today=today))
        assert "chưa được kiểm chứng" in text and "PC10 tỉnh X" in text
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
