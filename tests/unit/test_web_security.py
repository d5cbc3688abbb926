"""Response headers through real requests: Secure cookies and HSTS when the request came over
HTTPS through a trusted proxy, a CSP that forbids framing on every page, the chat page's
script and style served from its own origin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.gateway import create_app
from settings import Settings, from_env
from tests.fakes.gateway import TEST_REST_SECRET
from tests.fakes.server import ServerThread

HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
PAGES = ["/", "/staff/login", "/health", "/chat.js"]


def settings_for(tmp_path: Path, **env: str) -> Settings:
    return from_env(
        {
            "AMNESTY_VAR_DIR": str(tmp_path / "var"),
            "AMNESTY_DATABASE_URL": f"sqlite:///{tmp_path / 'kb.db'}",
            "AMNESTY_REST_SECRET": TEST_REST_SECRET,
            **env,
        }
    )


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    with ServerThread(create_app(settings_for(tmp_path))) as server:
        yield server.url


def cookies(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


@pytest.mark.parametrize("path", ["/", "/staff/login"])
def test_cookies_are_secure_and_hsts_sent_over_https_through_the_proxy(url: str, path: str) -> None:
    over_https = httpx.get(url + path, headers=HTTPS)
    assert cookies(over_https) and all("; Secure" in c for c in cookies(over_https))
    assert over_https.headers["strict-transport-security"] == "max-age=31536000"
    plain = httpx.get(url + path)
    assert cookies(plain) and not any("secure" in c.lower() for c in cookies(plain))
    assert "strict-transport-security" not in plain.headers


def test_https_claimed_by_an_untrusted_client_is_not_believed(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, AMNESTY_TRUSTED_PROXIES="10.9.9.9")
    with ServerThread(create_app(settings)) as server:
        response = httpx.get(server.url + "/staff/login", headers=HTTPS)
    assert "strict-transport-security" not in response.headers
    assert not any("secure" in c.lower() for c in cookies(response))


@pytest.mark.parametrize("path", PAGES)
def test_every_page_forbids_framing_and_sniffing(url: str, path: str) -> None:
    response = httpx.get(url + path)
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_chat_page_runs_only_its_own_script(url: str) -> None:
    page = httpx.get(url + "/")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in page.text and "<style>" not in page.text
    assert 'src="/chat.js"' in page.text
    script = httpx.get(url + "/chat.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "fetch(" in script.text
    assert httpx.get(url + "/chat.css").headers["content-type"].startswith("text/css")
