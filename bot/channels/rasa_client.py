"""Talking to Rasa over its REST channel: the one path every channel uses.

A message that meets a refused or reset connection, a timeout before any reply, or HTTP
502/503/504 (nginx with no live replica behind it) is sent again to the next URL of
``settings.rasa_urls`` (or the same load-balancer URL, which then picks a live replica), a
bounded number of times with a short backoff; then :class:`RasaUnavailable`, as before.

Why this is safe: if a replica dies after handling a message but before replying, the message
is handled twice. The only action that writes is the feedback submit, and it is idempotent by
the delivery key: ``actions/feedback.py`` (``draft_from``) takes the message's
``delivery_key`` metadata, which every retry repeats (same body; Telegram and Zalo use the
channel's delivery key, the web chat one made per request in ``bot/gateway.py``), and
``knowledge/feedback/items.py``'s ``record`` returns the item already stored under that key (unique
column ``FeedbackItem.delivery_key``; a concurrent insert loses on the constraint and returns
the winner) instead of adding one; ``knowledge/feedback/spool.py`` stores spooled items through the
same ``record``. The other writes are statistics, not keyed: ``actions/actions.py``'s
``record`` (unanswered-questions queue) and ``rate`` (a rating) may count a retried message
twice; staff see one more similar question or rating, and no family is affected. Every other
action only reads; at worst a form turn is applied twice, setting the same slot again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from settings import REST_SECRET_HEADER, Settings, secret

logger = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({502, 503, 504})
MIN_ATTEMPTS = 3
BACKOFF = 0.2  # seconds before the second try, doubled for each further one
# After a failure the message may have reached (a replica that died holding the conversation's
# lock), wait this long before the next try: Rasa 3.6's lock store leaves a turn waiting for
# ever when its ticket is issued within about a second of the dead one's (docs/deployment.md,
# known limits). A refused connection never reached Rasa and is retried at once.
LOCK_GAP = 2.0

# Rasa strips whitespace and reads text starting with "/" as an intent. A zero-width space in
# front keeps typed text as text; the normaliser removes it before the model sees it.
TYPED_TEXT_MARK = "\u200b"


def rest_headers(settings: Settings) -> dict[str, str]:
    """The header Rasa's REST channel requires (for scripts that call it directly)."""
    return {REST_SECRET_HEADER: secret(settings, "rest_secret")}


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
    """Sends one user message and returns the bot's replies, retrying on another server.

    ``urls`` are tried in turn (one URL: a load balancer, tried again); ``attempts`` bounds
    the tries (default: every URL once, at least :data:`MIN_ATTEMPTS`). ``secret`` goes in
    the header Rasa's REST channel requires (``nlu/channels.py``; ``settings.secret``).
    """

    def __init__(
        self,
        urls: str | Sequence[str],
        timeout: float = 30.0,
        *,
        secret: str,
        attempts: int | None = None,
        backoff: float = BACKOFF,
        lock_gap: float = LOCK_GAP,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.urls = (urls,) if isinstance(urls, str) else tuple(urls)
        if not self.urls:
            raise ValueError("RasaClient needs at least one Rasa URL (settings.rasa_urls)")
        self.attempts = attempts or max(MIN_ATTEMPTS, len(self.urls))
        self.backoff = backoff
        self.lock_gap = lock_gap
        self._http = httpx.AsyncClient(
            timeout=timeout, transport=transport, headers={REST_SECRET_HEADER: secret}
        )

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[Reply]:
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        problem = ""
        reached = False  # whether the last failed try may have reached a Rasa server
        for attempt in range(self.attempts):
            url = self.urls[attempt % len(self.urls)]
            if attempt:
                logger.warning(
                    "Rasa try %d/%d at %s after: %s", attempt + 1, self.attempts, url, problem
                )
                pause = self.backoff * 2 ** (attempt - 1)
                await asyncio.sleep(max(pause, self.lock_gap) if reached else pause)
            try:
                response = await self._http.post(f"{url}/webhooks/rest/webhook", json=body)
            except httpx.ConnectError as exc:  # refused: nothing was sent
                problem, reached = f"{exc.__class__.__name__} from {url}", False
                continue
            except httpx.TransportError as exc:  # reset, timed out before a reply
                problem, reached = f"{exc.__class__.__name__} from {url}", True
                continue
            if response.status_code in RETRY_STATUSES:
                problem, reached = f"HTTP {response.status_code} from {url}", True
                continue
            try:
                response.raise_for_status()
            except httpx.HTTPStatusError as exc:
                raise RasaUnavailable(f"Rasa refused the message: {exc}") from exc
            return parse_replies(response.json())
        raise RasaUnavailable(f"Rasa is not reachable after {self.attempts} tries: {problem}")

    async def aclose(self) -> None:
        await self._http.aclose()
