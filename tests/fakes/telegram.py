"""A fake Telegram Bot API (real HTTP): getUpdates long polling, sends recorded."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.recorder import Recorder

TOKEN = "123456789:AAFakeTokenThatMustNeverBeLogged_x"
BOT = {"id": 123456789, "is_bot": True, "first_name": "Trợ lý", "username": "amnesty_test_bot"}


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Gia đình", "language_code": "vi"}


def _chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Gia đình"}


class FakeTelegram:
    """Queue updates with :meth:`push_text` / :meth:`push_button`; read :attr:`sent`."""

    url: str  # set by the test that serves it (ServerThread.url)

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.sent = Recorder()  # sendMessage calls
        self.actions = Recorder()  # sendChatAction calls
        self.webhooks = Recorder()  # setWebhook calls
        self.pushed: dict[int, float] = {}  # update id -> when it was queued
        self._updates: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        # Real update ids are large and only grow; a fresh fake must not repeat earlier ones.
        self._ids = itertools.count(int(time.time() * 1000) % 2**31)
        self._message_ids = itertools.count(1000)
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self.call, methods=["POST"])])

    def base_url(self, server_url: str) -> str:
        return f"{server_url}/bot"

    # --- What the family does ----------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> int:
        with self._lock:
            update_id = next(self._ids)
            self._updates.append({"update_id": update_id, **update})
            self.pushed[update_id] = time.monotonic()
        return update_id

    def text_update(self, user_id: int, text: str) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(user_id),
            "from": _user(user_id),
            "text": text,
        }
        command = text.split()[0] if text.startswith("/") else ""
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"message": message}

    def push_text(self, user_id: int, text: str) -> int:
        return self._push(self.text_update(user_id, text))

    def push_sticker(self, user_id: int) -> int:
        update = self.text_update(user_id, "x")
        del update["message"]["text"]
        update["message"]["sticker"] = {
            "file_id": "s",
            "file_unique_id": "s",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
        return self._push(update)

    def push_button(self, user_id: int, sent_message: dict[str, Any], data: str) -> int:
        """Press the button with callback ``data`` under a message the bot sent."""
        query = {
            "id": str(next(self._ids)),
            "from": _user(user_id),
            "chat_instance": "ci",
            "data": data,
            "message": sent_message["result"],
        }
        return self._push({"callback_query": query})

    def to(self, user_id: int) -> list[dict[str, Any]]:
        return [m for m in self.sent.items if int(m["chat_id"]) == user_id]

    # --- The API ------------------------------------------------------------------------------

    async def call(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        params = await self._params(request)
        method = request.path_params["method"]
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return JSONResponse({"ok": True, "result": await handler(params)})

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            return await request.json()
        form = await request.form()
        params: dict[str, Any] = {}
        for key, value in form.items():
            try:
                params[key] = json.loads(str(value))
            except ValueError:
                params[key] = value
        return params

    async def api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT

    async def api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhooks.add(params)
        return True

    async def api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2)
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or time.monotonic() >= deadline:
                    return list(self._updates)
            await asyncio.sleep(0.005)

    async def api_sendMessage(self, params: dict[str, Any]) -> Any:
        result = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(int(params["chat_id"])),
            "from": BOT,
            "text": params["text"],
        }
        if params.get("reply_markup"):
            result["reply_markup"] = params["reply_markup"]
        self.sent.add({**params, "result": result})
        return result

    async def api_sendChatAction(self, params: dict[str, Any]) -> Any:
        self.actions.add(params)
        return True

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def api_close(self, params: dict[str, Any]) -> Any:
        return True
