"""Families deleted on request, remembered by salted key so every host can finish the job.

Forgetting a family runs on one host; a draft of that family may still wait in the feedback
spool of another (an action server's, written while the database was down). Each host's spool
worker checks this table before storing a draft and deletes, instead, the drafts of a family
forgotten after they were written. The key is salted (the shared salt of the queue), so the
table holds no sender id; rows are deleted after the retention period.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from knowledge.clock import as_utc, utc_now
from knowledge.db import rows_matched
from knowledge.kb.queue import family_key, shared_salt
from knowledge.models import ForgottenFamily


def key_of(session: Session, sender_id: str) -> str:
    """The salted key of ``sender_id`` (the same on every host)."""
    return family_key(shared_salt(session), sender_id)


def remember(session: Session, sender_id: str, now: dt.datetime | None = None) -> str:
    """Note that ``sender_id`` was forgotten now; returns its key."""
    family = key_of(session, sender_id)
    row = session.get(ForgottenFamily, family)
    if row is None:
        session.add(ForgottenFamily(family=family, forgotten_at=now or utc_now()))
    else:
        row.forgotten_at = now or utc_now()
    session.flush()
    return family


def was_forgotten(session: Session, sender_id: str, written: dt.datetime) -> bool:
    """Whether ``sender_id`` was forgotten after something of theirs was ``written``."""
    at = session.scalar(
        select(ForgottenFamily.forgotten_at).where(
            ForgottenFamily.family == key_of(session, sender_id)
        )
    )
    return at is not None and as_utc(at) >= written


def delete_older_than(session: Session, before: dt.datetime) -> int:
    """Retention: forget the forgetting (no spool keeps a draft that long)."""
    result = session.execute(delete(ForgottenFamily).where(ForgottenFamily.forgotten_at < before))
    return rows_matched(result)
