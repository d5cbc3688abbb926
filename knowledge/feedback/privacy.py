"""Personal data: forgetting one family on request, and the retention period for everyone else.

Our own tables go through the caller's session; Rasa's tracker store (its ``events`` table,
as Rasa 3.6's ``SQLTrackerStore`` creates it) is reached by URL, since Rasa owns that database.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    Column,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from knowledge.channels import forget_sender
from knowledge.db import create_schema, engine_for, session_factory
from knowledge.feedback.items import FINAL_STATUSES
from knowledge.feedback.spool import Spool, spool_directory
from knowledge.kb import queue
from knowledge.masking import mask
from knowledge.models import FeedbackEvent, FeedbackItem
from settings import Settings

logger = logging.getLogger(__name__)

RETENTION_ACTOR = "retention"

# Only the columns we filter on: Rasa creates and owns the table.
_events = Table(
    "events",
    MetaData(),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)


def forget_family(session: Session, sender_id: str) -> int:
    """Delete every feedback item of ``sender_id`` and its history; returns the items deleted."""
    ids = select(FeedbackItem.id).where(FeedbackItem.sender_id == sender_id)
    session.execute(delete(FeedbackEvent).where(FeedbackEvent.item_id.in_(ids)))
    result = session.execute(
        delete(FeedbackItem).where(FeedbackItem.sender_id == sender_id),
        execution_options={"synchronize_session": "fetch"},
    )
    session.flush()
    count = result.rowcount or 0
    logger.info("Forgot %d feedback item(s) of one sender", count)
    return count


def apply_retention(session: Session, now: dt.datetime, days: int) -> int:
    """Clear the contact details of items closed or rejected more than ``days`` ago.

    The contact lines of the conversation excerpt are masked too (a family types its phone
    number into the chat). Returns the number of items changed.
    """
    cutoff = now - dt.timedelta(days=days)
    finished = (
        select(FeedbackEvent.item_id)
        .where(
            FeedbackEvent.kind == "status",
            FeedbackEvent.to_status.in_(FINAL_STATUSES),
            FeedbackEvent.at < cutoff,
        )
        .scalar_subquery()
    )
    items = session.scalars(
        select(FeedbackItem).where(
            FeedbackItem.status.in_(FINAL_STATUSES),
            FeedbackItem.id.in_(finished),
            (FeedbackItem.contact_name.is_not(None)) | (FeedbackItem.contact_phone.is_not(None)),
        )
    ).all()
    for item in items:
        item.contact_name = None
        item.contact_phone = None
        item.excerpt = [_masked_turn(turn) for turn in item.excerpt or []]
        session.add(
            FeedbackEvent(
                item=item,
                at=now,
                actor=RETENTION_ACTOR,
                kind="note",
                note=f"Đã xoá thông tin liên hệ sau thời hạn lưu giữ {days} ngày.",
            )
        )
    session.flush()
    logger.info("Retention: cleared the contact details of %d feedback item(s)", len(items))
    return len(items)


def _masked_turn(turn: object) -> object:
    if isinstance(turn, dict) and isinstance(turn.get("text"), str):
        return {**turn, "text": mask(turn["text"])}
    return turn


def forget_conversation(tracker_url: str, sender_id: str) -> int:
    """Delete the conversation of ``sender_id`` from Rasa's tracker store; returns the rows."""
    return _delete_events(tracker_url, _events.c.sender_id == sender_id)


def purge_conversations(tracker_url: str, older_than: dt.datetime) -> int:
    """Delete tracker events from before ``older_than``; returns the rows deleted."""
    if older_than.tzinfo is None:
        raise ValueError("older_than must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return _delete_events(tracker_url, _events.c.timestamp < older_than.timestamp())


def _delete_events(tracker_url: str, condition: object) -> int:
    engine = _tracker_engine(tracker_url)
    if engine is None:
        return 0
    try:
        if not inspect(engine).has_table("events"):
            return 0
        with engine.begin() as conn:
            count = conn.execute(delete(_events).where(condition)).rowcount or 0  # type: ignore[arg-type]
    finally:
        engine.dispose()
    logger.info("Deleted %d event(s) from the tracker store", count)
    return count


def _tracker_engine(tracker_url: str) -> Engine | None:
    """An engine on Rasa's database, or None when its SQLite file does not exist yet."""
    url = make_url(tracker_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:" or not Path(url.database).exists():
            return None
        return create_engine(url, connect_args={"timeout": 15})
    if backend == "postgresql":
        if url.drivername == "postgresql":
            # Rasa's endpoints name no driver; ours is psycopg 3.
            url = url.set(drivername="postgresql+psycopg")
        return create_engine(url)
    raise ValueError(
        f"The tracker store URL must be sqlite:/// or postgresql://, not {backend}: "
        "check AMNESTY_TRACKER_URL"
    )


@dataclass(frozen=True)
class Forgotten:
    """What was deleted about one family."""

    items: int
    spooled: int
    tracker_events: int
    channel_rows: int = 0  # deliveries, messages kept while Rasa was down, undelivered replies
    queued: int = 0  # unanswered questions and ratings in the staff's queue


def forget_everywhere(settings: Settings, sender_id: str) -> Forgotten:
    """Forget ``sender_id`` everywhere: feedback and channel state in our database, the
    feedback spool and Rasa's tracker store. The command, the admin action and Zalo's
    ``user_withdraw`` all call this."""
    create_schema(engine_for(settings.database_url))
    with session_factory(settings.database_url).begin() as session:
        items = forget_family(session, sender_id)
        channel_rows = forget_sender(session, sender_id)
        family = queue.family_key(queue.family_salt(settings.var_dir), sender_id)
        queued = queue.forget_family(session, family)
    spooled = Spool(spool_directory(settings)).forget(sender_id)
    events = forget_conversation(settings.tracker_url, sender_id)
    return Forgotten(items, spooled, events, channel_rows, queued)


def retention_everywhere(settings: Settings, now: dt.datetime) -> tuple[int, int]:
    """Apply the retention period; returns (items whose contact was cleared, events purged)."""
    days = settings.retention_days
    create_schema(engine_for(settings.database_url))
    with session_factory(settings.database_url).begin() as session:
        items = apply_retention(session, now, days)
        queue.delete_older_than(session, now - dt.timedelta(days=days))
    events = purge_conversations(settings.tracker_url, now - dt.timedelta(days=days))
    return items, events


def command(settings: Settings, name: str, sender_id: str | None = None) -> int:
    """Run ``python -m knowledge forget|retention|drain-spool``; returns the exit status."""
    try:
        if name == "forget":
            if not sender_id:
                print("Give the sender id to forget, e.g. zalo:123.", file=sys.stderr)
                return 2
            done = forget_everywhere(settings, sender_id)
            print(
                f"Forgot {sender_id}: {done.items} feedback item(s), {done.spooled} spooled "
                f"draft(s), {done.tracker_events} conversation event(s)."
            )
        elif name == "retention":
            items, events = retention_everywhere(settings, dt.datetime.now(dt.UTC))
            print(
                f"Retention ({settings.retention_days} days): contact details cleared on "
                f"{items} item(s), {events} old conversation event(s) purged."
            )
        elif name == "drain-spool":
            create_schema(engine_for(settings.database_url))
            spool = Spool(spool_directory(settings))
            stored = spool.drain(session_factory(settings.database_url))
            print(f"Stored {stored} spooled feedback item(s); {len(spool.files())} still waiting.")
        else:
            return 2
    except (OperationalError, InterfaceError) as exc:
        print(
            f"The database cannot be reached ({exc.__class__.__name__}): check "
            "AMNESTY_DATABASE_URL / AMNESTY_TRACKER_URL and that the server runs, then retry.",
            file=sys.stderr,
        )
        return 1
    return 0
