"""How an entry becomes messages: citations, round note, reminders, phone-sized parts."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from knowledge.kb.answers import DISCLAIMER, MAX_MESSAGE_CHARS, render, split_message
from knowledge.kb.queries import entry_by_key, get_round


def test_split_message_keeps_parts_short_and_loses_nothing() -> None:
    text = "\n\n".join(["Câu thứ nhất rất dài. " * 30, "Đoạn hai.", "x" * 50])
    parts = split_message(text, limit=200)
    assert all(len(p) <= 200 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_render_cites_sources_and_adds_round_and_reminder(loaded: sessionmaker[Session]) -> None:
    with loaded() as session:
        entry = entry_by_key(session, "conditions_general")
        messages = render(
            entry,
            department="Phòng PC10",
            contact="gọi cán bộ",
            current_round=get_round(session, "2026"),
            case_specific=True,
        )
    text = "\n".join(messages)
    assert "Nguồn:" in text and "30/2018/QH14" in text and "457/2026/QĐ-CTN" in text
    assert DISCLAIMER in text
    assert "chưa được kiểm chứng" in text or "chưa kiểm chứng" in text
    assert "{department}" not in text and "{contact}" not in text
    assert all(len(m) <= MAX_MESSAGE_CHARS * 1.5 for m in messages)
