"""Reading request bodies that anyone on the internet may send: a bounded size, and JSON that
cannot crash the handler (deep nesting, huge numbers, bad UTF-8 all become HTTP 400)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

MAX_BODY_BYTES = 256 * 1024  # far above any real chat message, Zalo event or Telegram update


class BadBody(ValueError):
    """The body cannot be accepted; ``status`` is the HTTP answer (400, or 413: too large)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status

    def response(self) -> JSONResponse:
        return JSONResponse({"error": str(self)}, self.status)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused as soon as it is longer than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadBody(413, "request body too large")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BadBody(413, "request body too large")
            chunks.append(chunk)
    except ClientDisconnect:
        raise BadBody(400, "the client went away") from None
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """The JSON value of ``body``; BadBody(400) for anything that is not plain JSON."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError and int-size limits are ValueErrors
        raise BadBody(400, "not valid JSON") from None


async def read_object(request: Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The body as a JSON object; BadBody for anything else (an array, a number...)."""
    value = parse_json(await read_body(request, limit))
    if not isinstance(value, dict):
        raise BadBody(400, "a JSON object is expected")
    return value
