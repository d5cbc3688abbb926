"""Forgetting a family and the retention period, in our tables and in Rasa's tracker store."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from knowledge.__main__ import main
from knowledge.db import engine_for
from knowledge.feedback.items import FeedbackDraft, change_status, record
from knowledge.feedback.privacy import (
    SCRUBBED_CONTENT,
    SCRUBBED_SENDER,
    apply_retention,
    forget_conversation,
    forget_everywhere,
    forget_family,
    purge_conversations,
    retention_everywhere,
)
from knowledge.feedback.spool import Spool
from knowledge.kb import queue
from knowledge.models import FeedbackEvent, FeedbackItem, QueuedQuestion
from knowledge.staff import recent_audit
from settings import from_env, get_settings

NOW = dt.datetime.now(dt.UTC)


def rasa_events_table(metadata: sa.MetaData) -> sa.Table:
    """The table as Rasa 3.6's SQLTrackerStore.SQLEvent declares it."""
    return sa.Table(
        "events",
        metadata,
        sa.Column("id", sa.Integer, sa.Sequence("events_seq"), primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("type_name", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.Float),
        sa.Column("intent_name", sa.String(255)),
        sa.Column("action_name", sa.String(255)),
        sa.Column("data", sa.Text),
    )


@pytest.fixture
def tracker_url(db_url: str, tmp_path: Path) -> str:
    """Rasa's database: a file of its own on SQLite, the test schema on PostgreSQL."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    return db_url


def add_events(url: str, rows: list[tuple[str, float]]) -> None:
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    table = rasa_events_table(metadata)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            table.insert(),
            [
                {
                    "sender_id": sender,
                    "type_name": "user",
                    "timestamp": timestamp,
                    "intent_name": "give_feedback",
                    "data": '{"event": "user", "text": "Chồng tôi 0912345678"}',
                }
                for sender, timestamp in rows
            ],
        )
    engine.dispose()


def senders_left(url: str) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT sender_id FROM events ORDER BY id")).scalars().all()
    engine.dispose()
    return list(rows)


def draft(sender_id: str, **fields: Any) -> FeedbackDraft:
    values: dict[str, Any] = {
        "kind": "misconduct",
        "content": "Cán bộ đòi tiền",
        "channel": "zalo",
        "sender_id": sender_id,
        "delivery_key": f"k:{uuid.uuid4().hex}",
        "contact_name": "Nguyễn Văn An",
        "contact_phone": "0912345678",
        "excerpt": (
            {"role": "bot", "text": "Số điện thoại của bạn?"},
            {"role": "user", "text": "0912 345 678"},
        ),
    }
    values.update(fields)
    return FeedbackDraft(**values)


def counts(session_maker: sessionmaker[Session], sender_id: str) -> tuple[int, int]:
    with session_maker() as session:
        items = session.scalar(
            select(func.count())
            .select_from(FeedbackItem)
            .where(FeedbackItem.sender_id == sender_id)
        )
        events = session.scalar(
            select(func.count())
            .select_from(FeedbackEvent)
            .join(FeedbackItem)
            .where(FeedbackItem.sender_id == sender_id)
        )
    return items or 0, events or 0


# --- Forgetting one family ---------------------------------------------------------------------


def test_forget_family_deletes_only_that_senders_items(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        for _ in range(2):
            item = record(session, draft("zalo:1"))
            change_status(session, item, "in_progress", actor="a")
        record(session, draft("zalo:2"))
    with session_maker.begin() as session:
        assert forget_family(session, "zalo:1") == 2
    assert counts(session_maker, "zalo:1") == (0, 0)
    assert counts(session_maker, "zalo:2") == (1, 1)
    with session_maker() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackEvent)) == 1


def test_forget_family_of_unknown_sender_is_zero(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as session:
        assert forget_family(session, "web:nobody") == 0


def test_reference_numbers_are_not_reused_after_forgetting(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        first = record(session, draft("zalo:1")).id
    with session_maker.begin() as session:
        forget_family(session, "zalo:1")
    with session_maker.begin() as session:
        assert record(session, draft("zalo:2")).id > first


def test_forget_conversation_deletes_that_senders_tracker_rows(tracker_url: str) -> None:
    add_events(tracker_url, [("zalo:1", 1.0), ("zalo:2", 2.0), ("zalo:1", 3.0)])
    assert forget_conversation(tracker_url, "zalo:1") == 2
    assert senders_left(tracker_url) == ["zalo:2"]
    assert forget_conversation(tracker_url, "zalo:1") == 0


def test_forget_conversation_with_rasas_driverless_postgres_url(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    add_events(db_url, [("zalo:1", 1.0)])
    rasa_style = make_url(db_url).set(drivername="postgresql").render_as_string(False)
    assert forget_conversation(rasa_style, "zalo:1") == 1


def test_forget_conversation_before_rasa_made_its_table(tracker_url: str) -> None:
    assert forget_conversation(tracker_url, "zalo:1") == 0
    assert purge_conversations(tracker_url, NOW) == 0


def test_missing_sqlite_tracker_file_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none' / 'tracker.db'}"
    assert forget_conversation(url, "zalo:1") == 0
    assert not (tmp_path / "none").exists()


def test_unsupported_tracker_url_says_what_to_fix() -> None:
    with pytest.raises(ValueError, match="AMNESTY_TRACKER_URL"):
        forget_conversation("mysql://u@h/db", "zalo:1")


def test_forget_everywhere_and_its_command(
    db_url: str,
    tracker_url: str,
    session_maker: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        "AMNESTY_VAR_DIR": str(tmp_path / "var"),
        "AMNESTY_DATABASE_URL": db_url,
        "AMNESTY_TRACKER_URL": tracker_url,
    }
    settings = from_env(env)
    with session_maker.begin() as session:
        record(session, draft("zalo:1"))
        record(session, draft("zalo:2"))
    spool = Spool(tmp_path / "var" / "spool")
    spool.put(draft("zalo:1"))
    spool.put(draft("zalo:2"))
    add_events(tracker_url, [("zalo:1", 1.0), ("zalo:2", 2.0)])

    done = forget_everywhere(settings, "zalo:1", "canbo")
    engine_for(db_url).dispose()  # the command's process-wide engine
    assert (done.items, done.spooled, done.tracker_events) == (1, 1, 1)
    assert [d.sender_id for d in spool.pending()] == ["zalo:2"]
    assert senders_left(tracker_url) == ["zalo:2"]

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        assert main(["forget", "zalo:2"]) == 0
    finally:
        get_settings.cache_clear()
        engine_for(db_url).dispose()
    assert (
        "1 feedback item(s), 1 spooled draft(s), 1 conversation event(s)" in capsys.readouterr().out
    )
    assert counts(session_maker, "zalo:2") == (0, 0)
    assert spool.pending() == []
    assert senders_left(tracker_url) == []
    with session_maker() as session:
        entries = [e for e in recent_audit(session) if e.action == "family_forgotten"]
    assert [e.actor for e in entries] == ["command", "canbo"]  # the command line is audited too
    assert all(e.target.startswith("family:") and "zalo" not in e.target for e in entries)


# --- Retention ---------------------------------------------------------------------------------


def finished_item(
    session: Session, status: str, days_ago: int, sender_id: str = "zalo:1"
) -> FeedbackItem:
    item = record(session, draft(sender_id))
    change_status(session, item, "in_progress", actor="a")
    if status == "closed":
        change_status(session, item, "answered", actor="a")
        event = change_status(session, item, "closed", actor="a")
    elif status == "rejected":
        event = change_status(session, item, "rejected", actor="a", note="Trùng đơn")
    else:
        event = item.events[-1]
    event.at = NOW - dt.timedelta(days=days_ago)
    item.created_at = NOW - dt.timedelta(days=days_ago + 30)
    session.flush()
    return item


def test_retention_anonymises_items_finished_long_ago(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        old_closed = finished_item(session, "closed", 400).id
        old_rejected = finished_item(session, "rejected", 366).id
        recent_closed = finished_item(session, "closed", 10).id
        old_open = finished_item(session, "in_progress", 400).id  # touched recently
        for item_id in (old_closed, recent_closed):
            session.get_one(FeedbackItem, item_id).answer = "Cán bộ đã xác minh, sđt 0912345678"
    with session_maker.begin() as session:
        assert apply_retention(session, NOW, 365) == 2
    with session_maker() as session:
        for item_id in (old_closed, old_rejected):
            item = session.get_one(FeedbackItem, item_id)
            assert item.contact_name is None and item.contact_phone is None
            assert item.excerpt == [] and item.answer is None
            assert item.content == SCRUBBED_CONTENT and item.sender_id == SCRUBBED_SENDER
            assert "Trùng đơn" not in str([e.note for e in item.events])  # notes go too
            assert item.events[-1].actor == "retention"
            assert item.kind == "misconduct"  # what the reports count stays
        for item_id in (recent_closed, old_open):
            item = session.get_one(FeedbackItem, item_id)
            assert item.contact_phone == "0912345678" and item.sender_id == "zalo:1"
            assert item.excerpt[1]["text"] == "0912 345 678"
    with session_maker.begin() as session:
        assert apply_retention(session, NOW, 365) == 0


def test_retention_covers_items_that_were_never_closed(
    session_maker: sessionmaker[Session],
) -> None:
    with session_maker.begin() as session:
        forsaken = record(session, draft("zalo:9"))
        forsaken.updated_at = NOW - dt.timedelta(days=400)
        active = record(session, draft("zalo:8"))
        ids = forsaken.id, active.id
    with session_maker.begin() as session:
        assert apply_retention(session, NOW, 365) == 1
    with session_maker() as session:
        assert session.get_one(FeedbackItem, ids[0]).content == SCRUBBED_CONTENT
        assert session.get_one(FeedbackItem, ids[1]).sender_id == "zalo:8"


def test_purge_conversations_deletes_only_old_events(tracker_url: str) -> None:
    old = (NOW - dt.timedelta(days=400)).timestamp()
    recent = (NOW - dt.timedelta(days=3)).timestamp()
    add_events(tracker_url, [("zalo:old", old), ("zalo:new", recent), ("zalo:old", old + 1)])
    assert purge_conversations(tracker_url, NOW - dt.timedelta(days=365)) == 2
    assert senders_left(tracker_url) == ["zalo:new"]


def test_purge_needs_an_aware_time(tracker_url: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        purge_conversations(tracker_url, dt.datetime(2026, 1, 1))


def test_retention_everywhere_uses_the_setting(
    db_url: str, tracker_url: str, session_maker: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = from_env(
        {
            "AMNESTY_VAR_DIR": str(tmp_path / "var"),
            "AMNESTY_DATABASE_URL": db_url,
            "AMNESTY_TRACKER_URL": tracker_url,
            "AMNESTY_RETENTION_DAYS": "30",
        }
    )
    assert settings.retention_days == 30
    with session_maker.begin() as session:
        finished_item(session, "closed", 40)
        finished_item(session, "closed", 20)
    add_events(
        tracker_url, [("a", (NOW - dt.timedelta(days=31)).timestamp()), ("b", NOW.timestamp())]
    )
    done = retention_everywhere(settings, NOW, "command")
    assert (done.items, done.tracker_events) == (1, 1)
    with session_maker() as session:
        [entry] = [e for e in recent_audit(session) if e.action == "retention_applied"]
    assert entry.actor == "command" and entry.detail["items"] == 1
    engine_for(db_url).dispose()


def test_forget_everywhere_covers_the_staff_queue(
    db_url: str, session_maker: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = from_env({"AMNESTY_VAR_DIR": str(tmp_path / "var"), "AMNESTY_DATABASE_URL": db_url})
    salt = queue.family_salt(settings)
    with session_maker.begin() as session:
        for sender in ("zalo:1", "zalo:2"):
            queue.record_question(
                session,
                text="mai trời có mưa không",
                reason="fallback",
                channel="zalo",
                family=queue.family_key(salt, sender),
            )
    done = forget_everywhere(settings, "zalo:1", "canbo")
    assert done.queued == 1
    with session_maker() as session:
        left = session.scalars(select(QueuedQuestion.family)).all()
    assert left == [queue.family_key(salt, "zalo:2")]
