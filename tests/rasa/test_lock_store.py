"""nlu.lock_store against the real Redis at 127.0.0.1:6379 (run in the Rasa environment): a turn
that waits longer than the lock lifetime behind another turn of its conversation is served
after it, where Rasa's own Redis lock store leaves it waiting for ever."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from nlu.lock_store import PatientRedisLockStore

LIFETIME = 1.0  # the waiting turn waits longer than this
POLL = 0.6
HOLD = 0.9  # the first turn, shorter than the lifetime: its own ticket stays valid


@pytest.fixture
def prefix() -> Iterator[str]:
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at 127.0.0.1:6379 ({exc.__class__.__name__})")
    name = f"locktest{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis(host="127.0.0.1", port=6379)
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)


def config(prefix: str) -> EndpointConfig:
    return EndpointConfig(url="127.0.0.1", port=6379, db=0, key_prefix=prefix)


async def two_turns(store: LockStore) -> list[str]:
    """A first turn holding the lock for HOLD s, a second one arriving 50 ms later."""
    done: list[str] = []
    conversation = "family-1"

    async def turn(name: str, delay: float, hold: float) -> None:
        await asyncio.sleep(delay)
        async with store.lock(conversation, LIFETIME, POLL):
            await asyncio.sleep(hold)
            done.append(name)

    first = asyncio.create_task(turn("first", 0, HOLD))
    await asyncio.wait_for(turn("second", 0.05, 0), timeout=6)
    await first
    return done


def test_a_turn_waiting_past_its_ticket_lifetime_is_served_in_order(prefix: str) -> None:
    started = time.monotonic()
    assert asyncio.run(two_turns(PatientRedisLockStore(config(prefix)))) == ["first", "second"]
    assert time.monotonic() - started < 3


def test_rasa_own_redis_lock_store_never_serves_it(prefix: str) -> None:
    """Why nlu/lock_store.py exists (Rasa 3.6.21): the waiting turn dropped its own ticket."""
    store = RedisLockStore(host="127.0.0.1", port=6379, db=0, key_prefix=prefix)
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(two_turns(store))


def one_turn(
    store: LockStore, conversation: str, name: str, delay: float, served: list[str], lost: list[str]
) -> None:
    """A turn in its own thread and event loop (a replica), holding the lock for 5 ms."""
    time.sleep(delay)

    async def serve() -> None:
        async with store.lock(conversation, 5, 0.01):
            await asyncio.sleep(0.005)
            served.append(name)

    try:
        asyncio.run(serve())
    except Exception as exc:  # a LockError: the turn is lost
        lost.append(f"{name} {exc.__class__.__name__}")


def race(store_a: LockStore, store_b: LockStore, rounds: int = 40) -> list[str]:
    """One family's two turns on two replicas (two stores), the second arriving while the first
    takes its ticket or finishes: what went wrong, if anything. Rasa's own RedisLockStore loses
    a turn in about one round of ten here (a LockError)."""
    failures: list[str] = []
    for i in range(rounds):
        conversation, served = f"family-race-{i}", list[str]()
        threads = [
            threading.Thread(
                target=one_turn, args=(store_a, conversation, "first", 0, served, failures)
            ),
            threading.Thread(
                target=one_turn,
                args=(store_b, conversation, "second", 0.001 * (i % 10), served, failures),
            ),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        if sorted(served) != ["first", "second"]:
            failures.append(f"round {i}: served {served}")
    return failures


def test_two_replicas_taking_and_giving_back_tickets_at_once_lose_no_turn(prefix: str) -> None:
    store_a = PatientRedisLockStore(config(prefix))
    store_b = PatientRedisLockStore(config(prefix))
    assert race(store_a, store_b) == []
