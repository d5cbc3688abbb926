"""Loading the reviewable YAML content (``content/*.yml``, ``rounds.yml``, ``laws.yml``).

Loading adds new entries and updates changed ones, but never overwrites an entry that
staff edited in the database since it was last loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.kb.topics import FACETS, MEASURES, ROUND_IDS, ROUND_STATUSES, SOURCE_KINDS, TOPICS
from knowledge.models import Entry, Law, Round

CONTENT_DIR = Path(__file__).resolve().parent / "content"
ROUNDS_FILE = Path(__file__).resolve().parent / "rounds.yml"
LAWS_FILE = Path(__file__).resolve().parent / "laws.yml"
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
    "measure",
    "facet",
    "lead",
)
ROUND_FIELDS = ("id", "name", "status", "decision", "cutoff", "release", "results", "note", "rules")
MAX_LEAD_CHARS = 400
ROUND_ID = re.compile(r"20\d\d(-\d)?")


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
    """Citations with their kind; an article only where the text itself was read."""
    if not isinstance(citations, list) or not citations:
        raise ContentError(f"{where}: 'citations' must be a non-empty list")
    for c in citations:
        if not isinstance(c, dict) or not c.get("document"):
            raise ContentError(f"{where}: each citation needs a 'document': {c!r}")
        kind = c.get("kind", "text")
        if kind not in SOURCE_KINDS:
            raise ContentError(f"{where}: citation kind {kind!r}; use one of {SOURCE_KINDS}")
        if kind not in ("text", "copy") and (c.get("article") or c.get("clause")):
            raise ContentError(f"{where}: an article is cited only for a text that was read: {c!r}")
        if kind in ("press", "secondary") and not c.get("outlet"):
            raise ContentError(f"{where}: a {kind} citation names its outlet: {c!r}")
        if "toàn văn" in str(c.get("article") or ""):
            raise ContentError(f"{where}: 'toàn văn' of a text is not a citation: {c!r}")
    return [{k: str(v) for k, v in c.items() if v is not None} for c in citations]


def _known(where: str, name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ContentError(f"{where}: unknown {name} {value!r}; use one of {allowed}")
    return str(value)


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
    lead = str(raw["lead"] or "").strip()
    if len(lead) > MAX_LEAD_CHARS:
        raise ContentError(f"{where}: the lead must have at most {MAX_LEAD_CHARS} characters")
    citations = _check_citations(where, raw["citations"])
    if raw["verified"] and any(c.get("kind", "text") not in ("text", "copy") for c in citations):
        raise ContentError(f"{where}: 'verified: true' needs every source read in the text itself")
    laws = raw.get("laws") or []
    if not isinstance(laws, list) or not all(isinstance(x, str) for x in laws):
        raise ContentError(f"{where}: 'laws' must be a list of law ids")
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
        "citations": citations,
        "measure": _known(where, "measure", raw["measure"], MEASURES),
        "facet": _known(where, "facet", raw["facet"], FACETS),
        "lead": lead,
        "minors": bool(raw.get("minors", False)),
        "laws": [str(x) for x in laws],
        "position": position,
    }


def read_entries(directory: Path = CONTENT_DIR) -> list[dict[str, Any]]:
    """All entries of the YAML files in ``directory``, validated, in file order."""
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.yml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
        except yaml.YAMLError as exc:
            raise ContentError(f"{path.name}: not valid YAML: {exc}") from None
        for i, raw in enumerate(data.get("entries") or []):
            entry = _entry(f"{path.name} entry {i + 1}", raw, len(entries))
            if entry["key"] in seen:
                raise ContentError(f"{path.name}: key {entry['key']!r} is used twice")
            seen.add(entry["key"])
            entries.append(entry)
    return entries


def _date(where: str, value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ContentError(f"{where}: {value!r} is not a date like 2025-09-01") from None


def _fact(where: str, raw: Any) -> dict[str, Any]:
    """One calendar fact: its value, source and kind of source."""
    if not isinstance(raw, dict) or "value" not in raw or "source" not in raw:
        raise ContentError(f"{where}: needs 'value', 'source' and 'kind'")
    kind = raw.get("kind", "none")
    if kind not in (*SOURCE_KINDS, "none"):
        raise ContentError(f"{where}: unknown kind {kind!r}")
    return {"value": raw["value"], "source": str(raw["source"]), "kind": kind}


def _round_citations(facts: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """The documents of a round as citations: its decisions are known from the press or by
    title only, so no article is cited."""
    citations = []
    for name in ("decision", "guidance", "release"):
        fact = facts[name]
        if fact["value"] and fact["kind"] in SOURCE_KINDS:
            citation = {"document": str(fact["value"]), "kind": fact["kind"]}
            if fact["kind"] in ("press", "secondary"):
                citation["outlet"] = fact["source"]
            citations.append(citation)
    return citations


def _round(where: str, raw: Any, position: int) -> dict[str, Any]:
    missing = [f for f in ROUND_FIELDS if f not in raw]
    if missing:
        raise ContentError(f"{where}: missing {', '.join(missing)}")
    if not ROUND_ID.fullmatch(str(raw["id"])):
        raise ContentError(f"{where}: a round id is a year or year-number, not {raw['id']!r}")
    facts = {
        f: _fact(f"{where}.{f}", raw.get(f)) for f in ("decision", "guidance", "cutoff", "release")
    }
    results = raw["results"] if isinstance(raw["results"], dict) else {}
    cutoff = _date(f"{where}.cutoff", facts["cutoff"]["value"])
    return {
        "id": str(raw["id"]),
        "name": str(raw["name"]),
        "occasion": raw.get("occasion"),
        "status": _known(where, "status", raw["status"], ROUND_STATUSES),
        "decision": str(facts["decision"]["value"] or ""),
        "decision_date": _date(f"{where}.decision.date", raw["decision"].get("date")),
        "guidance": facts["guidance"]["value"],
        "cutoff": f"{cutoff.day}/{cutoff.month}/{cutoff.year}" if cutoff else None,
        "cutoff_date": cutoff,
        "release_decision": facts["release"]["value"],
        "release_date": _date(f"{where}.release.date", raw["release"].get("date")),
        "results": dict(results),
        "sources": {
            name: {k: v for k, v in fact.items() if k != "value"} for name, fact in facts.items()
        },
        "rules": dict(raw["rules"] or {}),
        "verified": False,  # no round decision was read in full (docs/knowledge-format.md)
        "note": str(raw["note"]).strip(),
        "citations": _round_citations(facts),
        "position": position,
    }


def read_rounds(path: Path = ROUNDS_FILE) -> list[dict[str, Any]]:
    """The amnesty rounds of the calendar in ``rounds.yml``, validated."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    return [
        _round(f"{path.name} round {i + 1}", raw, i)
        for i, raw in enumerate(data.get("rounds") or [])
    ]


def read_laws(path: Path = LAWS_FILE) -> list[dict[str, Any]]:
    """The legal texts answers rest on, with their dates (``laws.yml``)."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    laws = []
    for i, raw in enumerate(data.get("laws") or []):
        where = f"{path.name} law {i + 1}"
        laws.append(
            {
                "id": str(raw["id"]),
                "name": str(raw["name"]),
                "in_force": _date(where, raw.get("in_force")),
                "until": _date(where, raw.get("until")),
                "read": _known(where, "read", raw.get("read"), SOURCE_KINDS),
            }
        )
    return laws


def _sync_rows(
    session: Session,
    model: type[Any],
    id_field: str,
    items: list[dict[str, Any]],
    report: SyncReport,
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


def check_laws(entries: list[dict[str, Any]], laws: list[dict[str, Any]]) -> None:
    """ContentError when an entry rests on a law id that ``laws.yml`` does not list."""
    known = {law["id"] for law in laws}
    unknown = sorted({f"{e['key']}: {x}" for e in entries for x in e["laws"] if x not in known})
    if unknown:
        raise ContentError(f"laws.yml lists no such law: {', '.join(unknown)}")


def sync_laws(session: Session, laws: list[dict[str, Any]]) -> None:
    """The table of laws follows laws.yml exactly (it is not edited in the app)."""
    existing = {law.id: law for law in session.scalars(select(Law))}
    for item in laws:
        row = existing.get(item["id"]) or Law(id=item["id"])
        for name, value in item.items():
            setattr(row, name, value)
        session.add(row)


def sync(
    session: Session,
    entries: list[dict[str, Any]],
    rounds: list[dict[str, Any]],
    laws: list[dict[str, Any]] | None = None,
) -> SyncReport:
    """Bring the database up to date with the YAML content; the caller commits."""
    report = SyncReport()
    if laws is not None:
        check_laws(entries, laws)
        sync_laws(session, laws)
    _sync_rows(session, Round, "id", rounds, report)
    _sync_rows(session, Entry, "key", entries, report)
    session.flush()
    return report
