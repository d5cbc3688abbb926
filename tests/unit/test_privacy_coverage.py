"""Forgetting and retention reach every table, file and host the December review listed (M8,
M9): complaint words, answers, sender ids, channel tables, ratings, audit addresses, items
never closed, spool/broken, the salt and the spools of other hosts, Redis buttons; each run
audited, and none of them migrates the schema while serving."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

import knowledge.migrations
from knowledge import channels
from knowledge.feedback.items import FeedbackDraft, record
from knowledge.feedback.privacy import forget_everywhere, retention_everywhere
from knowledge.feedback.spool import Spool, spool_directory
from knowledge.kb import queue
from knowledge.local.received import Received, received_directory
from knowledge.models import (
    AnswerRating,
    AuditEntry,
    ChannelDelivery,
    FeedbackItem,
    ForgottenFamily,
    KeptMessage,
    QueuedQuestion,
    UndeliveredReply,
    WaitingReply,
)
from knowledge.staff import audit, recent_audit
from settings import Settings, from_env
from tests.unit.test_privacy import add_events, senders_left

NOW = dt.datetime.now(dt.UTC)
OLD = NOW - dt.timedelta(days=400)
REDIS_URL = "redis://127.0.0.1:6379/0"
ChannelTable = type[ChannelDelivery | KeptMessage | UndeliveredReply | WaitingReply]
CHANNEL_TABLES: tuple[ChannelTable, ...] = (
    ChannelDelivery,
    KeptMessage,
    UndeliveredReply,
    WaitingReply,
)


def host(tmp_path: Path, name: str, db_url: str, **env: str) -> Settings:
    """One host's settings: its own var dir (spool, received), the shared database."""
    return from_env(
        {
            "AMNESTY_VAR_DIR": str(tmp_path / name),
            "AMNESTY_DATABASE_URL": db_url,
            "AMNESTY_TRACKER_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
            **env,
        }
    )


def draft(sender: str, words: str = "Chồng em bị đánh, sđt 0912345678") -> FeedbackDraft:
    return FeedbackDraft("misconduct", words, "zalo", sender, f"k:{uuid.uuid4().hex}")


def channel_rows(session: Session, sender: str) -> None:
    session.add(ChannelDelivery(key=f"d:{uuid.uuid4().hex}", sender=sender))
    session.add(KeptMessage(sender=sender, message="mẹ em", delivery_key="k", attempts=1))
    session.add(UndeliveredReply(sender=sender, text="trả lời", error="-230"))
    session.add(WaitingReply(sender=sender, replies=[{"text": "trả lời", "buttons": []}]))


def rows_of(session: Session, sender: str) -> int:
    return sum(
        session.scalar(select(func.count()).select_from(m).where(m.sender == sender)) or 0
        for m in CHANNEL_TABLES
    )


def written_long_ago(path: Path) -> None:
    os.utime(path, (OLD.timestamp(), OLD.timestamp()))


@pytest.fixture
def no_migration(
    session_maker: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Serving never migrates: any migration after setup fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the schema was migrated while serving")

    monkeypatch.setattr(knowledge.migrations, "upgrade", refuse)
    yield


@pytest.fixture
def buttons_prefix() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    prefix = f"amnesty_test_{uuid.uuid4().hex[:8]}"
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.mark.usefixtures("no_migration")
def test_forget_reaches_every_table_file_and_host(
    tmp_path: Path, db_url: str, session_maker: sessionmaker[Session], buttons_prefix: str
) -> None:
    gateway = host(tmp_path, "gateway", db_url, AMNESTY_REDIS_URL=REDIS_URL)
    actions = host(tmp_path, "actions", db_url)  # another host: its own spool
    # The action server's host records the queue and a rating with its own view of the salt.
    family = queue.family_key(queue.family_salt(actions), "zalo:1")
    with session_maker.begin() as session:
        record(session, draft("zalo:1"))
        record(session, draft("zalo:2", "một ý kiến khác"))
        channel_rows(session, "zalo:1")
        channel_rows(session, "zalo:2")
        queue.record_question(
            session, text="hỏi gì đó", reason="fallback", channel="zalo", family=family
        )
        queue.record_rating(session, entry_key="e", rating="helpful", channel="zalo", family=family)
    local_spool = Spool(spool_directory(gateway))
    local_spool.put(draft("zalo:1"))
    local_spool.broken.mkdir(parents=True)
    (local_spool.broken / "x.json").write_text('{"sender_id": "zalo:1", "con')
    Received(received_directory(gateway)).put("zalo", "zalo:m1", "zalo:1", {"text": "mẹ em"})
    add_events(gateway.tracker_url, [("zalo:1", 1.0), ("zalo:2", 2.0)])
    buttons = redis.Redis.from_url(REDIS_URL)
    buttons.hset(channels.buttons_key(buttons_prefix, "zalo:1"), "1", "{}")
    far_spool = Spool(spool_directory(actions))  # written on the other host before the forget
    far_spool.put(draft("zalo:1"))
    far_spool.put(draft("zalo:2", "ý kiến đang chờ của nhà khác"))
    far_spool.broken.mkdir(parents=True)
    (far_spool.broken / "y.json").write_text('{"kind": "x", "sender_id": "zalo:1", "cont')
    written_long_ago(far_spool.broken / "y.json")  # written before the forget, surely

    done = forget_everywhere(gateway, "zalo:1", "quantri", redis_prefix=buttons_prefix)

    assert (done.items, done.spooled, done.received, done.tracker_events) == (1, 2, 1, 1)
    assert (done.channel_rows, done.queued, done.buttons) == (4, 2, 1)
    with session_maker() as session:
        assert rows_of(session, "zalo:1") == 0 and rows_of(session, "zalo:2") == 4
        assert session.scalars(select(QueuedQuestion)).all() == []
        assert session.scalars(select(AnswerRating)).all() == []
        [entry] = [e for e in recent_audit(session) if e.action == "family_forgotten"]
    assert entry.actor == "quantri" and entry.target == f"family:{family}"
    assert "zalo:1" not in json.dumps(entry.detail)
    assert not buttons.exists(channels.buttons_key(buttons_prefix, "zalo:1"))
    assert senders_left(gateway.tracker_url) == ["zalo:2"]
    assert local_spool.files() == [] and not list(local_spool.broken.iterdir())
    # The other host's spool worker drops the family's draft instead of storing it.
    assert far_spool.drain(session_maker) == 1
    with session_maker() as session:
        senders = session.scalars(select(FeedbackItem.sender_id)).all()
    assert sorted(senders) == ["zalo:2", "zalo:2"]
    assert far_spool.files() == [] and not list(far_spool.broken.iterdir())


@pytest.mark.usefixtures("no_migration")
def test_a_family_that_comes_back_after_being_forgotten_is_kept(
    tmp_path: Path, db_url: str, session_maker: sessionmaker[Session]
) -> None:
    gateway = host(tmp_path, "gateway", db_url)
    forget_everywhere(gateway, "zalo:1", "quantri")
    later = Spool(tmp_path / "other-spool")
    later.put(draft("zalo:1", "một ý kiến mới sau khi đã xóa"))
    assert later.drain(session_maker) == 1


@pytest.mark.usefixtures("no_migration")
def test_retention_reaches_every_table_and_file(
    tmp_path: Path, db_url: str, session_maker: sessionmaker[Session]
) -> None:
    settings = host(tmp_path, "gateway", db_url, AMNESTY_RETENTION_DAYS="365")
    with session_maker.begin() as session:
        channel_rows(session, "zalo:old")
        channel_rows(session, "zalo:new")
        for model in CHANNEL_TABLES:
            column = model.received_at if issubclass(model, ChannelDelivery) else model.created_at
            session.execute(update(model).where(model.sender == "zalo:old").values({column: OLD}))
        session.add(AnswerRating(entry_key="e", rating="helpful", channel="zalo", family="f1"))
        session.add(
            AnswerRating(entry_key="e", rating="helpful", channel="zalo", family="f2", rated_at=OLD)
        )
        session.add(ForgottenFamily(family="gone", forgotten_at=OLD))
        session.add(ForgottenFamily(family="recent"))
        for action, target in (("login_failed", "matkhau123"), ("login", "canbo")):
            entry = audit(session, target, action, target, {"address": "203.0.113.5"})
            entry.at = OLD
        audit(session, "canbo", "login", "canbo", {"address": "203.0.113.6"})
    spool = Spool(spool_directory(settings))
    spool.broken.mkdir(parents=True)
    (spool.broken / "old.json").write_text('{"sender_id": "zalo:old"')
    written_long_ago(spool.broken / "old.json")
    (spool.broken / "new.json").write_text('{"sender_id": "zalo:new"')
    received = Received(received_directory(settings))
    written_long_ago(received.put("zalo", "zalo:old", "zalo:old", {"text": "cũ"}))
    received.put("zalo", "zalo:new", "zalo:new", {"text": "mới"})

    done = retention_everywhere(settings, NOW, "gateway")

    assert (done.channel_rows, done.audit_rows, done.files, done.forgotten_marks) == (4, 2, 2, 1)
    with session_maker() as session:
        assert rows_of(session, "zalo:old") == 0 and rows_of(session, "zalo:new") == 4
        families = sorted(str(f) for f in session.scalars(select(AnswerRating.family)))
        assert families == ["None", "f1"]  # the count stays, the old link to a family goes
        assert session.scalars(select(ForgottenFamily.family)).all() == ["recent"]
        entries = {
            (e.action, e.target, json.dumps(e.detail)) for e in session.scalars(select(AuditEntry))
        }
    text = str(entries)
    assert "203.0.113.5" not in text and "matkhau123" not in text
    assert "203.0.113.6" in text  # recent rows keep their address
    assert ("login", "canbo", '{"redacted": true}') in entries
    assert [p.name for p in spool.broken.iterdir()] == ["new.json"]
    assert [h.sender for h in received.held()] == ["zalo:new"]
    with session_maker() as session:
        [run] = [e for e in recent_audit(session) if e.action == "retention_applied"]
    assert run.actor == "gateway" and run.detail["audit_rows"] == 2


def test_the_salt_is_shared_and_adopts_an_older_hosts_file(
    tmp_path: Path, db_url: str, session_maker: sessionmaker[Session]
) -> None:
    first = host(tmp_path, "first", db_url)
    first.var_dir.mkdir(parents=True)
    (first.var_dir / queue.SALT_FILE).write_text("salt-from-before")
    assert queue.family_salt(first) == b"salt-from-before"  # keys already stored still match
    second = host(tmp_path, "second", db_url)
    assert queue.family_salt(second) == b"salt-from-before"  # another host: the same salt
