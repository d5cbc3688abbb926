"""The web chat: the page, and its API, through the one inbox (bot/channels/inbox.py).

The browser is known by a random id in a cookie signed with the gateway's secret
(itsdangerous), so a cookie the client made up is never a sender: the sender is
``web:<id>``. A message first meets the client address's limit (``AMNESTY_WEB_ADDRESS_RATE``),
then the inbox: the page's delivery key (repeated by a retry, so feedback is stored once), the
per-browser limit (``AMNESTY_CHANNEL_RATE``), the offered-buttons rule, and keeping the message
while Rasa is down. Over a limit: HTTP 429 with a polite message. The answer to a kept message
waits in the database until the page fetches it from ``/api/replies``, which it polls while
a message of its own is waiting.
"""

from __future__ import annotations

import re
import secrets
import uuid
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.app_state import Gateway, gateway_of
from bot.channels.body import BadBody, read_object
from bot.channels.inbox import (
    DELIVERED,
    RATE_LIMITED,
    Delivery,
    Handled,
    Inbox,
    Incoming,
    Outcome,
)
from bot.channels.rasa_client import Reply
from bot.web_security import app_secret
from knowledge.db import DATABASE_ERRORS
from settings import Settings

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC = Path(__file__).parent / "static"
# The page's script and style are files of this origin: nothing inline, nothing elsewhere.
CHAT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
CHANNEL = "web"
COOKIE = "amnesty_chat"
COOKIE_SECONDS = 7 * 24 * 3600
MAX_TEXT_CHARS = 20_000
POLL_RATE = parse("120/minute")  # fetching waiting replies, per client address
KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

RELOAD = "Hãy tải lại trang để bắt đầu trò chuyện."
EMPTY = "Bạn chưa nhập câu hỏi."
OLD_BUTTON = "Nút này đã cũ nên tôi không còn nhớ. Bạn vui lòng gõ lại câu hỏi nhé."
BAD_REQUEST = "Yêu cầu không hợp lệ. Bạn vui lòng tải lại trang rồi thử lại."
TOO_MANY_HERE = (
    "Có quá nhiều tin nhắn gửi từ mạng của bạn trong một phút nên tôi chưa đọc được tin này. "
    "Bạn vui lòng chờ một chút rồi gửi lại."
)
BUSY = (
    "Xin lỗi, hệ thống đang bận hoặc gặp sự cố nên chưa nhận được tin nhắn. "
    "Bạn vui lòng thử lại sau ít phút."
)


def signer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(app_secret(settings), salt="amnesty-webchat-browser")


def browser_id(request: Request, settings: Settings) -> str | None:
    """The browser's id from its signed cookie; None when missing or not signed by us."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        value = signer(settings).loads(cookie)
    except BadSignature:
        return None
    return value if isinstance(value, str) and KEY.match(value) else None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status)


def shown(replies: list[Reply]) -> list[dict[str, Any]]:
    return [
        {
            "text": r.text,
            "buttons": [{"title": b["title"], "payload": b["payload"]} for b in r.buttons],
        }
        for r in replies
    ]


async def page(request: Request) -> Response:
    settings = gateway_of(request).settings
    response = TEMPLATES.TemplateResponse(request, "chat.html", {})
    response.headers["Content-Security-Policy"] = CHAT_CSP
    if browser_id(request, settings) is None:
        response.set_cookie(
            COOKIE,
            signer(settings).dumps(secrets.token_urlsafe(16)),
            httponly=True,
            samesite="strict",
            max_age=COOKIE_SECONDS,
        )
    return response


async def incoming(inbox: Inbox, sender: str, body: dict[str, Any]) -> Incoming | str:
    """The message the body carries, or why it cannot be one."""
    key = body.get("key")
    delivery_key = (
        f"{sender}:{key if isinstance(key, str) and KEY.match(key) else uuid.uuid4().hex}"
    )
    payload, text = body.get("payload"), body.get("text")
    if isinstance(payload, str) and payload:
        if payload not in await inbox.shared.payloads(sender):
            return OLD_BUTTON  # only buttons the assistant offered this browser become intents
        return Incoming(sender, payload, delivery_key, payload)
    if isinstance(text, str) and text.strip():
        return Incoming(sender, text[:MAX_TEXT_CHARS], delivery_key, typed_may_be_button=False)
    return EMPTY


async def messages(request: Request) -> Response:
    """One message from the page; its answer, or 202 when it waits for Rasa."""
    gateway = gateway_of(request)
    browser = browser_id(request, gateway.settings)
    if browser is None:
        return error(RELOAD, 400)
    address_rate = parse(gateway.settings.web_address_rate)
    if not await gateway.shared.hit(address_rate, "web-address", client_address(request)):
        return error(TOO_MANY_HERE, 429)
    try:
        body = await read_object(request)
    except BadBody as exc:
        return error(BAD_REQUEST, exc.status)
    message = await incoming(gateway.inbox, f"{CHANNEL}:{browser}", body)
    if isinstance(message, str):
        return error(message, 400)
    try:
        handled = await gateway.inbox.handle(message)
    except DATABASE_ERRORS:
        return error(BUSY, 503)
    return await answer(gateway, message.sender, handled)


async def answer(gateway: Gateway, sender: str, handled: Handled) -> Response:
    if handled.outcome is Outcome.LIMITED:
        return error(RATE_LIMITED, 429)
    if handled.outcome is Outcome.ANSWERED:
        await gateway.inbox.offer(sender, [b for r in handled.replies for b in r.buttons])
        return JSONResponse({"replies": shown(handled.replies)})
    # Kept for Rasa, or a retry of a message already accepted: the page fetches the answer.
    return JSONResponse({"replies": shown(handled.replies), "pending": True}, 202)


async def replies(request: Request) -> Response:
    """The answers to this browser's kept messages that came in since it last asked."""
    gateway = gateway_of(request)
    browser = browser_id(request, gateway.settings)
    if browser is None:
        return error(RELOAD, 400)
    if not await gateway.shared.hit(POLL_RATE, "web-poll", client_address(request)):
        return error(TOO_MANY_HERE, 429)
    sender = f"{CHANNEL}:{browser}"
    inbox = gateway.inbox
    try:
        waiting = await inbox.waiting_replies(sender)
        still_kept = await inbox.kept_count(sender)
    except DATABASE_ERRORS:
        return error(BUSY, 503)
    await inbox.offer(sender, [b for r in waiting for b in r.get("buttons", [])])
    return JSONResponse({"replies": waiting, "pending": still_kept > 0})


def deliverer(inbox: Inbox) -> Any:
    """The web chat's deliverer: replies wait in the database until the page fetches them."""

    async def keep(sender: str, replies: list[Reply]) -> Delivery:
        await inbox.keep_replies(sender, shown(replies))
        return DELIVERED

    return keep


async def script(request: Request) -> Response:
    return FileResponse(STATIC / "chat.js", media_type="text/javascript")


async def style(request: Request) -> Response:
    return FileResponse(STATIC / "chat.css", media_type="text/css")


def routes() -> list[Route]:
    return [
        Route("/", page),
        Route("/chat.js", script),
        Route("/chat.css", style),
        Route("/api/messages", messages, methods=["POST"]),
        Route("/api/replies", replies),
    ]
