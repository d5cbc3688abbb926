"""The one way a family's message reaches Rasa, whatever the channel (web chat, Telegram, Zalo).

Each channel turns its update into an :class:`Incoming` and renders the replies. Here: retries
recognised (durably, by delivery key), the per-sender rate limit, which button payloads may
become intents, and the "busy, your message was kept" path with its background resender, which
hands the late answers to the channel's deliverer (the web chat keeps them for the page to
fetch). :meth:`Inbox.handle` says what became of a message (:class:`Handled`), and a deliverer
what became of replies (:class:`Delivery`), so callers never count rows to find out.

Across gateway replicas: deliveries seen and kept messages are in the database (a kept message
is claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL while it is resent), rate limits,
buttons and the per-sender order in :mod:`bot.shared_state` (Redis when configured).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerSecond, parse
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.rasa_client import RasaClient, RasaUnavailable, Reply, as_typed_text
from bot.shared_state import MAX_BUTTONS, SharedState
from knowledge import channels as state
from knowledge.channels import channel_of
from knowledge.local.received import Received, received_directory
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
__all__ = [
    "BUSY_KEPT",
    "MAX_BUTTONS",
    "RATE_LIMITED",
    "Delivery",
    "Handled",
    "Inbox",
    "Incoming",
    "Outcome",
]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of replies sent to a family: delivered, or refused for good (and why: the
    channel's words, also recorded for staff in ``channel_undelivered``)."""

    delivered: bool
    refusal: str | None = None


DELIVERED = Delivery(True)
Deliver = Callable[[str, list[Reply]], Awaitable[Delivery]]
# Handles again a channel event kept on disk: True when done, False when it must wait longer.
Replay = Callable[[dict[str, Any]], Awaitable[bool]]


class Outcome(enum.Enum):
    """What :meth:`Inbox.handle` did with a message."""

    ANSWERED = "answered"  # Rasa answered: the replies are its answer
    KEPT = "kept"  # Rasa could not answer: kept, answered through the deliverer later
    LIMITED = "limited"  # over the sender's rate: not read
    REPEATED = "repeated"  # a channel's retry of a delivery already accepted: nothing to do


@dataclass(frozen=True, slots=True)
class Handled:
    """The outcome of one message and the replies to show now (maybe none)."""

    outcome: Outcome
    replies: list[Reply]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One family message, channel-neutral.

    ``sender`` is set by the gateway (``telegram:<id>``, ``zalo:<id>``), ``text`` is what the
    family typed (kept whole), ``delivery_key`` identifies the delivery so a retry is known,
    and ``payload`` is an intent the gateway itself chose (``/greet``, a button it offered).
    ``typed_may_be_button``: on Zalo a pressed button arrives as its payload typed, so typed
    text equal to an offered payload is that button; the web chat sends presses apart.
    """

    sender: str
    text: str
    delivery_key: str
    payload: str | None = None
    typed_may_be_button: bool = True


class Inbox:
    """Sends incoming messages to Rasa and keeps them when it cannot answer."""

    def __init__(
        self,
        settings: Settings,
        rasa: RasaClient,
        sessions: sessionmaker[Session],
        shared: SharedState | None = None,
        received: Received | None = None,
    ) -> None:
        self.settings = settings
        self.rasa = rasa
        self.sessions = sessions
        self.shared = shared or SharedState.from_settings(settings)
        self.received = received or Received(received_directory(settings))
        self.deliverers: dict[str, Deliver] = {}
        self.replayers: dict[str, Replay] = {}
        self._rate = parse(settings.channel_rate)
        # One "too fast" notice per window: every extra reply would spend the send quota.
        self._notice = RateLimitItemPerSecond(1, self._rate.get_expiry())

    # --- Buttons: only what the assistant offered a sender becomes an intent ----------------

    async def offer(self, sender: str, buttons: list[dict[str, str]]) -> list[int]:
        """Remember buttons shown to ``sender``; returns a short id for each."""
        return await self.shared.offer(sender, buttons)

    async def offered_button(self, sender: str, button_id: int) -> dict[str, str] | None:
        return await self.shared.button(sender, button_id)

    async def to_rasa(self, message: Incoming) -> str:
        """What Rasa receives: a trusted payload as is, anything typed as text."""
        if message.payload is not None:
            return message.payload
        typed = message.text.strip()
        if (
            message.typed_may_be_button
            and typed.startswith("/")
            and typed in await self.shared.payloads(message.sender)
        ):
            return typed
        return as_typed_text(message.text)

    # --- Handling ----------------------------------------------------------------------------

    async def first_delivery(self, key: str, sender: str) -> bool:
        """Record the delivery ``key``; False (and logged) when it is a channel's retry."""
        if await self._db(state.record_delivery, key, sender=sender):
            return True
        logger.info("Ignored a repeated delivery %s", key)
        return False

    async def record_undelivered(self, sender: str, text: str, error: str) -> Delivery:
        """Keep, for staff, replies a channel refused for good; returns that refusal."""
        await self._db(state.record_undelivered, sender=sender, text=text, error=error)
        return Delivery(False, error)

    async def keep_replies(self, sender: str, replies: list[dict[str, Any]]) -> None:
        """Keep replies for a channel that cannot push them (the web chat)."""
        await self._db(state.keep_replies, sender=sender, replies=replies)

    async def waiting_replies(self, sender: str) -> list[dict[str, Any]]:
        """The replies kept for ``sender``, taken (so each is shown once)."""
        return await self._db(state.take_replies, sender=sender)

    async def kept_count(self, sender: str) -> int:
        """How many of ``sender``'s messages still wait for Rasa."""
        return await self._db(state.count_kept, sender=sender)

    async def forget(self, sender: str) -> None:
        """Drop the buttons offered to ``sender`` (in Redis too when it is used)."""
        await self.shared.forget(sender)

    async def handle(self, message: Incoming) -> Handled:
        """Send ``message`` to Rasa (or keep it); the outcome and the replies to show now."""
        if not await self.first_delivery(message.delivery_key, message.sender):
            return Handled(Outcome.REPEATED, [])
        if not await self.shared.hit(self._rate, message.sender):
            logger.info("Rate limit reached for one %s sender", channel_of(message.sender))
            notice = await self.shared.hit(self._notice, "notice", message.sender)
            return Handled(Outcome.LIMITED, [Reply(RATE_LIMITED)] if notice else [])
        text = await self.to_rasa(message)
        async with self.shared.ordered(message.sender):
            if not await self._resend_for(message.sender):
                return await self._keep(message.sender, text, message.delivery_key)
            try:
                replies = await self._send(message.sender, text, message.delivery_key)
            except RasaUnavailable as exc:
                logger.warning("Rasa could not answer (%s); the message is kept", exc)
                return await self._keep(message.sender, text, message.delivery_key)
        return Handled(Outcome.ANSWERED, replies)

    async def _send(self, sender: str, text: str, delivery_key: str) -> list[Reply]:
        return await self.rasa.send(sender, text, {"delivery_key": delivery_key})

    async def _keep(self, sender: str, text: str, delivery_key: str) -> Handled:
        await self._db(state.keep_message, sender=sender, message=text, delivery_key=delivery_key)
        return Handled(Outcome.KEPT, [Reply(BUSY_KEPT)])

    # --- Kept messages ------------------------------------------------------------------------

    async def resend_kept(self) -> int:
        """Resend kept messages oldest first and deliver the answers; returns how many."""
        done = 0
        senders = {k.sender for k in await self._db(state.kept_messages, limit=200)}
        for sender in sorted(senders):
            if channel_of(sender) not in self.deliverers:
                continue  # that channel is not running in this process
            async with self.shared.ordered(sender):
                before = await self._db(state.count_kept, sender=sender)
                finished = await self._resend_for(sender)
                done += before - await self._db(state.count_kept, sender=sender)
            if finished is False:  # Rasa is down: the other senders can wait too
                break
        return done

    async def _resend_for(self, sender: str) -> bool | None:
        """Answer ``sender``'s kept messages in order; False if one could not be answered,
        None if another gateway replica is answering them now."""
        while True:
            item = await self._db(state.oldest_kept, sender=sender)
            if item is None:
                return True
            deliver = self.deliverers.get(channel_of(sender))
            if deliver is None:
                return False
            done = await self._resend_one(sender, item.id, deliver)
            if not done:
                return done

    async def _resend_one(self, sender: str, kept_id: int, deliver: Deliver) -> bool | None:
        """Resend one kept message while holding its row, so no other replica sends it too."""
        session = self.sessions()
        try:
            item = await asyncio.to_thread(state.claim_kept, session, kept_id)
            if item is None:
                logger.info("A kept message is being answered elsewhere; leaving it")
                return None
            try:
                replies = await self._send(sender, item.message, item.delivery_key)
            except RasaUnavailable:
                await asyncio.to_thread(_commit, session, state.note_attempt, kept_id)
                return False
            try:
                await deliver(sender, replies)
            except Exception:
                # Kept for the next round; the delivery key lets actions spot the repeat.
                logger.exception("Could not deliver the answer to a kept message")
                return False
            await asyncio.to_thread(_commit, session, state.drop_kept, kept_id)
            logger.info("Answered a kept message of one %s sender", channel_of(sender))
            return True
        finally:
            await asyncio.to_thread(session.close)

    async def replay_received(self) -> int:
        """Hand the channel events kept on disk back to their channel, oldest first; stops at
        the first that must wait (the database is still down). Returns how many were done."""
        done = 0
        for held in await asyncio.to_thread(self.received.held):
            replay = self.replayers.get(held.channel)
            if replay is None:
                continue  # that channel is not running in this process
            if not await replay(held.event):
                break
            await asyncio.to_thread(self.received.done, held.key)
            done += 1
        if done:
            logger.info("Handled %d channel event(s) kept while the database was down", done)
        return done

    async def run_resender(self) -> None:
        """Forever: every ``resend_interval`` seconds, handle the events kept on disk and try
        the kept messages again."""
        while True:
            await asyncio.sleep(self.settings.resend_interval)
            try:
                await self.replay_received()
                await self.resend_kept()
            except Exception:
                logger.exception("Resending kept messages failed; trying again later")

    # --- Plumbing -----------------------------------------------------------------------------

    async def _db(self, query: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one query in its own transaction, off the event loop."""

        def run() -> Any:
            with self.sessions.begin() as session:
                result = query(session, *args, **kwargs)
                if isinstance(result, list):
                    session.expunge_all()
                return result

        return await asyncio.to_thread(run)


def _commit(session: Session, query: Callable[..., Any], *args: Any) -> None:
    query(session, *args)
    session.commit()
