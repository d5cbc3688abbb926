"""Gateway state shared by two gateway replicas through the real Redis (and the real database).

Each "replica" is its own Inbox / StaffApp / SharedState with the same settings, as two gateway
processes would have; every test uses its own key prefix, deleted afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.inbox import RATE_LIMITED, Handled, Inbox, Incoming, Outcome
from bot.channels.rasa_client import RasaClient, Reply
from bot.ops.stack import free_port
from bot.shared_state import MAX_BUTTONS, SharedState, check_redis
from bot.staff.auth import staff_app
from bot.staff.login import Verdict
from knowledge import channels as state
from knowledge.db import create_schema, make_engine
from knowledge.models import KeptMessage
from settings import Settings
from tests.databases import postgres_schema_url
from tests.fakes.gateway import gateway_settings

REDIS_URL = "redis://127.0.0.1:6379/0"
FEES = {"title": "Chi phí", "payload": "/ask_fees"}


@pytest.fixture
def prefix() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc.__class__.__name__})")
    name = f"amnesty_test_{uuid.uuid4().hex[:10]}"
    yield name
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return gateway_settings(
        tmp_path, f"sqlite:///{tmp_path / 'gw.db'}", AMNESTY_REDIS_URL=REDIS_URL
    )


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.database_url)
    create_schema(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def replica(settings: Settings, sessions: sessionmaker[Session], prefix: str) -> Inbox:
    """One gateway replica's inbox; Rasa's port has nothing listening (one try: kept)."""
    rasa = RasaClient(settings.rasa_urls, timeout=2, attempts=1, secret="x")
    return Inbox(settings, rasa, sessions, SharedState.from_settings(settings, prefix))


async def close(*inboxes: Inbox) -> None:
    for inbox in inboxes:
        await inbox.rasa.aclose()
        await inbox.shared.aclose()


def test_rate_limit_holds_across_replicas(
    settings: Settings, sessions: sessionmaker[Session], prefix: str
) -> None:
    async def run() -> list[Handled]:
        a, b = replica(settings, sessions, prefix), replica(settings, sessions, prefix)
        replies = []
        for n in range(22):
            inbox = a if n % 2 else b
            replies.append(await inbox.handle(Incoming("zalo:7", f"câu {n}", f"zalo:k{n}")))
        # Another family is not affected.
        replies.append(await a.handle(Incoming("zalo:8", "câu khác", "zalo:other")))
        await close(a, b)
        return replies

    handled = asyncio.run(run())
    limited = [n for n, h in enumerate(handled) if h.outcome is Outcome.LIMITED]
    assert limited == [20, 21]  # the 21st and 22nd, one on each replica
    # One polite notice per window, not one per message (each would spend the send quota).
    assert [handled[20].replies, handled[21].replies] == [[Reply(RATE_LIMITED)], []]
    with sessions() as session:
        assert state.count_kept(session, sender="zalo:7") == 20
        assert state.count_kept(session, sender="zalo:8") == 1


def test_button_offered_by_one_replica_is_accepted_by_the_other(
    settings: Settings, sessions: sessionmaker[Session], prefix: str
) -> None:
    async def run() -> None:
        a, b = replica(settings, sessions, prefix), replica(settings, sessions, prefix)
        ids = await a.offer("telegram:1", [FEES] * (MAX_BUTTONS + 3))
        assert await b.offered_button("telegram:1", ids[-1]) == FEES
        assert await b.offered_button("telegram:1", ids[0]) is None  # bounded per sender
        assert await b.offered_button("telegram:2", ids[-1]) is None
        typed = Incoming("zalo:1", "/ask_fees", "zalo:a")
        assert await b.to_rasa(typed) == "\u200b/ask_fees"
        await a.offer("zalo:1", [FEES])
        assert await b.to_rasa(typed) == "/ask_fees"
        await b.forget("zalo:1")
        assert await a.to_rasa(typed) == "\u200b/ask_fees"
        assert a.shared.redis is not None
        ttl = await a.shared.redis.ttl(f"{prefix}:buttons:telegram:1")
        assert 0 < ttl <= 7 * 24 * 3600
        await close(a, b)

    asyncio.run(run())


async def overlap(a: SharedState, b: SharedState) -> list[str]:
    """Two messages of one sender, one per replica, the second arriving during the first."""
    seen: list[str] = []

    async def first() -> None:
        async with a.ordered("zalo:5"):
            seen.append("first in")
            await asyncio.sleep(0.4)
            seen.append("first out")

    async def second() -> None:
        await asyncio.sleep(0.1)
        async with b.ordered("zalo:5"):
            seen.append("second in")

    await asyncio.gather(first(), second())
    return seen


def test_the_order_lock_leaves_rasas_lock_store_key_alone(settings: Settings, prefix: str) -> None:
    """Rasa's Redis lock store keeps its ticket for a conversation at ``<prefix>:lock:<id>``
    (bot/ops/stack.py gives it our prefix): our lock must live elsewhere, or Rasa reads it as
    its own JSON and refuses the message (seen with the web chat in the cluster)."""
    rasa_key = f"{prefix}:lock:web:abc"
    client = redis.Redis.from_url(REDIS_URL)

    async def hold() -> bool:
        shared = SharedState.from_settings(settings, prefix)
        async with shared.ordered("web:abc"):
            taken = bool(client.exists(rasa_key))
        await shared.aclose()
        return taken

    assert asyncio.run(hold()) is False
    client.close()


def test_sender_lock_orders_messages_across_replicas(settings: Settings, prefix: str) -> None:
    async def run() -> tuple[list[str], list[str]]:
        a = SharedState.from_settings(settings, prefix)
        b = SharedState.from_settings(settings, prefix)
        shared = await overlap(a, b)
        await a.aclose()
        await b.aclose()
        memory = replace(settings, redis_url=None)
        alone = await overlap(SharedState.from_settings(memory), SharedState.from_settings(memory))
        return shared, alone

    shared, alone = asyncio.run(run())
    assert shared == ["first in", "first out", "second in"]
    # Control: two processes with in-memory locks do not order each other.
    assert alone == ["first in", "second in", "first out"]


def test_login_guard_counts_across_staff_apps(settings: Settings, prefix: str) -> None:
    a, b = staff_app(settings, prefix), staff_app(settings, prefix)

    async def run() -> list[Verdict]:
        verdicts = [await (a, b)[n % 2].guard.admit("canbo", "10.0.0.1") for n in range(5)]
        verdicts.append(await b.guard.admit("canbo", "10.0.0.1"))  # the 6th, on either app
        verdicts.append(await a.guard.admit("canbo", "10.0.0.2"))  # same account, other address
        return verdicts

    verdicts = asyncio.run(run())
    # AMNESTY_LOGIN_RATE's default, 5/minute per account and address, counted across replicas
    assert verdicts == [Verdict.ALLOWED] * 5 + [Verdict.BLOCKED, Verdict.ALLOWED]


def test_unreachable_redis_fails_at_start_and_never_loses_a_message(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(SystemExit, match=rf"{down}.*redis-server"):
        check_redis(down)
    settings = gateway_settings(tmp_path, f"sqlite:///{tmp_path / 'gw.db'}", AMNESTY_REDIS_URL=down)

    async def run() -> Handled:
        inbox = replica(settings, sessions, "amnesty_down")
        with pytest.raises(SystemExit, match=down):
            await inbox.shared.check()
        ids = await inbox.offer("zalo:9", [FEES])  # kept in this process instead
        assert await inbox.offered_button("zalo:9", ids[0]) == FEES
        replies = await inbox.handle(Incoming("zalo:9", "mẹ em bị kết án", "zalo:d1"))
        await close(inbox)
        return replies

    assert asyncio.run(run()).outcome is Outcome.KEPT
    with sessions() as session:
        [kept] = state.kept_messages(session, sender="zalo:9")
    assert kept.message == "mẹ em bị kết án"


def test_a_kept_message_is_claimed_by_one_replica_only_on_postgresql() -> None:
    with postgres_schema_url() as url:
        engine = make_engine(url)
        create_schema(engine)
        maker = sessionmaker(engine, expire_on_commit=False)
        with maker.begin() as session:
            first = state.keep_message(session, sender="zalo:4", message="một", delivery_key="k1")
            state.keep_message(session, sender="zalo:4", message="hai", delivery_key="k2")
        a, b = maker(), maker()
        try:
            oldest = state.oldest_kept(b, sender="zalo:4")
            assert oldest is not None and oldest.id == first
            b.rollback()
            claimed = state.claim_kept(a, first)
            assert claimed is not None and claimed.message == "một"
            assert state.claim_kept(b, first) is None  # replica B skips it, does not send it
            b.rollback()
            state.drop_kept(a, first)
            a.commit()
            after = state.oldest_kept(b, sender="zalo:4")
            assert after is not None and after.message == "hai"
            assert state.claim_kept(b, after.id) is not None
            b.commit()
        finally:
            a.close()
            b.close()
            engine.dispose()
        with maker() as session:
            assert [k.message for k in session.query(KeptMessage)] == ["hai"]
