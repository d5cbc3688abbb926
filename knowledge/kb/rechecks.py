"""The staff's "to re-check" list: entries whose legal texts took effect or ended since they
were last checked against them.

Each entry records the texts it rests on (``Entry.laws``, ids of ``Law`` rows). On the day one
of them takes effect (``in_force``) or ends (``until``), every published entry resting on it
that was checked before that day gets a :class:`Recheck` row with the reason, once: the row is
unique per (entry, law, date) and is inserted so that a duplicate is ignored, so several
gateways flagging at the same moment add it once. Saving the entry with a check date on or
after the change closes it. The caller passes (and owns, and commits) the session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.clock import utc_now
from knowledge.db import rows_matched, session_factory
from knowledge.models import Entry, Law, Recheck

MAX_REASON_CHARS = 400


@dataclass(frozen=True)
class Change:
    """A legal text taking effect or ending on ``day``."""

    law: str
    day: dt.date
    reason: str


def _day(value: dt.date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def changes_until(laws: Iterable[Law], today: dt.date) -> list[Change]:
    """Every date on or before ``today`` on which one of ``laws`` took effect or ended."""
    changes = []
    for law in laws:
        if law.in_force is not None and law.in_force <= today:
            reason = f"{law.name} có hiệu lực từ {_day(law.in_force)}"
            changes.append(Change(law.id, law.in_force, reason))
        if law.until is not None and law.until <= today:
            reason = f"{law.name} hết hiệu lực (áp dụng đến hết ngày {_day(law.until)})"
            changes.append(Change(law.id, law.until, reason))
    return changes


def _insert_once(session: Session, row: dict[str, object]) -> bool:
    """Insert ``row`` unless the same (entry, law, date) is there; True if this call added it."""
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        stmt = (
            module.insert(Recheck)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["entry_key", "law_id", "changed_on"])
            .returning(Recheck.id)
        )
        return session.execute(stmt).first() is not None  # no row back: it was there
    try:  # another database: let the unique constraint refuse the duplicate
        with session.begin_nested():
            session.add(Recheck(**row))
        return True
    except IntegrityError:
        return False


def flag_law_changes(session: Session, today: dt.date) -> int:
    """Add the re-checks due by ``today``; the number added (0 when all were already there).

    Also closes open re-checks of entries since checked on or after the change (an entry
    updated by reloading the YAML, for instance).
    """
    changes = changes_until(session.scalars(select(Law)), today)
    added = 0
    if changes:
        entries = session.scalars(select(Entry).where(Entry.status == "published")).all()
        known = set(
            session.execute(select(Recheck.entry_key, Recheck.law_id, Recheck.changed_on)).all()
        )
        now = utc_now()
        for change in changes:
            for entry in entries:
                if change.law not in (entry.laws or []) or entry.checked >= change.day:
                    continue
                if (entry.key, change.law, change.day) in known:
                    continue
                row = {
                    "entry_key": entry.key,
                    "law_id": change.law,
                    "changed_on": change.day,
                    "reason": change.reason[:MAX_REASON_CHARS],
                    "flagged_at": now,
                }
                added += _insert_once(session, row)
    _close_checked_since(session)
    return added


def _close_checked_since(session: Session) -> None:
    checked = select(Entry.checked).where(Entry.key == Recheck.entry_key).scalar_subquery()
    session.execute(
        update(Recheck)
        .where(Recheck.done_at.is_(None), Recheck.changed_on <= checked)
        .values(done_at=utc_now())
        .execution_options(synchronize_session=False)
    )


def close_rechecks(session: Session, entry: Entry) -> int:
    """Close the open re-checks of ``entry`` that its check date now covers; how many."""
    result = session.execute(
        update(Recheck)
        .where(
            Recheck.entry_key == entry.key,
            Recheck.done_at.is_(None),
            Recheck.changed_on <= entry.checked,
        )
        .values(done_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    return rows_matched(result)


def open_rechecks(session: Session, keys: Iterable[str] | None = None) -> dict[str, list[str]]:
    """The reasons each entry is to be re-checked, by entry key (oldest change first)."""
    stmt = (
        select(Recheck.entry_key, Recheck.reason)
        .where(Recheck.done_at.is_(None))
        .order_by(Recheck.changed_on, Recheck.id)
    )
    if keys is not None:
        stmt = stmt.where(Recheck.entry_key.in_(list(keys)))
    reasons: dict[str, list[str]] = {}
    for key, reason in session.execute(stmt):
        reasons.setdefault(key, []).append(reason)
    return reasons


def open_keys() -> Select[tuple[str]]:
    """The keys of entries with an open re-check, as a subquery for filtering lists."""
    return select(Recheck.entry_key).where(Recheck.done_at.is_(None))


def flag_database(database_url: str, today: dt.date) -> int:
    """Flag what is due by ``today`` in the database at ``database_url``, and commit."""
    with session_factory(database_url).begin() as session:
        return flag_law_changes(session, today)
