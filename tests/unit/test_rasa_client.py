"""Retrying a message on another Rasa: which failures are retried, and how often.

The 502/503 replies stand for nginx with no live replica behind it, so httpx's MockTransport
plays nginx here (deterministic, no port to race for); refused connections and the real Rasa
are in tests/e2e/test_rasa_retry.py.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from bot.channels.rasa_client import RasaClient, RasaUnavailable, Reply

ANSWER = [{"recipient_id": "zalo:1", "text": "Đặc xá là..."}]


def nginx(statuses: list[int], seen: list[str]) -> httpx.MockTransport:
    """Answers with ``statuses`` in turn, then with a Rasa reply; records the URLs asked."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if statuses:
            return httpx.Response(statuses.pop(0), text="<html>Bad Gateway</html>")
        return httpx.Response(200, json=ANSWER)

    return httpx.MockTransport(handle)


def send(client: RasaClient) -> list[Reply]:
    async def run() -> list[Reply]:
        try:
            return await client.send("zalo:1", "đặc xá là gì", {"delivery_key": "zalo:m1"})
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_502_is_sent_again_to_the_next_url() -> None:
    seen: list[str] = []
    urls = ("http://rasa-a:5005", "http://rasa-b:5005")
    client = RasaClient(urls, secret="s", backoff=0.01, lock_gap=0.01, transport=nginx([502], seen))
    assert send(client) == [Reply("Đặc xá là...")]
    assert seen == [f"{u}/webhooks/rest/webhook" for u in urls]


def test_one_balancer_url_is_tried_again_a_bounded_number_of_times() -> None:
    seen: list[str] = []
    client = RasaClient(
        "http://lb", secret="s", backoff=0.01, lock_gap=0.01, transport=nginx([503] * 9, seen)
    )
    with pytest.raises(RasaUnavailable, match="after 3 tries: HTTP 503"):
        send(client)
    assert seen == ["http://lb/webhooks/rest/webhook"] * 3


def test_other_errors_are_not_retried() -> None:
    seen: list[str] = []
    client = RasaClient(
        ("http://a", "http://b"), secret="s", backoff=0.01, transport=nginx([500], seen)
    )
    with pytest.raises(RasaUnavailable, match="refused"):
        send(client)
    assert len(seen) == 1  # Rasa itself failed on the message: another replica would too


def test_after_a_failure_that_may_have_reached_rasa_the_next_try_waits_for_its_lock() -> None:
    seen: list[str] = []
    client = RasaClient(
        ("http://a", "http://b"),
        secret="s",
        backoff=0.01,
        lock_gap=0.5,
        transport=nginx([502], seen),
    )
    started = time.monotonic()
    assert send(client) == [Reply("Đặc xá là...")]
    assert time.monotonic() - started >= 0.5
