"""The real stack for end-to-end tests: action server, Rasa server and web gateway.

Started once per test session on free ports, with its own SQLite databases.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bot.ops.stack import Stack, free_port
from bot.ops.training import model_file
from knowledge.__main__ import load
from settings import REST_SECRET_HEADER, Settings, from_env, secret


@dataclass
class Assistant:
    settings: Settings
    token: str
    stack: Stack | None = None

    @property
    def rest_headers(self) -> dict[str, str]:
        """What the REST channel requires (nlu/channels.py), as the gateway sends it."""
        return {REST_SECRET_HEADER: secret(self.settings, "rest_secret")}

    def send(self, text: str, sender: str | None = None) -> list[dict[str, Any]]:
        """One message through Rasa's REST channel; returns the bot's messages."""
        response = httpx.post(
            f"{self.settings.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender or f"test-{uuid.uuid4().hex[:8]}", "message": text},
            headers=self.rest_headers,
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.settings.rasa_url}/model/parse",
            params={"token": self.token},
            json={"text": text},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    model = model_file()
    if not model.exists():
        pytest.fail(f"No trained model {model.name} for the current data: run `make train`.")
    var = tmp_path_factory.mktemp("var")
    settings = from_env(
        {
            "AMNESTY_VAR_DIR": str(var),
            "AMNESTY_RASA_PORT": str(free_port()),
            "AMNESTY_ACTIONS_PORT": str(free_port()),
            "AMNESTY_WEB_PORT": str(free_port()),
            "AMNESTY_TODAY": "2026-12-06",  # the answers about "now" are checked as of this day
        }
    )
    assert load(settings.database_url) == 0
    stack = Stack(settings, model)
    stack.start(web=True)
    try:
        yield Assistant(settings, stack.token, stack)
    finally:
        stack.stop()


def joined(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright (it cannot download browsers here)."""
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it as root)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page the size of a phone screen, that accepts downloads (exports)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    yield context.new_page()
    context.close()
