"""Zalo Official Account: the webhook (signature checked first), OA API v3 sends, token refresh.

Zalo gives a webhook 2 s to answer, then retries for 12 hours and finally disables it, so the
route checks the signature, writes the event to the host's ``received`` folder (fsynced, so it
survives a crash or a database outage: knowledge/local/received.py), answers 200 and does the
Rasa round trip in a task. The file goes once the event is handled; while the database is
down it stays, and the inbox's resender hands it back here when the database is up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.app_state import Gateway, running_gateway
from bot.channels.body import BadBody, parse_json, read_body
from bot.channels.inbox import DELIVERED, GREET, Delivery, Inbox, Incoming
from bot.channels.rasa_client import Reply
from knowledge import channels as state
from knowledge.db import DATABASE_ERRORS
from knowledge.feedback import privacy
from knowledge.local.received import Received
from settings import Settings
from vietnamese.splitting import split_text

logger = logging.getLogger(__name__)

CHANNEL = "zalo"
MESSAGE_PATH = "/v3.0/oa/message/cs"
EXPIRED_TOKEN = {-216, -124}
RATE_LIMITED = {-32}
UNSUPPORTED = (
    "Xin lỗi, tôi chỉ đọc được tin nhắn chữ. Bạn vui lòng gõ câu hỏi về đặc xá bằng chữ nhé."
)
BUTTONS_ONLY = "Mời bạn chọn:"
# Events that are not the family speaking: the OA's own echoes, receipts, clicks on links.
IGNORED_PREFIXES = ("oa_send_", "user_received_", "user_seen_", "user_click_link")


class ZaloError(RuntimeError):
    """Zalo refused a request."""


class ZaloRefused(ZaloError):
    """A send Zalo will not accept if repeated (outside the 7-day window, unfollowed...)."""


class ZaloRateLimited(ZaloError):
    """Zalo asked us to slow down; retried with backoff."""


def not_configured(settings: Settings) -> str | None:
    """Why the Zalo channel cannot start, or None when it can."""
    missing = [
        name
        for name, value in (
            ("AMNESTY_ZALO_APP_ID", settings.zalo_app_id),
            ("AMNESTY_ZALO_SECRET_KEY", settings.zalo_secret_key),
            ("AMNESTY_ZALO_APP_SECRET", settings.zalo_app_secret),
        )
        if not value
    ]
    if missing:
        return f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
    return None


# --- Receiving ------------------------------------------------------------------------------


def verify_signature(
    body: bytes, header: str | None, settings: Settings, now: float | None = None
) -> bool:
    """Whether ``body`` carries a valid, fresh ``X-ZEvent-Signature`` (``mac=<hex>``).

    hex = sha256(app id + raw body + timestamp + OA secret key), over the raw bytes.
    """
    if not header or not header.startswith("mac="):
        return False
    try:
        timestamp = str(json.loads(body)["timestamp"])
        sent = int(timestamp) / 1000
    except (ValueError, KeyError, TypeError, IndexError, OverflowError, RecursionError):
        return False  # not JSON, no timestamp, or one no clock could show
    if abs((time.time() if now is None else now) - sent) > settings.zalo_event_max_age:
        return False
    digest = hashlib.sha256(
        (settings.zalo_app_id or "").encode()
        + body
        + timestamp.encode()
        + (settings.zalo_secret_key or "").encode()
    ).hexdigest()
    given = header[len("mac=") :].strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(digest.encode(), given)


@dataclass(frozen=True, slots=True)
class ZaloEvent:
    kind: str  # "text", "follow", "withdraw" or "unsupported"
    sender: str
    key: str
    text: str = ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _identifier(value: Any) -> str | None:
    """An id as Zalo sends them (digits, as text or a number); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    return text if text and len(text) <= 100 else None


def parse_event(event: Any) -> ZaloEvent | None:
    """What a verified event asks of us; None for events that need nothing (echoes...) and
    for anything not shaped like a Zalo event."""
    if not isinstance(event, dict):
        return None
    name = event.get("event_name")
    if not isinstance(name, str) or not name or name.startswith(IGNORED_PREFIXES):
        return None
    user = _identifier(
        _object(event.get("sender")).get("id")
        or _object(event.get("follower")).get("id")
        or event.get("user_id")
    )
    if user is None:
        return None
    sender = f"{CHANNEL}:{user}"
    message = _object(event.get("message"))
    msg_id = _identifier(message.get("msg_id"))
    stamp = _identifier(event.get("timestamp")) or ""
    if name == "user_send_text" and msg_id and isinstance(message.get("text"), str):
        return ZaloEvent("text", sender, f"{CHANNEL}:{msg_id}", message["text"])
    if name == "follow":
        return ZaloEvent("follow", sender, f"{CHANNEL}:follow:{user}:{stamp}")
    if name == "user_withdraw":
        return ZaloEvent("withdraw", sender, f"{CHANNEL}:withdraw:{user}:{stamp}")
    if name.startswith("user_send_"):
        return ZaloEvent("unsupported", sender, f"{CHANNEL}:{msg_id or name + ':' + stamp}")
    return None


# --- Sending --------------------------------------------------------------------------------


def to_messages(reply: Reply, limit: int) -> list[dict[str, Any]]:
    """OA API v3 ``message`` objects for one reply; buttons go with the last piece."""
    pieces = split_text(reply.text, limit) or ([BUTTONS_ONLY] if reply.buttons else [])
    messages: list[dict[str, Any]] = [{"text": piece} for piece in pieces]
    if reply.buttons:
        messages[-1]["attachment"] = {
            "type": "template",
            "payload": {
                "buttons": [
                    {"title": b["title"], "payload": b["payload"], "type": "oa.query.show"}
                    for b in reply.buttons
                ]
            },
        }
    return messages


class ZaloClient:
    """OA API v3 with the access token from the database, refreshed when Zalo says expired."""

    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], backoff: float = 1.0
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.backoff = backoff
        self._http = httpx.AsyncClient(base_url=settings.zalo_api_url, timeout=15)
        self._refreshing = asyncio.Lock()

    async def send(self, user_id: str, message: dict[str, Any]) -> None:
        """Send one message; rate limits and network errors are retried with backoff."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((ZaloRateLimited, httpx.TransportError)),
            wait=wait_exponential(multiplier=self.backoff, max=30 * self.backoff),
            stop=stop_after_attempt(self.settings.zalo_send_attempts),
            reraise=True,
        ):
            with attempt:
                await self._send_once(user_id, message)

    async def _send_once(self, user_id: str, message: dict[str, Any]) -> None:
        token = await self._access_token()
        code, text = await self._post(token, user_id, message)
        if code in EXPIRED_TOKEN:
            token = await self.refresh(token)
            code, text = await self._post(token, user_id, message)
        if code == 0:
            return
        if code in RATE_LIMITED:
            raise ZaloRateLimited(f"Zalo error {code}: {text}")
        raise ZaloRefused(f"Zalo error {code}: {text}")

    async def _post(self, token: str, user_id: str, message: dict[str, Any]) -> tuple[int, str]:
        response = await self._http.post(
            MESSAGE_PATH,
            headers={"access_token": token},
            json={"recipient": {"user_id": user_id}, "message": message},
        )
        try:
            data = response.json()
            return int(data.get("error", 0)), str(data.get("message", ""))
        except (ValueError, AttributeError, TypeError):
            return response.status_code or -1, f"HTTP {response.status_code}"

    async def _access_token(self) -> str:
        pair = await asyncio.to_thread(self._read_pair)
        if pair is None:
            raise ZaloRefused(
                "no Zalo access token stored: set AMNESTY_ZALO_ACCESS_TOKEN and "
                "AMNESTY_ZALO_REFRESH_TOKEN (from the OA authorisation) and restart"
            )
        if pair.expires_at is not None and pair.expires_at <= dt.datetime.now(dt.UTC):
            return await self.refresh(pair.access_token)
        return pair.access_token

    def _read_pair(self) -> state.TokenPair | None:
        with self.sessions() as session:
            pair = state.current_token(session, CHANNEL)
        if pair and pair.expires_at and pair.expires_at.tzinfo is None:  # SQLite drops the zone
            pair = state.TokenPair(
                pair.access_token,
                pair.refresh_token,
                pair.expires_at.replace(tzinfo=dt.UTC),
            )
        return pair

    async def refresh(self, stale: str) -> str:
        """A fresh access token; only one refresh spends the single-use refresh token."""
        async with self._refreshing:
            return await asyncio.to_thread(self._refresh_locked, stale)

    def _refresh_locked(self, stale: str) -> str:
        # The new pair is stored in the same transaction that locked the old one, so another
        # process waits for it instead of spending the refresh token a second time.
        with self.sessions.begin() as session:
            pair = state.lock_token(session, CHANNEL)
            if pair is None:
                raise ZaloRefused("no Zalo token pair stored: set AMNESTY_ZALO_REFRESH_TOKEN")
            if pair.access_token != stale:
                return pair.access_token  # someone else refreshed meanwhile
            new = self._exchange(pair.refresh_token)
            state.store_token(session, CHANNEL, new)
        logger.info("Zalo access token refreshed")
        return new.access_token

    def _exchange(self, refresh_token: str) -> state.TokenPair:
        s = self.settings
        response = httpx.post(
            s.zalo_oauth_url,
            headers={"secret_key": s.zalo_app_secret or ""},
            data={
                "app_id": s.zalo_app_id or "",
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
            timeout=15,
        )
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict) or not data.get("access_token"):
            error = data.get("error_name") or data.get("error") if isinstance(data, dict) else ""
            raise ZaloRefused(
                f"Zalo refused the token refresh ({error or response.status_code}): authorise "
                "the OA again and set AMNESTY_ZALO_ACCESS_TOKEN / AMNESTY_ZALO_REFRESH_TOKEN"
            )
        lifetime = int(data.get("expires_in") or 90_000)
        return state.TokenPair(
            data["access_token"],
            data.get("refresh_token") or refresh_token,
            dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime - 60),
        )

    async def aclose(self) -> None:
        await self._http.aclose()


# --- The channel ----------------------------------------------------------------------------


class ZaloChannel:
    """Turns verified Zalo events into inbox messages and sends the replies back."""

    def __init__(
        self, settings: Settings, inbox: Inbox, client: ZaloClient, received: Received
    ) -> None:
        self.settings = settings
        self.inbox = inbox
        self.client = client
        self.received = received
        self._tasks: set[asyncio.Task[None]] = set()

    async def webhook(self, request: Request) -> Response:
        """Check the signature on the raw body, keep the event on disk, answer, then process."""
        try:
            body = await read_body(request)
        except BadBody as exc:
            return exc.response()
        if not verify_signature(body, request.headers.get("X-ZEvent-Signature"), self.settings):
            logger.warning("Rejected a Zalo webhook request with a bad or stale signature")
            return JSONResponse({"error": "invalid signature"}, 401)
        try:
            event = parse_json(body)
        except BadBody as exc:
            return exc.response()
        parsed = parse_event(event)
        if parsed is None:
            return JSONResponse({"ok": True})  # nothing for us (an echo, a receipt...)
        await asyncio.to_thread(self.received.put, CHANNEL, parsed.key, parsed.sender, event)
        task = asyncio.create_task(self.handle_kept(parsed.key, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return JSONResponse({"ok": True})

    async def handle_kept(self, key: str, event: Any) -> None:
        """Process an event kept on disk; its file goes once it has been handled."""
        if await self.process(event):
            await asyncio.to_thread(self.received.done, key)

    async def replay(self, event: dict[str, Any]) -> bool:
        """Process again an event kept on disk (the inbox's resender calls this)."""
        return await self.process(event)

    async def process(self, event: Any) -> bool:
        """Handle one verified event (after Zalo got its 200); False when the database is down
        and the event must wait, True otherwise (handled, or failed for good: logged)."""
        try:
            parsed = parse_event(event)
            if parsed is None:
                return True
            if parsed.kind in {"text", "follow"}:
                payload = GREET if parsed.kind == "follow" else None
                handled = await self.inbox.handle(
                    Incoming(parsed.sender, parsed.text, parsed.key, payload)
                )
                if handled.replies:
                    await self.deliver(parsed.sender, handled.replies)
            elif await self.inbox.first_delivery(parsed.key, parsed.sender):
                if parsed.kind == "withdraw":
                    await self.forget(parsed.sender)
                else:
                    await self.deliver(parsed.sender, [Reply(UNSUPPORTED)])
        except DATABASE_ERRORS as exc:
            logger.warning(
                "Database unavailable (%s); the Zalo event is kept for later",
                exc.__class__.__name__,
            )
            return False
        except Exception:
            logger.exception("Processing a Zalo event failed")
        return True

    async def deliver(self, sender: str, replies: list[Reply]) -> Delivery:
        """Send ``replies``; a refusal is recorded for staff instead of retried forever."""
        user_id = sender.partition(":")[2]
        messages = [m for r in replies for m in to_messages(r, self.settings.zalo_max_chars)]
        for sent, message in enumerate(messages):
            if message.get("attachment"):
                await self.inbox.offer(sender, message["attachment"]["payload"]["buttons"])
            try:
                await self.client.send(user_id, message)
            except (ZaloError, httpx.HTTPError) as exc:
                logger.warning("A Zalo reply was not delivered: %s", exc)
                text = "\n\n".join(m["text"] for m in messages[sent:])
                return await self.inbox.record_undelivered(sender, text, str(exc))
        return DELIVERED

    async def forget(self, sender: str) -> None:
        """Delete what we hold about ``sender`` (Zalo forwarded a data-subject request)."""
        await asyncio.to_thread(privacy.forget_everywhere, self.settings, sender, "zalo")
        await self.inbox.forget(sender)
        logger.info("Deleted the data of one Zalo user on their request")

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()  # its event stays on disk and is handled after the restart
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.aclose()


def seed_token(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Store the configured token pair unless the database holds the chain rotated from it."""
    if settings.zalo_access_token and settings.zalo_refresh_token:
        pair = state.TokenPair(settings.zalo_access_token, settings.zalo_refresh_token, None)
        with sessions.begin() as session:
            state.seed_token(session, CHANNEL, pair)


@asynccontextmanager
async def running(gateway: Gateway, backoff: float = 1.0) -> AsyncIterator[None]:
    """Serve Zalo from the gateway while the context is open (if configured)."""
    settings, inbox = gateway.settings, gateway.inbox
    if not_configured(settings):
        yield
        return
    await asyncio.to_thread(seed_token, settings, inbox.sessions)
    client = ZaloClient(settings, inbox.sessions, backoff)
    channel = ZaloChannel(settings, inbox, client, gateway.received)
    inbox.deliverers[CHANNEL] = channel.deliver
    inbox.replayers[CHANNEL] = channel.replay
    gateway.zalo = channel
    try:
        yield
    finally:
        inbox.deliverers.pop(CHANNEL, None)
        inbox.replayers.pop(CHANNEL, None)
        gateway.zalo = None
        await channel.aclose()


async def webhook(request: Request) -> Response:
    gateway = running_gateway(request)
    if gateway is None or gateway.zalo is None:
        return JSONResponse({"error": "Zalo is not configured on this server"}, 404)
    return await gateway.zalo.webhook(request)


def routes() -> list[Route]:
    """The gateway routes of this channel."""
    return [Route("/zalo/webhook", webhook, methods=["POST"])]
