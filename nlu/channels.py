"""Rasa's REST channel, open only to whoever holds the shared secret (the gateway).

Rasa 3.6's ``RestInput`` checks no token, so anything that reaches Rasa's port could write as
any sender (``telegram:123``) or send raw ``/intent{...}`` messages past the gateway's
offered-button check. ``credentials.yml`` names this class instead; it keeps the name
``rest`` (same URL, ``/webhooks/rest/webhook``) and answers 401 to a request without the
header ``X-Amnesty-Rest-Secret`` (the value of ``${AMNESTY_REST_SECRET}``, which
``python -m nlu run`` puts in Rasa's environment).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

HEADER = "X-Amnesty-Rest-Secret"  # settings.REST_SECRET_HEADER; nlu may not import bot/


def has_secret(request: Request, secret: str) -> bool:
    given = request.headers.get(HEADER, "")
    return hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))


class PrivateRestInput(RestInput):
    """``RestInput`` behind a shared secret header."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise RasaException("PrivateRestInput needs a secret (credentials.yml: secret:)")
        self.secret = secret

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> PrivateRestInput:
        return cls(str((credentials or {}).get("secret") or ""))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        async def require_secret(request: Request) -> HTTPResponse | None:
            if has_secret(request, self.secret):
                return None
            return response.json({"error": "unauthorized"}, status=401)

        webhook.middleware(require_secret, "request")
        return webhook
