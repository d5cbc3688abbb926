"""How an entry becomes messages: citations, the calendar's "now", reminders, phone-sized parts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from knowledge.kb.answers import MAX_MESSAGE_CHARS, UNVERIFIED, UNVERIFIED_OUTSIDE, fill
from knowledge.kb.choose import Pick, published
from knowledge.kb.compose import compose
from knowledge.kb.queries import entry_by_key
from knowledge.kb.reading import Question
from knowledge.kb.rounds import calendar, now_line


def test_an_entry_alone_cites_its_sources_with_the_calendar_and_reminder(
    loaded: sessionmaker[Session],
) -> None:
    with loaded() as session:
        entry = entry_by_key(session, "conditions_general")
        assert entry is not None and not entry.verified
        now = now_line(calendar(session), dt.date(2026, 12, 6))
        question = Question(entry.title, entry.measure, entry.facet, True)
        composed = compose(
            [Pick(question, entry, 1.0)], department="Phòng PC10", contact="gọi cán bộ", now=now
        )
    text = "\n".join(composed.messages)
    assert composed.entries == ["conditions_general"]
    assert entry.lead.split(".")[0] in composed.messages[0]
    assert now in text and "457/2026/QĐ-CTN" in text  # the newest round, as the calendar says
    assert fill(UNVERIFIED, "Phòng PC10", "gọi cán bộ") in composed.messages[-1]
    assert "Nguồn:" in composed.messages[-1] and "30/2018/QH14" in composed.messages[-1]
    assert "{department}" not in text and "{contact}" not in text
    assert all(len(m) <= MAX_MESSAGE_CHARS for m in composed.messages)


def test_the_source_line_names_each_document_once_with_its_articles() -> None:
    from knowledge.kb.answers import citation_line

    code = "Bộ luật Hình sự 2015"
    line = citation_line(
        [
            {"document": code, "article": "Điều 63", "clause": "khoản 1, 3"},
            {"document": "Luật Đặc xá số 30/2018/QH14"},
            {"document": code, "article": "Điều 64"},
            {"document": code, "article": "Điều 63"},  # already cited with its clauses
            {"document": code, "article": "Điều 64"},
            # a rule's source in one string, under the short name of the same law
            {"document": "Luật Đặc xá 2018, Điều 11 khoản 1 điểm c; Điều 14 khoản 3"},
            # articles listed in one string are each named once ("Điều 14, Điều 15")
            {"document": "Luật Đặc xá 2018, Điều 14 khoản 3, Điều 15"},
        ]
    )
    assert line == (
        "Nguồn: Bộ luật Hình sự 2015, Điều 63 khoản 1, 3, Điều 64; Luật Đặc xá số 30/2018/QH14, "
        "Điều 11 khoản 1 điểm c, Điều 14 khoản 3, Điều 15."
    )


def test_an_unverified_answer_about_record_clearing_does_not_send_the_family_to_a_camp(
    loaded: sessionmaker[Session],
) -> None:
    with loaded() as session:
        entry = next(e for e in published(session) if e.measure == "record_clearing")
        entry.verified = False  # in this scratch database only
        question = Question(entry.title, entry.measure, entry.facet, True)
        composed = compose([Pick(question, entry, 1.0)], department="Phòng PC10", contact="")
    text = "\n".join(composed.messages)
    assert fill(UNVERIFIED_OUTSIDE, "Phòng PC10", "") in text
    assert "trại giam nơi người thân chấp hành án" not in text
