"""The knowledge base content (YAML) and how it is loaded into the database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from knowledge.kb.loader import ContentError, read_entries, read_rounds, sync
from knowledge.kb.topics import TOPICS
from knowledge.models import Entry

ENTRIES = read_entries()
ROUNDS = read_rounds()


def test_every_topic_has_answers() -> None:
    counts = {topic: sum(e["topic"] == topic for e in ENTRIES) for topic in TOPICS}
    assert all(n >= 3 for n in counts.values()), counts


def test_every_round_is_described() -> None:
    assert {r["id"] for r in ROUNDS} == {"2024", "2025-1", "2025-2", "2026"}
    (r2026,) = [r for r in ROUNDS if r["id"] == "2026"]
    assert not r2026["verified"]
    assert "457/2026/QĐ-CTN" in r2026["decision"]


def test_official_numbers_are_used() -> None:
    documents = " ".join(c["document"] for e in ENTRIES for c in e["citations"])
    assert "30/2018/QH14" in documents
    assert "758/2024/QĐ-CTN" in documents
    assert "52/2019/NĐ-CP" in documents


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["key"] for e in ENTRIES])
def test_entry_is_usable(entry: dict) -> None:
    assert len(entry["questions"]) >= 4
    assert len(entry["answer"]) <= 1000
    # No invented phone numbers: no run of 8 or more digits (spaces and dots allowed).
    assert not re.search(r"(?:\d[ .]?){8,}", entry["answer"]), "looks like a phone number"
    leftover = set(re.findall(r"\{(\w+)\}", entry["answer"])) - {"department", "contact"}
    assert not leftover


@pytest.mark.parametrize(
    "entry", [e for e in ENTRIES if e["topic"] == "ask_fees"], ids=lambda e: e["key"]
)
def test_money_answers_carry_the_warning(entry: dict) -> None:
    answer = entry["answer"].lower()
    assert "thi hành án dân sự" in answer
    assert "biên lai" in answer


def test_bad_topic_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "entries:\n  - {key: x, topic: ask_weather, title: t, round: law, verified: true,\n"
        "     checked: 2026-11-29, questions: [a], answer: b,\n"
        "     citations: [{document: d, article: a}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match="unknown topic 'ask_weather'"):
        read_entries(tmp_path)


def test_missing_citation_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "entries:\n  - {key: x, topic: ask_fees, title: t, round: law, verified: true,\n"
        "     checked: 2026-11-29, questions: [a], answer: b, citations: []}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match="citations"):
        read_entries(tmp_path)


def test_loading_twice_changes_nothing(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as session:
        first = sync(session, ENTRIES, ROUNDS)
    with session_maker.begin() as session:
        second = sync(session, ENTRIES, ROUNDS)
    assert len(first.added) == len(ENTRIES) + len(ROUNDS)
    assert second.added == second.updated == [] and second.unchanged == len(first.added)


def test_yaml_changes_update_but_never_overwrite_staff_edits(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        sync(session, ENTRIES, ROUNDS)
    with session_maker.begin() as session:
        edited = session.scalar(select(Entry).where(Entry.key == ENTRIES[0]["key"]))
        edited.answer = "Câu trả lời cán bộ đã sửa."
        edited.edited_by = "canbo1"
    changed = [dict(e, answer=e["answer"] + " (sửa trong YAML)") for e in ENTRIES[:2]]
    with session_maker.begin() as session:
        report = sync(session, changed + ENTRIES[2:], ROUNDS)
    assert report.kept_staff_edits == [ENTRIES[0]["key"]]
    assert report.updated == [ENTRIES[1]["key"]]
    with session_maker() as session:
        rows = {e.key: e.answer for e in session.scalars(select(Entry))}
    assert rows[ENTRIES[0]["key"]] == "Câu trả lời cán bộ đã sửa."
    assert rows[ENTRIES[1]["key"]].endswith("(sửa trong YAML)")
