"""Gateway state that must hold across gateway replicas: rate limits, buttons offered, order.

Chosen once from settings: in-process memory when ``redis_url`` is unset (one gateway, today's
behaviour), Redis otherwise. A Redis error at run time never loses a family's message: it is
logged and the message is answered without the shared limit or lock (see :class:`SharedState`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol
from weakref import WeakValueDictionary

import redis
import redis.asyncio as aredis
from limits import RateLimitItem
from limits import storage as sync_storage
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from knowledge.channels import REDIS_PREFIX, buttons_key
from settings import Settings

logger = logging.getLogger(__name__)

MAX_SENDERS = 10_000  # senders whose offered buttons are remembered in memory
MAX_BUTTONS = 60  # buttons remembered per sender
BUTTON_TTL = 7 * 24 * 3600  # seconds a button offered stays pressable (the web cookie's age)
KEY_PREFIX = REDIS_PREFIX


def order_key(prefix: str, sender: str) -> str:
    """The Redis key of a sender's order lock. Not ``<prefix>:lock:<sender>``: that is the key
    of Rasa's own lock store for the same conversation (bot/ops/stack.py gives it our prefix),
    which would then read our lock as its JSON ticket and refuse the message."""
    return f"{prefix}:order:{sender}"


def lock_seconds(settings: Settings) -> int:
    """How long a sender's lock lives: longer than any Rasa reply with its retries."""
    return 3 * settings.channel_rasa_timeout * max(3, len(settings.rasa_urls)) + 30


def redis_unreachable(url: str, exc: Exception) -> str:
    return (
        f"Redis is not reachable at {url} ({exc.__class__.__name__}: {exc}). Start it "
        "(`redis-server`, or `systemctl start redis-server`), or unset AMNESTY_REDIS_URL to keep "
        "the gateway's state in this process (one gateway only)."
    )


def check_redis(url: str) -> None:
    """Fail fast at start: raise SystemExit saying which Redis is down and what to do."""
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except RedisError as exc:
        raise SystemExit(redis_unreachable(url, exc)) from None
    finally:
        client.close()


class ButtonStore(Protocol):
    """The buttons each sender was offered, by a short id; only those become intents."""

    async def offer(self, sender: str, buttons: list[dict[str, str]]) -> list[int]: ...

    async def button(self, sender: str, button_id: int) -> dict[str, str] | None: ...

    async def payloads(self, sender: str) -> set[str]: ...

    async def forget(self, sender: str) -> None: ...


class MemoryButtons:
    """Buttons offered, in this process (least recent senders and buttons forgotten)."""

    def __init__(self) -> None:
        self._offers: OrderedDict[str, OrderedDict[int, dict[str, str]]] = OrderedDict()
        self._next = 0

    async def offer(self, sender: str, buttons: list[dict[str, str]]) -> list[int]:
        offers = self._offers.setdefault(sender, OrderedDict())
        self._offers.move_to_end(sender)
        ids = []
        for button in buttons:
            self._next += 1
            offers[self._next] = button
            ids.append(self._next)
        while len(offers) > MAX_BUTTONS:
            offers.popitem(last=False)
        while len(self._offers) > MAX_SENDERS:
            self._offers.popitem(last=False)
        return ids

    async def button(self, sender: str, button_id: int) -> dict[str, str] | None:
        return self._offers.get(sender, OrderedDict()).get(button_id)

    async def payloads(self, sender: str) -> set[str]:
        return {b.get("payload", "") for b in self._offers.get(sender, {}).values()}

    async def forget(self, sender: str) -> None:
        self._offers.pop(sender, None)


class RedisButtons:
    """Buttons offered, in one Redis hash per sender (id -> JSON) that expires."""

    def __init__(self, client: aredis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def _key(self, sender: str) -> str:
        return buttons_key(self._prefix, sender)

    async def offer(self, sender: str, buttons: list[dict[str, str]]) -> list[int]:
        if not buttons:
            return []
        last = int(await self._redis.incrby(f"{self._prefix}:button_id", len(buttons)))
        ids = list(range(last - len(buttons) + 1, last + 1))
        key = self._key(sender)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key, mapping={str(i): json.dumps(b) for i, b in zip(ids, buttons, strict=True)}
            )
            pipe.expire(key, BUTTON_TTL)
            pipe.hkeys(key)
            *_, keys = await pipe.execute()
        stale = sorted(int(k) for k in keys)[:-MAX_BUTTONS]
        if stale:
            await self._redis.hdel(key, *(str(i) for i in stale))
        return ids

    async def button(self, sender: str, button_id: int) -> dict[str, str] | None:
        raw = await self._redis.hget(self._key(sender), str(button_id))
        return None if raw is None else json.loads(raw)

    async def payloads(self, sender: str) -> set[str]:
        values = await self._redis.hvals(self._key(sender))
        return {json.loads(v).get("payload", "") for v in values}

    async def forget(self, sender: str) -> None:
        await self._redis.delete(self._key(sender))


class SharedState:
    """Rate limits, buttons offered and per-sender order, in memory or in Redis."""

    def __init__(
        self, settings: Settings, client: aredis.Redis | None, prefix: str = KEY_PREFIX
    ) -> None:
        self.redis = client
        self.url = settings.redis_url or "memory"
        self.prefix = prefix
        self._memory_limiter = MovingWindowRateLimiter(MemoryStorage())
        self._memory_buttons = MemoryButtons()
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        self._lock_seconds = lock_seconds(settings)
        storage: Storage
        if client is None or settings.redis_url is None:
            storage = MemoryStorage()
            self.buttons: ButtonStore = self._memory_buttons
        else:
            storage = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",  # limits 5.8 defaults to coredis, not installed
                key_prefix=f"{prefix}:limits",
                wrap_exceptions=True,
            )
            self.buttons = RedisButtons(client, prefix)
        self._limiter = MovingWindowRateLimiter(storage)

    @classmethod
    def from_settings(cls, settings: Settings, prefix: str = KEY_PREFIX) -> SharedState:
        client = None
        if settings.redis_url:
            client = aredis.Redis.from_url(
                settings.redis_url, socket_connect_timeout=3, socket_timeout=5
            )
        return cls(settings, client, prefix)

    async def check(self) -> None:
        """Raise SystemExit when Redis is configured but does not answer."""
        if self.redis is not None:
            try:
                await self.redis.ping()
            except RedisError as exc:
                raise SystemExit(redis_unreachable(self.url, exc)) from None

    async def hit(self, rate: RateLimitItem, *identifiers: str) -> bool:
        """Count one message; False when over ``rate``. Redis down: counted in this process."""
        try:
            return await self._limiter.hit(rate, *identifiers)
        except Exception:
            logger.exception("Shared rate limit unavailable; counting in this process only")
            return await self._memory_limiter.hit(rate, *identifiers)

    async def offer(self, sender: str, buttons: list[dict[str, str]]) -> list[int]:
        try:
            return await self.buttons.offer(sender, buttons)
        except RedisError:
            logger.exception("Redis unavailable; buttons remembered in this process only")
            return await self._memory_buttons.offer(sender, buttons)

    async def button(self, sender: str, button_id: int) -> dict[str, str] | None:
        try:
            found = await self.buttons.button(sender, button_id)
        except RedisError:
            logger.exception("Redis unavailable; looking up the button in this process")
            found = None
        return found or await self._memory_buttons.button(sender, button_id)

    async def payloads(self, sender: str) -> set[str]:
        try:
            found = await self.buttons.payloads(sender)
        except RedisError:
            logger.exception("Redis unavailable; looking up the buttons in this process")
            found = set()
        return found | await self._memory_buttons.payloads(sender)

    async def forget(self, sender: str) -> None:
        await self._memory_buttons.forget(sender)
        await self.buttons.forget(sender)  # forgetting a family must not silently fail

    @asynccontextmanager
    async def ordered(self, sender: str) -> AsyncIterator[None]:
        """Hold ``sender``'s lock: one message per sender at a time, across replicas."""
        if self.redis is None:
            lock = self._locks.get(sender)
            if lock is None:
                lock = self._locks[sender] = asyncio.Lock()
            async with lock:
                yield
            return
        shared = self.redis.lock(
            order_key(self.prefix, sender),
            timeout=self._lock_seconds,
            blocking_timeout=self._lock_seconds,
        )
        try:
            acquired = await shared.acquire()
        except RedisError:
            logger.exception("Redis unavailable; this message is answered without the order lock")
            acquired = False
        if not acquired:
            logger.warning("Sender lock not obtained; answering without it")
        try:
            yield
        finally:
            if acquired:
                try:
                    await shared.release()
                except RedisError:
                    logger.exception("Could not release a sender lock; it expires by itself")

    async def aclose(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def login_storage(settings: Settings, prefix: str = KEY_PREFIX) -> sync_storage.Storage | None:
    """The Redis storage of the staff login limiter; None: count in this process."""
    if settings.redis_url is None:
        return None
    return sync_storage.RedisStorage(
        settings.redis_url,
        key_prefix=f"{prefix}:login",
        wrap_exceptions=True,
        socket_connect_timeout=3,
        socket_timeout=5,
    )
