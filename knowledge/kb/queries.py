"""Queries the assistant needs; the caller passes (and owns) the session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.kb.ranking import rank
from knowledge.models import Entry, Round

# Below this BM25 score a pointer answer (out_of_scope) is not a match: the generic reply is used.
MIN_POINTER_SCORE = 1.0


@dataclass(frozen=True)
class Choice:
    entry: Entry
    score: float


def published_entries(session: Session, topic: str) -> list[Entry]:
    stmt = (
        select(Entry)
        .where(Entry.topic == topic, Entry.status == "published")
        .order_by(Entry.position, Entry.id)
    )
    return list(session.scalars(stmt))


def choose_entry(
    session: Session, topic: str, text: str, current_round: str | None = None
) -> Choice | None:
    """The published entry of ``topic`` whose example questions best match ``text``.

    For ``out_of_scope`` only a real match counts; for other topics the first entry
    is the default when nothing matches.
    """
    ranked = rank(published_entries(session, topic), text, current_round)
    if not ranked:
        return None
    best = ranked[0]
    if topic == "out_of_scope" and best.score < MIN_POINTER_SCORE:
        return None
    return Choice(best.entry, best.score)  # type: ignore[arg-type]


def get_round(session: Session, round_id: str) -> Round | None:
    return session.get(Round, round_id)


def entry_by_key(session: Session, key: str) -> Entry | None:
    return session.scalar(select(Entry).where(Entry.key == key))
