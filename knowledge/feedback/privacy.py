"""Personal data: forgetting one family on request, and the retention period for everyone else.

Our own tables go through the caller's session; Rasa's tracker store (its ``events`` table,
as Rasa 3.6's ``SQLTrackerStore`` creates it) is reached by URL, since Rasa owns that database.

What a family leaves, and where (review 2026-12, M8/M9): feedback items and their history
(words, answer, contact, sender id, notes), channel rows (deliveries seen, kept messages,
undelivered and waiting replies), queued questions and ratings (by salted key), the buttons
offered to it (Redis), Rasa's conversation, and files on each host: the feedback spool (and
its ``broken/``) and the channel events kept while the database was down (``received/``).
Forgetting deletes all of it here; other hosts' spools drop the family's drafts through the
``forgotten_family`` table. Retention deletes or anonymises all of it after
``retention_days``, including the audit log's client addresses and attempted usernames and
items that were never closed. Both write one audit row, in the same transaction.

Neither migrates the schema: that happens at process start and in the command line.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import redis
from sqlalchemy import Column, Engine, Float, MetaData, String, Table, delete, inspect, select
from sqlalchemy import update as sql_update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from knowledge import channels
from knowledge.clock import utc_now
from knowledge.db import (
    create_schema,
    engine_for,
    private_sqlite,
    quiet_engine,
    rows_matched,
    session_factory,
)
from knowledge.feedback import forgotten
from knowledge.feedback.items import FINAL_STATUSES, OPEN_STATUSES
from knowledge.feedback.spool import Spool, spool_directory
from knowledge.kb import queue
from knowledge.local.received import Received, received_directory
from knowledge.models import AuditEntry, FeedbackEvent, FeedbackItem
from knowledge.staff import audit
from settings import Settings

logger = logging.getLogger(__name__)

RETENTION_ACTOR = "retention"
# What an item keeps of its sender once retention has run: nothing that identifies them.
SCRUBBED_SENDER = "retention:scrubbed"
SCRUBBED_CONTENT = "(Nội dung đã được xóa sau thời hạn lưu giữ.)"
# Audit rows that carry a client address or a name someone typed at the login form.
ADDRESS_ACTIONS = ("login", "login_failed", "login_blocked", "login_busy", "login_unlocked")
TYPED_NAME_ACTIONS = ("login_failed", "login_blocked", "login_busy")

# Only the columns we filter on: Rasa creates and owns the table.
_events = Table(
    "events",
    MetaData(),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)


# --- Forgetting one family -----------------------------------------------------------------------


def forget_family(session: Session, sender_id: str) -> int:
    """Delete every feedback item of ``sender_id`` and its history; returns the items deleted."""
    ids = select(FeedbackItem.id).where(FeedbackItem.sender_id == sender_id)
    session.execute(delete(FeedbackEvent).where(FeedbackEvent.item_id.in_(ids)))
    result = session.execute(
        delete(FeedbackItem).where(FeedbackItem.sender_id == sender_id),
        execution_options={"synchronize_session": "fetch"},
    )
    session.flush()
    count = rows_matched(result)
    logger.info("Forgot %d feedback item(s) of one sender", count)
    return count


@dataclass(frozen=True)
class Forgotten:
    """What was deleted about one family."""

    items: int
    spooled: int
    tracker_events: int
    channel_rows: int = 0  # deliveries, kept messages, undelivered and waiting replies
    queued: int = 0  # unanswered questions and ratings in the staff's queue
    received: int = 0  # channel events kept on this host while the database was down
    buttons: int = 0  # the Redis hash of the buttons offered


def forget_everywhere(
    settings: Settings, sender_id: str, actor: str, redis_prefix: str = channels.REDIS_PREFIX
) -> Forgotten:
    """Forget ``sender_id`` everywhere we can reach, audited by ``actor`` (an admin's name,
    ``command`` or ``zalo``) in the same transaction as the deletion in our database. The
    command, the admin page and Zalo's ``user_withdraw`` all call this."""
    with session_factory(settings.database_url).begin() as session:
        items = forget_family(session, sender_id)
        channel_rows = channels.forget_sender(session, sender_id)
        family = forgotten.remember(session, sender_id)
        queued = queue.forget_family(session, family)
        done = Forgotten(
            items=items,
            spooled=Spool(spool_directory(settings)).forget(sender_id),
            tracker_events=forget_conversation(settings.tracker_url, sender_id),
            channel_rows=channel_rows,
            queued=queued,
            received=Received(received_directory(settings)).forget(sender_id),
            buttons=_forget_buttons(settings.redis_url, redis_prefix, sender_id),
        )
        audit(session, actor, "family_forgotten", f"family:{family}", asdict(done))
    logger.info("Forgot one family (%s): %s", actor, asdict(done))
    return done


def _forget_buttons(redis_url: str | None, prefix: str, sender_id: str) -> int:
    """Drop the buttons offered to ``sender_id`` from Redis, when the gateways share one."""
    if not redis_url:
        return 0
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=5)
    try:
        return int(client.delete(channels.buttons_key(prefix, sender_id)))
    finally:
        client.close()


def forget_conversation(tracker_url: str, sender_id: str) -> int:
    """Delete the conversation of ``sender_id`` from Rasa's tracker store; returns the rows."""
    return _delete_events(tracker_url, _events.c.sender_id == sender_id)


# --- The retention period ------------------------------------------------------------------------


@dataclass(frozen=True)
class Retained:
    """What one run of the retention rule deleted or anonymised."""

    items: int = 0  # feedback items whose words, answer, contact and sender went
    channel_rows: int = 0
    queue_rows: int = 0  # questions deleted, ratings unlinked from their family
    audit_rows: int = 0  # client addresses and typed usernames removed
    tracker_events: int = 0
    files: int = 0  # spool/broken and received files of this host
    forgotten_marks: int = 0

    @property
    def total(self) -> int:
        return sum(asdict(self).values())


def apply_retention(session: Session, now: dt.datetime, days: int) -> int:
    """Anonymise the feedback items finished (closed or rejected) more than ``days`` ago, and
    those still open but untouched that long: their words, answer, contact, sender id,
    conversation excerpt and notes go; kind, facility, status and dates stay for the reports.
    Returns the number of items changed."""
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
    forsaken = FeedbackItem.status.in_(OPEN_STATUSES) & (FeedbackItem.updated_at < cutoff)
    items = session.scalars(
        select(FeedbackItem).where(
            FeedbackItem.sender_id != SCRUBBED_SENDER,
            (FeedbackItem.status.in_(FINAL_STATUSES) & FeedbackItem.id.in_(finished)) | forsaken,
        )
    ).all()
    for item in items:
        _scrub(session, item, now, days)
    session.flush()
    logger.info("Retention: anonymised %d feedback item(s)", len(items))
    return len(items)


def _scrub(session: Session, item: FeedbackItem, now: dt.datetime, days: int) -> None:
    ids = [item.id]
    session.execute(
        sql_update(FeedbackEvent).where(FeedbackEvent.item_id.in_(ids)).values(note=None)
    )
    item.content = SCRUBBED_CONTENT
    item.answer = None
    item.contact_name = item.contact_phone = None
    item.sender_id = SCRUBBED_SENDER
    item.excerpt = []
    item.lookup_hash = None
    session.add(
        FeedbackEvent(
            item=item,
            at=now,
            actor=RETENTION_ACTOR,
            kind="note",
            note=f"Đã xóa nội dung, câu trả lời và thông tin liên hệ sau thời hạn lưu giữ {days} "
            "ngày.",
        )
    )


def redact_audit(session: Session, before: dt.datetime) -> int:
    """Remove client addresses, and names typed at the login form, from audit rows older than
    ``before`` (what happened, and when, stays). Returns the rows changed."""
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.action, AuditEntry.detail).where(
            AuditEntry.at < before, AuditEntry.action.in_(ADDRESS_ACTIONS)
        )
    ).all()
    changed = 0
    for row_id, action, detail in rows:
        detail = dict(detail or {})
        if detail.get("redacted"):
            continue
        detail = {k: v for k, v in detail.items() if k not in ("address", "addresses")}
        values: dict[str, Any] = {"detail": detail | {"redacted": True}}
        if action in TYPED_NAME_ACTIONS:
            values["target"] = ""  # a typo of a password is typed there too
        # Core statement: the ORM refuses to change the append-only log, retention may.
        session.execute(
            sql_update(cast(Table, AuditEntry.__table__))
            .where(AuditEntry.id == row_id)
            .values(**values)
        )
        changed += 1
    return changed


def retention_everywhere(settings: Settings, now: dt.datetime, actor: str) -> Retained:
    """Apply the retention period to our database, this host's files and Rasa's tracker store;
    audited by ``actor`` (``gateway`` for the daily run, ``command`` for the CLI)."""
    days = settings.retention_days
    cutoff = now - dt.timedelta(days=days)
    with session_factory(settings.database_url).begin() as session:
        files = Spool(spool_directory(settings)).purge_broken(cutoff)
        files += Received(received_directory(settings)).purge_older_than(cutoff)
        done = Retained(
            items=apply_retention(session, now, days),
            channel_rows=channels.delete_older_than(session, cutoff),
            queue_rows=queue.delete_older_than(session, cutoff),
            audit_rows=redact_audit(session, cutoff),
            tracker_events=purge_conversations(settings.tracker_url, cutoff),
            files=files,
            forgotten_marks=forgotten.delete_older_than(session, cutoff),
        )
        if done.total:
            audit(session, actor, "retention_applied", f"{days} days", asdict(done))
    return done


def purge_conversations(tracker_url: str, older_than: dt.datetime) -> int:
    """Delete tracker events from before ``older_than``; returns the rows deleted."""
    if older_than.tzinfo is None:
        raise ValueError("older_than must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return _delete_events(tracker_url, _events.c.timestamp < older_than.timestamp())


def _delete_events(tracker_url: str, condition: ColumnElement[bool]) -> int:
    engine = _tracker_engine(tracker_url)
    if engine is None:
        return 0
    try:
        if not inspect(engine).has_table("events"):
            return 0
        with engine.begin() as conn:
            count = conn.execute(delete(_events).where(condition)).rowcount or 0
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
        private_sqlite(url)
        return quiet_engine(url, connect_args={"timeout": 15})
    if backend == "postgresql":
        if url.drivername == "postgresql":
            # Rasa's endpoints name no driver; ours is psycopg 3.
            url = url.set(drivername="postgresql+psycopg")
        return quiet_engine(url)
    raise ValueError(
        f"The tracker store URL must be sqlite:/// or postgresql://, not {backend}: "
        "check AMNESTY_TRACKER_URL"
    )


# --- Command line --------------------------------------------------------------------------------


def command(settings: Settings, name: str, sender_id: str | None = None) -> int:
    """Run ``python -m knowledge forget|retention|drain-spool``; returns the exit status."""
    try:
        create_schema(engine_for(settings.database_url))  # a command-line entry point
        if name == "forget":
            if not sender_id:
                print("Give the sender id to forget, e.g. zalo:123.", file=sys.stderr)
                return 2
            done = forget_everywhere(settings, sender_id, "command")
            print(
                f"Forgot {sender_id}: {done.items} feedback item(s), {done.spooled} spooled "
                f"draft(s), {done.tracker_events} conversation event(s), {done.channel_rows} "
                f"channel row(s), {done.queued} queued question(s) and rating(s), "
                f"{done.received} event(s) kept on this host. Run it on every host that keeps "
                "a spool, or let their spool workers drop the drafts."
            )
        elif name == "retention":
            done_r = retention_everywhere(settings, utc_now(), "command")
            print(f"Retention ({settings.retention_days} days): {asdict(done_r)}.")
        elif name == "drain-spool":
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
