"""A fake of Zalo's OA API v3 and OAuth v4 (real HTTP), plus signed webhook events."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import threading
import time
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.recorder import Recorder

APP_ID = "4321098765432109876"
OA_SECRET_KEY = "oa-secret-key-for-tests"
APP_SECRET = "app-secret-for-tests"
OA_ID = "579745863508352884"


class FakeZalo:
    """Sends are recorded; tokens rotate like Zalo's (refresh tokens are single-use)."""

    url: str  # set by the test that serves it (ServerThread.url)

    def __init__(self, refresh_delay: float = 0.2) -> None:
        self.sent = Recorder()
        self.refreshes = Recorder()
        self.refresh_delay = refresh_delay
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.access_token = "access-0"
        self.refresh_token = "refresh-0"
        self.script: list[int] = []  # error codes to answer the next sends with
        self.app = Starlette(
            routes=[
                Route("/v3.0/oa/message/cs", self.message, methods=["POST"]),
                Route("/v4/oa/access_token", self.token, methods=["POST"]),
            ]
        )

    def expire(self) -> None:
        """The current access token stops working (its 25 hours are over)."""
        with self._lock:
            self.access_token = f"access-expired-{next(self._counter)}"

    def texts(self, user_id: str | None = None) -> list[str]:
        return [
            m["message"]["text"]
            for m in self.sent.items
            if user_id is None or m["user_id"] == user_id
        ]

    async def message(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            if request.headers.get("access_token") != self.access_token:
                return JSONResponse({"error": -216, "message": "Access token is invalid"})
            if self.script:
                code = self.script.pop(0)
                return JSONResponse({"error": code, "message": f"scripted error {code}"})
        user_id = body["recipient"]["user_id"]
        self.sent.add({"user_id": user_id, "message": body["message"]})
        return JSONResponse(
            {"error": 0, "message": "Success", "data": {"message_id": "m", "user_id": user_id}}
        )

    async def token(self, request: Request) -> JSONResponse:
        form = await request.form()
        await asyncio.sleep(self.refresh_delay)  # a slow refresh makes races show
        with self._lock:
            if request.headers.get("secret_key") != APP_SECRET or form.get("app_id") != APP_ID:
                return JSONResponse({"error": -14002, "error_name": "Invalid app"})
            if form.get("refresh_token") != self.refresh_token:
                self.refreshes.add({"ok": False, "used": form.get("refresh_token")})
                return JSONResponse({"error": -14014, "error_name": "Invalid refresh token"})
            n = next(self._counter)
            self.access_token, self.refresh_token = f"access-{n}", f"refresh-{n}"
            pair = {"access_token": self.access_token, "refresh_token": self.refresh_token}
        self.refreshes.add({"ok": True, **pair})
        return JSONResponse({**pair, "expires_in": "90000"})


def text_event(user_id: str, text: str, msg_id: str, timestamp: int | None = None) -> dict:
    return {
        "app_id": APP_ID,
        "user_id_by_app": f"app-{user_id}",
        "event_name": "user_send_text",
        "timestamp": str(timestamp if timestamp is not None else int(time.time() * 1000)),
        "sender": {"id": user_id},
        "recipient": {"id": OA_ID},
        "message": {"text": text, "msg_id": msg_id},
    }


def event(name: str, user_id: str, **extra: Any) -> dict:
    return {
        "app_id": APP_ID,
        "event_name": name,
        "timestamp": str(int(time.time() * 1000)),
        "sender": {"id": user_id},
        "recipient": {"id": OA_ID},
        **extra,
    }


def signature(body: bytes, timestamp: str, secret: str = OA_SECRET_KEY) -> str:
    digest = hashlib.sha256(APP_ID.encode() + body + timestamp.encode() + secret.encode())
    return f"mac={digest.hexdigest()}"


def post_event(
    url: str, payload: dict, *, header: str | None = "valid", client: httpx.Client | None = None
) -> httpx.Response:
    """POST ``payload`` to the gateway's Zalo webhook, signed unless told otherwise."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if header == "valid":
        headers["X-ZEvent-Signature"] = signature(body, payload["timestamp"])
    elif header is not None:
        headers["X-ZEvent-Signature"] = header
    return (client or httpx).post(f"{url}/zalo/webhook", content=body, headers=headers)


def zalo_env(api_url: str) -> dict[str, str]:
    """Settings that point the gateway at the fake."""
    return {
        "AMNESTY_ZALO_APP_ID": APP_ID,
        "AMNESTY_ZALO_SECRET_KEY": OA_SECRET_KEY,
        "AMNESTY_ZALO_APP_SECRET": APP_SECRET,
        "AMNESTY_ZALO_ACCESS_TOKEN": "access-0",
        "AMNESTY_ZALO_REFRESH_TOKEN": "refresh-0",
        "AMNESTY_ZALO_API_URL": api_url,
        "AMNESTY_ZALO_OAUTH_URL": f"{api_url}/v4/oa/access_token",
    }
