"""nlu.lock_store against the real Redis at 127.0.0.1:6379 (run in the Rasa environment): a turn
that waits longer than the lock lifetime behind another turn of its conversation is served
after it, where Rasa's own Redis lock store leaves it waiting for ever."""

from __future__ import annotations

import asyncio
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
