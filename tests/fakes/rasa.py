"""A fake of Rasa's REST channel (real HTTP): records what it receives, answers with a button,
and can be "down" (HTTP 500: the gateway then keeps the message)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from tests.fakes.recorder import Recorder

BUTTON = {"title": "Chi phí, cảnh báo lừa đảo", "payload": "/ask_fees"}


class FakeRasa:
    port: int  # set by the test that serves it (ServerThread.port)

    def __init__(self) -> None:
        self.received = Recorder()  # {"sender", "message", "metadata"} per message
        self.down = False
        self.app = Starlette(
            routes=[
                Route("/", self.hello),
                Route("/webhooks/rest/webhook", self.hook, methods=["POST"]),
            ]
        )

    async def hello(self, request: Request) -> PlainTextResponse:
        return PlainTextResponse("Hello from Rasa: 3.6.21", 500 if self.down else 200)

    async def hook(self, request: Request) -> JSONResponse:
        if self.down:
            return JSONResponse({"error": "down"}, 500)
        body: dict[str, Any] = await request.json()
        self.received.add(body)
        return JSONResponse(
            [
                {
                    "recipient_id": body["sender"],
                    "text": f"Trả lời: {body['message']}",
                    "buttons": [BUTTON],
                }
            ]
        )

    def messages(self) -> list[str]:
        return [m["message"] for m in self.received.items]
