"""Loading the reviewable YAML content (``knowledge/kb/content/*.yml``, ``rounds.yml``).

Loading adds new entries and updates changed ones, but never overwrites an entry that
staff edited in the database since it was last loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.kb.topics import ROUND_IDS, TOPICS
from knowledge.models import Entry, Round

CONTENT_DIR = Path(__file__).resolve().parent / "content"
ROUNDS_FILE = Path(__file__).resolve().parent / "rounds.yml"
MAX_ANSWER_CHARS = 1500

ENTRY_FIELDS = (
    "key",
    "topic",
    "title",
    "round",
    "verified",
    "checked",
    "questions",
    "answer",
    "citations",
)
ROUND_FIELDS = ("id", "name", "decision", "verified", "note", "citations")


class ContentError(ValueError):
    """The YAML content is not valid; the message says which file, entry and field."""


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept_staff_edits: list[str] = field(default_factory=list)
    unchanged: int = 0

    def __str__(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.kept_staff_edits)} kept as edited by staff, {self.unchanged} unchanged"
        )


def _digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _check_citations(where: str, citations: Any) -> list[dict[str, str]]:
    if not isinstance(citations, list) or not citations:
        raise ContentError(f"{where}: 'citations' must be a non-empty list")
    for c in citations:
        if not isinstance(c, dict) or not c.get("document") or not c.get("article"):
            raise ContentError(f"{where}: each citation needs 'document' and 'article': {c!r}")
    return [{k: str(v) for k, v in c.items() if v is not None} for c in citations]


def _entry(where: str, raw: Any, position: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ContentError(f"{where}: an entry must be a mapping")
    missing = [f for f in ENTRY_FIELDS if f not in raw]
    if missing:
        raise ContentError(f"{where} ({raw.get('key', '?')}): missing {', '.join(missing)}")
    where = f"{where} ({raw['key']})"
    if raw["topic"] not in TOPICS:
        raise ContentError(f"{where}: unknown topic {raw['topic']!r}; use one of {TOPICS}")
    if str(raw["round"]) not in ROUND_IDS:
        raise ContentError(f"{where}: unknown round {raw['round']!r}; use one of {ROUND_IDS}")
    questions = raw["questions"]
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise ContentError(f"{where}: 'questions' must be a list of strings")
    answer = str(raw["answer"]).strip()
    if not answer or len(answer) > MAX_ANSWER_CHARS:
        raise ContentError(f"{where}: the answer must have 1 to {MAX_ANSWER_CHARS} characters")
    checked = raw["checked"]
    if not isinstance(checked, dt.date):
        try:
            checked = dt.date.fromisoformat(str(checked))
        except ValueError:
            raise ContentError(f"{where}: 'checked' must be a date like 2026-11-29") from None
    return {
        "key": str(raw["key"]),
        "topic": raw["topic"],
        "title": str(raw["title"]),
        "round": str(raw["round"]),
        "verified": bool(raw["verified"]),
        "checked": checked,
        "questions": [q.strip() for q in questions if q.strip()],
        "answer": answer,
        "citations": _check_citations(where, raw["citations"]),
        "position": position,
    }


def read_entries(directory: Path = CONTENT_DIR) -> list[dict[str, Any]]:
    """All entries of the YAML files in ``directory``, validated, in file order."""
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ContentError(f"{path.name}: not valid YAML: {exc}") from None
        for i, raw in enumerate(data.get("entries") or []):
            entry = _entry(f"{path.name} entry {i + 1}", raw, len(entries))
            if entry["key"] in seen:
                raise ContentError(f"{path.name}: key {entry['key']!r} is used twice")
            seen.add(entry["key"])
            entries.append(entry)
    return entries


def read_rounds(path: Path = ROUNDS_FILE) -> list[dict[str, Any]]:
    """The amnesty rounds described in ``rounds.yml``, validated."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rounds = []
    for i, raw in enumerate(data.get("rounds") or []):
        where = f"{path.name} round {i + 1}"
        missing = [f for f in ROUND_FIELDS if f not in raw]
        if missing:
            raise ContentError(f"{where}: missing {', '.join(missing)}")
        if str(raw["id"]) not in ROUND_IDS:
            raise ContentError(f"{where}: unknown round id {raw['id']!r}")
        rounds.append(
            {
                "id": str(raw["id"]),
                "name": str(raw["name"]),
                "decision": str(raw["decision"]),
                "guidance": raw.get("guidance"),
                "release_decision": raw.get("release_decision"),
                "cutoff": None if raw.get("cutoff") is None else str(raw["cutoff"]),
                "verified": bool(raw["verified"]),
                "note": str(raw["note"]).strip(),
                "citations": _check_citations(where, raw["citations"]),
                "position": i,
            }
        )
    return rounds


def _sync_rows(
    session: Session, model: type, id_field: str, items: list[dict[str, Any]], report: SyncReport
) -> None:
    existing = {getattr(row, id_field): row for row in session.scalars(select(model))}
    for item in items:
        digest = _digest(item)
        row = existing.get(item[id_field])
        if row is None:
            session.add(model(**item, source_hash=digest))
            report.added.append(item[id_field])
        elif row.source_hash == digest:
            report.unchanged += 1
        elif row.edited_by is not None:
            report.kept_staff_edits.append(item[id_field])
        else:
            for name, value in item.items():
                setattr(row, name, value)
            row.source_hash = digest
            report.updated.append(item[id_field])


def sync(
    session: Session, entries: list[dict[str, Any]], rounds: list[dict[str, Any]]
) -> SyncReport:
    """Bring the database up to date with the YAML content; the caller commits."""
    report = SyncReport()
    _sync_rows(session, Round, "id", rounds, report)
    _sync_rows(session, Entry, "key", entries, report)
    session.flush()
    return report
