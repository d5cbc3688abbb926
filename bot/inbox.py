"""The one way a Zalo or Telegram message reaches Rasa, whatever the channel.

Each channel turns its update into an :class:`Incoming` and renders the replies. Here: retries
recognised (durably, by delivery key), the per-sender rate limit, which button payloads may
become intents, and the "busy, your message was kept" path with its background resender.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakValueDictionary

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy.orm import Session, sessionmaker

from bot.rasa_client import RasaClient, RasaUnavailable, Reply, as_typed_text
from knowledge import channels as state
from settings import Settings

logger = logging.getLogger(__name__)

RATE_LIMITED = (
    "Bạn gửi nhiều tin nhắn quá nhanh nên tôi chưa đọc được tin này. Bạn vui lòng chờ khoảng "
    "một phút rồi gửi lại."
)
BUSY_KEPT = (
    "Hệ thống đang bận nên tôi chưa trả lời ngay được. Tin nhắn của bạn đã được lưu lại, tôi "
    "sẽ trả lời ngay khi hệ thống hoạt động trở lại."
)
GREET = "/greet"
MAX_SENDERS = 10_000  # senders whose offered buttons are remembered (least recent forgotten)
MAX_BUTTONS = 60  # buttons remembered per sender

Deliver = Callable[[str, list[Reply]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One family message, channel-neutral.

    ``sender`` is set by the gateway (``telegram:<id>``, ``zalo:<id>``), ``text`` is what the
    family typed (kept whole), ``delivery_key`` identifies the delivery so a retry is known,
    and ``payload`` is an intent the gateway itself chose (``/greet``, a button it offered).
    """

    sender: str
    text: str
    delivery_key: str
    payload: str | None = None


def channel_of(sender: str) -> str:
    return sender.partition(":")[0]


class Inbox:
    """Sends incoming messages to Rasa and keeps them when it cannot answer."""

    def __init__(
        self, settings: Settings, rasa: RasaClient, sessions: sessionmaker[Session]
    ) -> None:
        self.settings = settings
        self.rasa = rasa
        self.sessions = sessions
        self.deliverers: dict[str, Deliver] = {}
        self._rate = parse(settings.channel_rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        self._offers: OrderedDict[str, OrderedDict[int, dict[str, str]]] = OrderedDict()
        self._next_button = 0

    # --- Buttons: only what the assistant offered a sender becomes an intent ----------------

    def offer(self, sender: str, buttons: list[dict[str, str]]) -> list[int]:
        """Remember buttons shown to ``sender``; returns a short id for each."""
        offers = self._offers.setdefault(sender, OrderedDict())
        self._offers.move_to_end(sender)
        ids = []
        for button in buttons:
            self._next_button += 1
            offers[self._next_button] = button
            ids.append(self._next_button)
        while len(offers) > MAX_BUTTONS:
            offers.popitem(last=False)
        while len(self._offers) > MAX_SENDERS:
            self._offers.popitem(last=False)
        return ids

    def offered_button(self, sender: str, button_id: int) -> dict[str, str] | None:
        return self._offers.get(sender, {}).get(button_id)

    def _is_offered_payload(self, sender: str, text: str) -> bool:
        return any(b.get("payload") == text for b in self._offers.get(sender, {}).values())

    def to_rasa(self, message: Incoming) -> str:
        """What Rasa receives: a trusted payload as is, anything typed as text."""
        if message.payload is not None:
            return message.payload
        if self._is_offered_payload(message.sender, message.text.strip()):
            return message.text.strip()
        return as_typed_text(message.text)

    # --- Handling ----------------------------------------------------------------------------

    async def first_delivery(self, key: str, sender: str) -> bool:
        """Record the delivery ``key``; False (and logged) when it is a channel's retry."""
        if await self._db(state.record_delivery, key, sender=sender):
            return True
        logger.info("Ignored a repeated delivery %s", key)
        return False

    async def record_undelivered(self, sender: str, text: str, error: str) -> None:
        await self._db(state.record_undelivered, sender=sender, text=text, error=error)

    def forget(self, sender: str) -> None:
        """Drop what this process remembers about ``sender`` (buttons offered)."""
        self._offers.pop(sender, None)

    async def handle(self, message: Incoming) -> list[Reply] | None:
        """The replies to ``message``; None when it is a retry of one already accepted."""
        if not await self.first_delivery(message.delivery_key, message.sender):
            return None
        if not await self._limiter.hit(self._rate, message.sender):
            logger.info("Rate limit reached for one %s sender", channel_of(message.sender))
            return [Reply(RATE_LIMITED)]
        text = self.to_rasa(message)
        async with self._lock(message.sender):
            if not await self._resend_for(message.sender):
                return await self._keep(message.sender, text, message.delivery_key)
            try:
                return await self._send(message.sender, text, message.delivery_key)
            except RasaUnavailable as exc:
                logger.warning("Rasa could not answer (%s); the message is kept", exc)
                return await self._keep(message.sender, text, message.delivery_key)

    async def _send(self, sender: str, text: str, delivery_key: str) -> list[Reply]:
        return await self.rasa.send(sender, text, {"delivery_key": delivery_key})

    async def _keep(self, sender: str, text: str, delivery_key: str) -> list[Reply]:
        await self._db(state.keep_message, sender=sender, message=text, delivery_key=delivery_key)
        return [Reply(BUSY_KEPT)]

    # --- Kept messages ------------------------------------------------------------------------

    async def resend_kept(self) -> int:
        """Resend kept messages oldest first and deliver the answers; returns how many."""
        done = 0
        senders = {k.sender for k in await self._db(state.kept_messages, limit=200)}
        for sender in sorted(senders):
            if channel_of(sender) not in self.deliverers:
                continue  # that channel is not running in this process
            async with self._lock(sender):
                before = await self._db(state.count_kept, sender=sender)
                finished = await self._resend_for(sender)
                done += before - await self._db(state.count_kept, sender=sender)
            if not finished:
                break
        return done

    async def _resend_for(self, sender: str) -> bool:
        """Answer ``sender``'s kept messages in order; False if one could not be answered."""
        for item in await self._db(state.kept_messages, sender=sender):
            deliver = self.deliverers.get(channel_of(sender))
            if deliver is None:
                return False
            try:
                replies = await self._send(sender, item.message, item.delivery_key)
            except RasaUnavailable:
                await self._db(state.note_attempt, item.id)
                return False
            try:
                await deliver(sender, replies)
            except Exception:
                # Kept for the next round; the delivery key lets actions spot the repeat.
                logger.exception("Could not deliver the answer to a kept message")
                return False
            await self._db(state.drop_kept, item.id)
            logger.info("Answered a kept message of one %s sender", channel_of(sender))
        return True

    async def run_resender(self) -> None:
        """Forever: every ``resend_interval`` seconds, try the kept messages again."""
        while True:
            await asyncio.sleep(self.settings.resend_interval)
            try:
                await self.resend_kept()
            except Exception:
                logger.exception("Resending kept messages failed; trying again later")

    # --- Plumbing -----------------------------------------------------------------------------

    def _lock(self, sender: str) -> asyncio.Lock:
        # One message per sender at a time, so a family's messages reach Rasa in order.
        lock = self._locks.get(sender)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[sender] = lock
        return lock

    async def _db(self, query: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one query in its own transaction, off the event loop."""

        def run() -> Any:
            with self.sessions.begin() as session:
                result = query(session, *args, **kwargs)
                if isinstance(result, list):
                    session.expunge_all()
                return result

        return await asyncio.to_thread(run)
