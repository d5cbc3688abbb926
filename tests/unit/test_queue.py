"""The unanswered-questions queue: recording, masking, grouping, the rewrite rule, export."""

from __future__ import annotations

import datetime as dt
import doctest
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from knowledge import channels as channels_module
from knowledge.__main__ import main
from knowledge.channels import channel_of
from knowledge.db import create_schema, make_engine
from knowledge.kb.choose import choose, published
from knowledge.kb.faq import update_entry, versions
from knowledge.kb.queries import entry_by_key
from knowledge.kb.queue import (
    MAX_TEXT_CHARS,
    QueueError,
    add_to_entry,
    check_rewrite,
    delete_older_than,
    dismiss,
    family_key,
    family_salt,
    for_new_entry,
    forget_family,
    group_of,
    group_questions,
    list_questions,
    mark_training,
    open_questions,
    rating_counts,
    record_question,
    record_rating,
)
from knowledge.kb.reading import read
from knowledge.kb.training_export import export_training, training_yaml
from knowledge.models import AnswerRating, QueuedQuestion
from knowledge.staff import recent_audit
from settings import Settings, from_env, get_settings
from vietnamese.training_data import build

UTC = dt.UTC


def ask(
    session: Session,
    text: str,
    *,
    at: dt.datetime | None = None,
    family: str | None = None,
    **facts: Any,
) -> QueuedQuestion:
    question = record_question(
        session,
        text=text,
        reason=str(facts.pop("reason", "fallback")),
        channel=str(facts.pop("channel", "web")),
        family=family,
        **facts,
    )
    assert question is not None
    if at is not None:
        question.asked_at = at
    session.flush()
    return question


def test_channel_is_the_sender_prefix() -> None:
    assert [channel_of(s) for s in ("web:a", "telegram:1", "zalo:2", "console:x")] == [
        "web",
        "telegram",
        "zalo",
        "console",
    ]
    assert channel_of("test-sender") == channel_of("other:1") == "rest"


def test_family_key_is_salted_per_install(tmp_path: Path) -> None:
    def install(name: str) -> Settings:
        return from_env(
            {
                "AMNESTY_VAR_DIR": str(tmp_path / name),
                "AMNESTY_DATABASE_URL": f"sqlite:///{tmp_path / name / 'kb.db'}",
            }
        )

    for name in ("a", "b"):
        create_schema(make_engine(install(name).database_url))
    salt = family_salt(install("a"))
    assert family_salt(install("a")) == salt  # made once (in the database), then read
    other = family_salt(install("b"))
    assert family_key(salt, "zalo:123") == family_key(salt, "zalo:123")
    assert family_key(salt, "zalo:123") != family_key(other, "zalo:123")
    assert len(family_key(salt, "zalo:123")) == 32


def test_recorded_text_is_masked_cut_and_buttons_are_skipped(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        q = ask(session, "mẹ em  CMND 123456789, sđt 0987.654.321, mail an.nguyen@example.com")
        assert q.text == "mẹ em CMND ******789, sđt 09******21, mail a***@example.com"
        long = ask(session, "đặc xá " * 400)
        assert len(long.text) == MAX_TEXT_CHARS
        assert record_question(session, text="/ask_fees", reason="fallback", channel="web") is None
        assert record_question(session, text="   ", reason="fallback", channel="web") is None
        with pytest.raises(ValueError, match="unknown reason"):
            record_question(session, text="x", reason="bored", channel="web")


def test_the_shown_entry_s_version_is_recorded(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as session:
        entry = entry_by_key(session, "after_release_rights")
        assert entry is not None
        before = ask(session, "quyền lợi", entry_key=entry.key, reason="low_confidence")
        update_entry(session, entry, {"title": entry.title + " (sửa)"}, actor="bientap")
        after = ask(session, "quyền lợi", entry_key=entry.key, reason="low_confidence")
    assert before.entry_version is None  # as loaded from the YAML
    assert after.entry_version == 2


def test_similar_questions_group_with_and_without_diacritics(
    session_maker: sessionmaker[Session],
) -> None:
    now = dt.datetime(2026, 11, 30, 8, tzinfo=UTC)
    with session_maker.begin() as session:
        ask(session, "thăm nuôi phạm nhân cần mang giấy gì", at=now, family="f1")
        ask(session, "tham nuoi pham nhan can mang giay gi a", at=now.replace(hour=9), family="f2")
        ask(session, "Thăm nuôi phạm nhân cần giấy gì?", at=now.replace(hour=10), family="f2")
        ask(session, "mai trời có mưa không", at=now.replace(hour=7))
        ask(session, "??", at=now.replace(hour=6))
        ask(session, "?? ", at=now.replace(hour=11))
        groups = group_questions(list_questions(session))
    assert [g.count for g in groups] == [2, 3, 1]
    visits = groups[1]
    assert visits.first.text == "Thăm nuôi phạm nhân cần giấy gì?"  # newest first
    assert visits.families == 2
    assert [g.first.text for g in groups][::2] == ["??", "mai trời có mưa không"]


def test_filters_by_intent_channel_and_vietnamese_day(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as session:
        # 23:30 UTC on the 29th is already the 30th in Vietnam.
        late = ask(
            session,
            "a",
            intent="ask_fees",
            channel="zalo",
            at=dt.datetime(2026, 11, 29, 23, 30, tzinfo=UTC),
        )
        early = ask(
            session,
            "b",
            intent="ask_procedure",
            channel="web",
            at=dt.datetime(2026, 11, 29, 10, tzinfo=UTC),
        )
        day = dt.date(2026, 11, 30)
        assert list_questions(session, since=day, until=day) == [late]
        assert list_questions(session, until=dt.date(2026, 11, 29)) == [early]
        assert list_questions(session, intent="ask_procedure") == [early]
        assert list_questions(session, channel="zalo") == [late]
        assert list_questions(session) == [late, early]  # newest first


@pytest.mark.parametrize(
    ("rewrite", "message"),
    [
        ("", "viết lại"),
        ("gọi 0912345678 hỏi", "số điện thoại"),
        ("căn cước 001234567890 có cần không", "căn cước"),
        ("chồng em 09******78 có được không", "phần số bị che"),
        ("Chồng em án 6 năm, đã ở 3 năm, có được xét không", "chữ số"),
        ("x" * 301, "tối đa 300"),
    ],
)
def test_a_rewrite_with_personal_numbers_or_a_copy_is_refused(rewrite: str, message: str) -> None:
    original = "chồng em án 6 năm đã ở 3 năm có được xét không"
    with pytest.raises(QueueError, match=message):
        check_rewrite(rewrite, [original])


def test_a_real_rewrite_or_an_exact_copy_without_digits_is_kept() -> None:
    assert (
        check_rewrite(
            "  người bị án 6 năm  đã ở một nửa có được xét không ",
            ["chồng em án 6 năm đã ở 3 năm có được xét không"],
        )
        == "người bị án 6 năm đã ở một nửa có được xét không"
    )
    assert check_rewrite("mai trời có mưa không", ["mai trời có mưa không"])


def test_adding_to_an_entry_is_a_new_version_used_at_once(loaded: sessionmaker[Session]) -> None:
    odd = "người thân bị ốm nặng muốn về chữa trị thì nhờ ai"
    with loaded() as session:
        before = choose(published(session), read(odd, "out_of_scope").main)
        assert before is None or before.entry.key != "prison_visits"
    with loaded.begin() as session:
        q1 = ask(session, "bố em tên Nguyễn Văn An ốm nặng muốn về chữa trị thì nhờ ai")
        q2 = ask(session, "bố em ốm nặng muốn về chữa thì nhờ ai ạ")
        entry = entry_by_key(session, "prison_visits")
        assert entry is not None
        add_to_entry(session, open_questions(session, [q1.id, q2.id]), entry, odd, actor="bientap")
    with loaded() as session:
        entry = entry_by_key(session, "prison_visits")
        assert entry is not None and entry.questions[-1] == odd
        assert "Nguyễn Văn An" not in " ".join(entry.questions)
        assert entry.edited_by == "bientap" and len(versions(session, entry)) == 2
        choice = choose(published(session), read(odd, "out_of_scope").main)
        assert choice is not None and choice.entry.key == "prison_visits"
        stored = list(session.scalars(select(QueuedQuestion)))
        assert {q.status for q in stored} == {"done"}
        assert {q.resolution for q in stored} == {"Câu hỏi mẫu của mục prison_visits"}
        log = recent_audit(session)
        assert [e.action for e in log[:2]] == ["queue_to_entry", "entry_saved"]
        assert log[0].detail["rewrite"] == odd and "An" not in log[0].detail["rewrite"]
        with pytest.raises(QueueError, match="đã được xử lý"):
            open_questions(session, [q1.id])


def test_new_entry_training_and_dismiss_close_the_group(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        a = ask(session, "hỏi về chuyện nuôi cá cảnh trong trại")
        b = ask(session, "xin chào lần 2")
        c = ask(session, "một câu khác hẳn")
        assert for_new_entry(session, [a], "nuôi cá cảnh trong trại", actor="bientap")
        with pytest.raises(QueueError, match="Ý định"):
            mark_training(session, [b], "ask_weather", "chào lần nữa", actor="bientap")
        mark_training(session, [b], "greet", "xin chào lần nữa", actor="bientap")
        dismiss(session, [c], actor="bientap")
        assert group_of(session, a.id) is None
    with session_maker() as session:
        rows = {q.text: (q.status, q.resolved_by) for q in session.scalars(select(QueuedQuestion))}
        actions = [e.action for e in recent_audit(session)]
    assert rows == {
        "hỏi về chuyện nuôi cá cảnh trong trại": ("done", "bientap"),
        "xin chào lần 2": ("done", "bientap"),
        "một câu khác hẳn": ("dismissed", "bientap"),
    }
    assert actions[:3] == ["queue_dismissed", "queue_to_training", "queue_to_new_entry"]


def test_export_writes_a_training_file_that_builds(
    session_maker: sessionmaker[Session],
    db_url: str,
    tmp_path: Path,
    app_settings: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with session_maker.begin() as session:
        first = ask(session, "chồng em [tên] hỏi đóng tiền ở đâu")
        second = ask(session, "hỏi lại")
        mark_training(session, [first], "ask_fees", "tiền án phí nộp ở [đâu]", actor="bientap")
        mark_training(session, [second], "ask_fees", "tiền án phí nộp ở (đâu)", actor="bientap")
        third = ask(session, "câu thứ ba")
        mark_training(session, [third], "ask_documents", "cần giấy tờ gì", actor="bientap")
    monkeypatch.setenv("AMNESTY_DATABASE_URL", db_url)
    get_settings.cache_clear()
    out = tmp_path / "nlu" / "from_staff.yml"
    assert main(["export-training", "--output", str(out)]) == 0
    data = yaml.load(out.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    assert data["nlu"] == [
        {"intent": "ask_documents", "examples": "- cần giấy tờ gì\n"},
        {"intent": "ask_fees", "examples": "- tiền án phí nộp ở (đâu)\n"},
    ]
    examples = build(out.parent)
    assert {(e.intent, e.text) for e in examples} >= {("ask_documents", "cần giấy tờ gì")}
    with session_maker() as session:
        assert recent_audit(session)[0].action == "training_exported"


def test_export_refuses_one_text_under_two_intents(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as session:
        a, b = ask(session, "câu một"), ask(session, "câu hai")
        mark_training(session, [a], "greet", "chào bạn", actor="bientap")
        mark_training(session, [b], "goodbye", "Chào bạn", actor="bientap")
        with pytest.raises(QueueError, match="hai ý định"):
            training_yaml(session)


def test_export_refuses_a_text_the_training_files_give_another_intent(
    session_maker: sessionmaker[Session], tmp_path: Path
) -> None:
    (tmp_path / "chitchat.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - chào ad\n',
        encoding="utf-8",
    )
    out = tmp_path / "from_staff.yml"
    with session_maker.begin() as session:
        mark_training(session, [ask(session, "tạm biệt ad")], "goodbye", "chao ad", actor="b")
        with pytest.raises(QueueError, match="same text as an example of greet"):
            export_training(session, out)
    assert not out.exists()


def test_an_empty_export_is_still_a_valid_file(session_maker: sessionmaker[Session]) -> None:
    with session_maker() as session:
        assert yaml.load(training_yaml(session), Loader=yaml.CSafeLoader)["nlu"] == []


def test_forgetting_a_family_and_retention(session_maker: sessionmaker[Session]) -> None:
    old = dt.datetime(2025, 1, 1, tzinfo=UTC)
    with session_maker.begin() as session:
        ask(session, "của gia đình này", family="fam1")
        ask(session, "cũ", at=old)
        ask(session, "mới")
        record_rating(
            session, entry_key="fees_free", rating="unhelpful", channel="web", family="fam1"
        )
        assert forget_family(session, "fam1") == 2
        assert delete_older_than(session, dt.datetime(2026, 1, 1, tzinfo=UTC)) == 1
        assert [q.text for q in list_questions(session)] == ["mới"]
        assert session.scalar(select(AnswerRating.id)) is None


def test_ratings_are_counted_per_entry(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as session:
        for rating in ("helpful", "helpful", "unhelpful"):
            record_rating(session, entry_key="fees_free", rating=rating, channel="zalo")
        record_rating(session, entry_key="prison_visits", rating="unhelpful", channel="web")
        with pytest.raises(ValueError, match="unknown rating"):
            record_rating(session, entry_key="fees_free", rating="meh", channel="web")
        counts = rating_counts(session)
    assert (counts["fees_free"].helpful, counts["fees_free"].unhelpful) == (2, 1)
    assert (counts["prison_visits"].helpful, counts["prison_visits"].unhelpful) == (0, 1)
    assert "other" not in counts


def test_the_examples_in_the_docstrings_hold() -> None:
    result = doctest.testmod(channels_module)
    assert result.attempted >= 1 and result.failed == 0
