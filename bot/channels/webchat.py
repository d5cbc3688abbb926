"""The web chat: the page, and its one API route that passes a message to Rasa."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.channels.rasa_client import RasaUnavailable, as_typed_text
from bot.shared_state import SharedState

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC = Path(__file__).parent / "static"
# The page's script and style are files of this origin: nothing inline, nothing elsewhere.
CHAT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
COOKIE = "amnesty_chat"
MAX_TEXT_CHARS = 20_000
BUSY = (
    "Xin lỗi, hệ thống đang bận hoặc gặp sự cố nên chưa trả lời được. "
    "Bạn vui lòng thử lại sau ít phút."
)


async def page(request: Request) -> Response:
    response = TEMPLATES.TemplateResponse(request, "chat.html", {})
    response.headers["Content-Security-Policy"] = CHAT_CSP
    if COOKIE not in request.cookies:
        response.set_cookie(
            COOKIE,
            secrets.token_urlsafe(16),
            httponly=True,
            samesite="strict",
            max_age=7 * 24 * 3600,
        )
    return response


async def messages(request: Request) -> Response:
    chat_id = request.cookies.get(COOKIE)
    if not chat_id:
        return JSONResponse({"error": "Hãy tải lại trang để bắt đầu trò chuyện."}, 400)
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "Yêu cầu không hợp lệ."}, 400)
    sender = f"web:{chat_id}"
    payload = body.get("payload") if isinstance(body, dict) else None
    text = body.get("text") if isinstance(body, dict) else None
    shared: SharedState = request.app.state.shared
    if isinstance(payload, str) and payload in await shared.payloads(sender):
        message = payload
    elif isinstance(text, str) and text.strip():
        message = as_typed_text(text[:MAX_TEXT_CHARS])
    else:
        return JSONResponse({"error": "Bạn chưa nhập câu hỏi."}, 400)
    # One key per request, repeated by every retry, so feedback is stored once.
    metadata = {"delivery_key": f"web:{uuid.uuid4().hex}"}
    try:
        replies = await request.app.state.rasa.send(sender, message, metadata)
    except RasaUnavailable:
        return JSONResponse({"replies": [{"text": BUSY, "buttons": []}], "busy": True})
    await shared.offer(sender, [b for r in replies for b in r.buttons])
    return JSONResponse(
        {
            "replies": [
                {
                    "text": r.text,
                    "buttons": [{"title": b["title"], "payload": b["payload"]} for b in r.buttons],
                }
                for r in replies
            ]
        }
    )


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
    ]
