"""The knowledge base content (YAML) and how it is loaded into the database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from knowledge.kb.loader import ContentError, read_entries, read_laws, read_rounds, sync
from knowledge.kb.topics import MEASURES, TOPICS
from knowledge.models import Entry

ENTRIES = read_entries()
ROUNDS = read_rounds()
LAWS = {law["id"]: law for law in read_laws()}
MAX_ANSWER = 1100
MAX_LEAD = 300


def test_every_topic_has_answers() -> None:
    counts = {topic: sum(e["topic"] == topic for e in ENTRIES) for topic in TOPICS}
    assert all(n >= 3 for n in counts.values()), counts


def test_every_measure_has_answers() -> None:
    counts = {m: sum(e["measure"] == m for e in ENTRIES) for m in MEASURES}
    assert all(n >= 1 for n in counts.values()), counts


def test_every_round_is_on_the_calendar_with_its_status() -> None:
    assert {r["id"] for r in ROUNDS} == {"2024", "2025-1", "2025-2", "2026"}
    (r2026,) = [r for r in ROUNDS if r["id"] == "2026"]
    assert not r2026["verified"] and r2026["status"] == "unknown"
    assert "457/2026/QĐ-CTN" in r2026["decision"] and r2026["release_date"] is None
    assert sum(r["results"]["people"] for r in ROUNDS if r["id"].startswith("2025")) == 22081
    assert all(r["status"] == "completed" for r in ROUNDS if r["id"] != "2026")


def test_official_numbers_are_used() -> None:
    documents = " ".join(c["document"] for e in ENTRIES for c in e["citations"])
    assert "30/2018/QH14" in documents
    assert "758/2024/QĐ-CTN" in documents
    assert "52/2019/NĐ-CP" in documents


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["key"] for e in ENTRIES])
def test_entry_is_usable(entry: dict) -> None:
    assert len(entry["questions"]) >= 4
    assert len(entry["answer"]) <= MAX_ANSWER and 0 < len(entry["lead"]) <= MAX_LEAD
    assert all(law in LAWS for law in entry["laws"])
    # No invented phone numbers: no run of 8 or more digits (spaces and dots allowed).
    assert not re.search(r"(?:\d[ .]?){8,}", entry["answer"]), "looks like a phone number"
    leftover = set(re.findall(r"\{(\w+)\}", entry["answer"])) - {"department", "contact"}
    assert not leftover


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["key"] for e in ENTRIES])
def test_sources_are_honest(entry: dict) -> None:
    """An article is cited only for a text that was read; "toàn văn" of an unread text is no
    citation; an entry is verified only when every source is the text itself."""
    for citation in entry["citations"]:
        assert "toàn văn" not in citation.get("article", "")
        if citation["kind"] in ("press", "secondary", "listing"):
            assert "article" not in citation and "clause" not in citation, citation
        if citation["kind"] in ("press", "secondary"):
            assert citation.get("outlet"), citation
    if entry["verified"]:
        assert all(c["kind"] in ("text", "copy") for c in entry["citations"])
        assert "chưa kiểm chứng" not in entry["answer"] + entry["lead"]


def test_a_press_only_citation_marked_verified_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "entries:\n  - {key: x, topic: ask_fees, measure: amnesty, facet: money, title: t,\n"
        "     round: law, verified: true, checked: 2026-11-29, questions: [a], lead: l,\n"
        "     answer: b, citations: [{document: d, kind: press, outlet: VnExpress}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match="verified"):
        read_entries(tmp_path)


def test_an_article_of_an_unread_text_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "entries:\n  - {key: x, topic: ask_fees, measure: amnesty, facet: money, title: t,\n"
        "     round: law, verified: false, checked: 2026-11-29, questions: [a], lead: l,\n"
        "     answer: b, citations: [{document: QĐ 457, article: toàn văn, kind: listing}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match="article"):
        read_entries(tmp_path)


def test_the_law_in_force_is_reflected() -> None:
    """The review's currency points: prison life under Luật 127/2025 (from 01/7/2026), civil
    judgments under Luật 106/2025, juveniles under Luật 59/2024, Kon Tum in Quảng Ngãi."""
    text = {e["key"]: e["lead"] + e["answer"] for e in ENTRIES}
    rests = {e["key"]: set(e["laws"]) for e in ENTRIES}
    assert "lthahs-2025" in rests["prison_visits"] and "01/7/2026" in text["prison_visits"]
    assert any("luat-thads-2025" in laws for laws in rests.values())
    assert any(e["minors"] and "luat-59-2024" in e["laws"] for e in ENTRIES)
    assert "Quảng Ngãi" in text["region_kon_tum"]
    general = text["conditions_general"]
    assert "đồng ý" in general  # H1: a private victim's consent when only partly paid


def test_bad_topic_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "entries:\n  - {key: x, topic: ask_weather, measure: amnesty, facet: money, title: t,\n"
        "     round: law, verified: true, checked: 2026-11-29, questions: [a], lead: l,\n"
        "     answer: b, citations: [{document: d, article: a, kind: text}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match="unknown topic 'ask_weather'"):
        read_entries(tmp_path)


def test_missing_citation_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "entries:\n  - {key: x, topic: ask_fees, measure: amnesty, facet: money, title: t,\n"
        "     round: law, verified: true, checked: 2026-11-29, questions: [a], lead: l,\n"
        "     answer: b, citations: []}\n",
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
        assert edited is not None
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


def test_every_entry_label_of_the_held_out_sets_names_an_existing_entry() -> None:
    """A renamed entry must not leave the held-out labels pointing at nothing."""
    heldout = Path(__file__).resolve().parents[1] / "heldout"
    keys = {e["key"] for e in ENTRIES} | {"none"}
    labelled = yaml.load(
        (heldout / "entries.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
    )["items"]
    real_style = yaml.load(
        (heldout / "real_style.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
    )["items"]
    used = {k for row in labelled for k in row["keys"]}
    used |= {k for row in real_style for q in row["questions"] for k in q["entries"]}
    assert used - keys == set()


def test_no_example_question_is_saved_under_two_entries() -> None:
    """A message that is one of an entry's example questions goes to that entry at once
    (knowledge/kb/choose.py), so the same question under two entries decides by file order."""
    from knowledge.kb.choose import _words

    first: dict[tuple[str, ...], str] = {}
    clashes = []
    for entry in read_entries():
        for question in entry["questions"]:
            words = _words(question)
            if len(words) >= 3 and first.setdefault(words, entry["key"]) != entry["key"]:
                clashes.append(f"{first[words]} / {entry['key']}: {question}")
    assert not clashes
