"""The web chat through the one inbox, over real HTTP: a signed browser id (never a raw
cookie), delivery keys, per-browser and per-address limits (429), only offered buttons as
intents, and the answer to a message kept while Rasa was down fetched by the page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.inbox import BUSY_KEPT, RATE_LIMITED
from bot.channels.webchat import COOKIE, TOO_MANY_HERE
from bot.gateway import create_app
from settings import Settings
from tests.fakes.gateway import gateway_settings
from tests.fakes.rasa import BUTTON, FakeRasa
from tests.fakes.server import ServerThread


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa()
    with ServerThread(fake.app) as server:
        fake.port = server.port
        yield fake


def settings_for(tmp_path: Path, db_url: str, rasa: FakeRasa, **env: str) -> Settings:
    port = str(rasa.port)
    return gateway_settings(
        tmp_path, db_url, AMNESTY_RASA_PORT=port, AMNESTY_RESEND_INTERVAL="1", **env
    )


def browser(url: str, **headers: str) -> httpx.Client:
    """A browser that has opened the chat page (and so holds its signed cookie)."""
    client = httpx.Client(base_url=url, headers=headers, timeout=30)
    assert client.get("/").status_code == 200
    return client


def say(client: httpx.Client, text: str, key: str | None = None) -> httpx.Response:
    body = {"text": text} | ({"key": key} if key else {})
    return client.post("/api/messages", json=body)


def test_a_made_up_cookie_is_never_a_sender(tmp_path: Path, db_url: str, rasa: FakeRasa) -> None:
    with ServerThread(create_app(settings_for(tmp_path, db_url, rasa))) as server:
        forged = httpx.Client(base_url=server.url, cookies={COOKIE: "attacker-chosen"})
        refused = say(forged, "xin chào")
        assert refused.status_code == 400 and "tải lại trang" in refused.json()["error"]
        real = browser(server.url)
        assert say(real, "xin chào").status_code == 200
        signed = real.cookies[COOKIE]
        # Change a character well inside the signature: the last one may only carry base64
        # padding bits, so changing it can leave the same bytes.
        i = len(signed) - 5
        tampered = signed[:i] + ("A" if signed[i] != "A" else "B") + signed[i + 1 :]
        forged = httpx.Client(base_url=server.url, cookies={COOKIE: tampered})
        assert say(forged, "xin chào").status_code == 400
    [received] = rasa.received.items  # only the signed browser's message reached Rasa
    assert received["sender"].startswith("web:")
    assert received["sender"] not in (f"web:{signed}", "web:attacker-chosen")


def test_a_retried_message_reaches_rasa_once(tmp_path: Path, db_url: str, rasa: FakeRasa) -> None:
    with ServerThread(create_app(settings_for(tmp_path, db_url, rasa))) as server:
        page = browser(server.url)
        first = say(page, "hồ sơ gồm gì", key="k-0001-abcdef")
        again = say(page, "hồ sơ gồm gì", key="k-0001-abcdef")
    assert first.status_code == 200
    assert first.json()["replies"][0]["text"] == "Trả lời: hồ sơ gồm gì"
    assert again.status_code == 202 and again.json()["pending"] is True
    assert rasa.messages() == ["hồ sơ gồm gì"]
    [received] = rasa.received.items
    assert received["metadata"]["delivery_key"].endswith(":k-0001-abcdef")


def test_one_browser_is_limited_politely(tmp_path: Path, db_url: str, rasa: FakeRasa) -> None:
    settings = settings_for(tmp_path, db_url, rasa, AMNESTY_CHANNEL_RATE="3/minute")
    with ServerThread(create_app(settings)) as server:
        page = browser(server.url)
        statuses = [say(page, f"câu {n}").status_code for n in range(3)]
        limited = say(page, "câu 3")
        other = browser(server.url)  # another browser is not affected
        assert say(other, "câu khác").status_code == 200
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429 and limited.json()["error"] == RATE_LIMITED
    assert len(rasa.messages()) == 4


def test_one_address_is_limited_whatever_its_cookies(
    tmp_path: Path, db_url: str, rasa: FakeRasa
) -> None:
    settings = settings_for(tmp_path, db_url, rasa, AMNESTY_WEB_ADDRESS_RATE="4/minute")
    with ServerThread(create_app(settings)) as server:
        here = {"X-Forwarded-For": "203.0.113.7"}
        statuses = [say(browser(server.url, **here), "xin chào").status_code for _ in range(5)]
        elsewhere = say(browser(server.url, **{"X-Forwarded-For": "203.0.113.8"}), "xin chào")
    assert statuses == [200] * 4 + [429]
    assert elsewhere.status_code == 200
    assert len(rasa.messages()) == 5


def test_only_buttons_offered_to_this_browser_become_intents(
    tmp_path: Path, db_url: str, rasa: FakeRasa
) -> None:
    with ServerThread(create_app(settings_for(tmp_path, db_url, rasa))) as server:
        stranger = browser(server.url)
        assert stranger.post("/api/messages", json={"payload": "/ask_fees"}).status_code == 400
        page = browser(server.url)
        assert say(page, "xin chào").json()["replies"][0]["buttons"] == [BUTTON]
        pressed = page.post("/api/messages", json={"payload": BUTTON["payload"]})
        typed = say(page, "/ask_fees")
    assert pressed.status_code == 200 and typed.status_code == 200
    assert rasa.messages() == ["xin chào", "/ask_fees", "\u200b/ask_fees"]


def test_the_page_fetches_the_answer_of_a_message_kept_while_rasa_was_down(
    tmp_path: Path, db_url: str, rasa: FakeRasa
) -> None:
    rasa.down = True
    with ServerThread(create_app(settings_for(tmp_path, db_url, rasa))) as server:
        page = browser(server.url)
        kept = say(page, "đặc xá là gì")
        assert kept.status_code == 202
        assert kept.json() == {"replies": [{"text": BUSY_KEPT, "buttons": []}], "pending": True}
        assert page.get("/api/replies").json() == {"replies": [], "pending": True}
        rasa.down = False
        deadline = time.monotonic() + 20
        fetched: list[dict[str, Any]] = []
        while not fetched and time.monotonic() < deadline:
            time.sleep(0.3)
            fetched = page.get("/api/replies").json()["replies"]
        assert fetched == [{"text": "Trả lời: đặc xá là gì", "buttons": [BUTTON]}]
        assert page.get("/api/replies").json() == {"replies": [], "pending": False}
        # The answer's button was offered to this browser, so it may be pressed.
        assert page.post("/api/messages", json={"payload": "/ask_fees"}).status_code == 200


def test_the_address_limit_names_the_network(tmp_path: Path, db_url: str, rasa: FakeRasa) -> None:
    settings = settings_for(tmp_path, db_url, rasa, AMNESTY_WEB_ADDRESS_RATE="1/minute")
    with ServerThread(create_app(settings)) as server:
        page = browser(server.url)
        say(page, "một")
        refused = say(page, "hai")
    assert refused.status_code == 429 and refused.json()["error"] == TOO_MANY_HERE
