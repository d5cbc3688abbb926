"""Queries the assistant needs; the caller passes (and owns) the session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.models import Entry, Round


def get_round(session: Session, round_id: str) -> Round | None:
    return session.get(Round, round_id)


def entry_by_key(session: Session, key: str) -> Entry | None:
    return session.scalar(select(Entry).where(Entry.key == key))
