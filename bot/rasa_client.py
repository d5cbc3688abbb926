"""Talking to Rasa over its REST channel: the one path every channel uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

# Rasa strips whitespace and reads text starting with "/" as an intent. A zero-width space in
# front keeps typed text as text; the normaliser removes it before the model sees it.
TYPED_TEXT_MARK = "\u200b"


def as_typed_text(text: str) -> str:
    """The family's typed text, safe from being taken for a button payload."""
    return TYPED_TEXT_MARK + text if text.lstrip().startswith("/") else text


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, or answered with nothing (it hides action errors behind a 200)."""


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


def parse_replies(payload: Any) -> list[Reply]:
    if not isinstance(payload, list):
        raise RasaUnavailable(f"unexpected reply from Rasa: {payload!r:.200}")
    replies = [
        Reply(str(item.get("text") or ""), list(item.get("buttons") or []))
        for item in payload
        if isinstance(item, dict) and (item.get("text") or item.get("buttons"))
    ]
    if not replies:
        raise RasaUnavailable("Rasa answered with no message")
    return replies


class RasaClient:
    """Sends one user message and returns the bot's replies."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[Reply]:
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        try:
            response = await self._http.post("/webhooks/rest/webhook", json=body)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa is not reachable: {exc}") from exc
        return parse_replies(response.json())

    async def aclose(self) -> None:
        await self._http.aclose()
