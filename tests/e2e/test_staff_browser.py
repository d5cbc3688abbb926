"""The staff web app in real headless Chromium, against a real gateway process.

Only the gateway is started (``python -m bot web`` on a free port, its own SQLite database);
the accounts are made with the ``create-user`` command, as staff would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bot.ops.stack import free_port
from settings import ROOT

PASSWORD = "mật-khẩu-thử-nghiệm-1"


def create_user(env: dict[str, str], name: str, role: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot", "create-user", name, "--role", role, "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a gateway process serving the staff pages."""
    var: Path = tmp_path_factory.mktemp("staff-var")
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "AMNESTY_VAR_DIR": str(var),
            "AMNESTY_DATABASE_URL": f"sqlite:///{var / 'staff.db'}",
            "AMNESTY_WEB_PORT": str(port),
            "AMNESTY_HOST": "127.0.0.1",
            # No Rasa here, but the gateway refuses to start without the channel secret.
            "AMNESTY_REST_SECRET": "no-rasa-behind-this-gateway",
        }
    )
    env.pop("AMNESTY_SECRET_KEY", None)
    create_user(env, "quantri", "admin")
    create_user(env, "bientap", "editor")
    with open(var / "web.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "web"], env=env, cwd=ROOT, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the gateway did not start; see {var / 'web.log'}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_log_in_and_log_out(page: Page, gateway: str) -> None:
    page.goto(f"{gateway}/staff/login")
    sign_in(page, "quantri")
    expect(page.locator("h1")).to_have_text("Xin chào, quantri")
    expect(page.get_by_role("link", name="Tài khoản")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "amnesty_staff")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/staff"
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.locator("body")).to_contain_text("Bạn đã đăng xuất")
    page.goto(f"{gateway}/staff/")
    expect(page).to_have_url(f"{gateway}/staff/login?next=/staff/")


def test_wrong_password_is_refused(page: Page, gateway: str) -> None:
    page.goto(f"{gateway}/staff/login")
    sign_in(page, "bientap", "khong-phai-mat-khau")
    expect(page.get_by_role("alert")).to_contain_text("không đúng")
    expect(page).to_have_url(f"{gateway}/staff/login")


def test_logged_out_request_lands_on_login_then_on_the_page(page: Page, gateway: str) -> None:
    page.goto(f"{gateway}/staff/users")
    expect(page).to_have_url(f"{gateway}/staff/login?next=/staff/users")
    expect(page.locator("h1")).to_have_text("Đăng nhập")
    sign_in(page, "quantri")
    expect(page).to_have_url(f"{gateway}/staff/users")
    expect(page.locator("table")).to_contain_text("bientap")


def test_user_without_admin_role_cannot_open_users_page(page: Page, gateway: str) -> None:
    page.goto(f"{gateway}/staff/login")
    sign_in(page, "bientap")
    expect(page.locator("h1")).to_have_text("Xin chào, bientap")
    expect(page.get_by_role("link", name="Tài khoản")).to_have_count(0)
    response = page.goto(f"{gateway}/staff/users")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("không có quyền")
    expect(page.locator("body")).not_to_contain_text("quantri (")


def test_admin_creates_an_account_that_can_sign_in(
    browser: Browser, page: Page, gateway: str
) -> None:
    page.goto(f"{gateway}/staff/login?next=/staff/users")
    sign_in(page, "quantri")
    page.fill("#new-username", "xuly")
    page.fill("#new-password", PASSWORD)
    page.select_option("#new-role", "reviewer")
    page.get_by_role("button", name="Tạo tài khoản").click()
    expect(page.locator(".ok")).to_be_visible()
    expect(page.locator("table")).to_contain_text("xuly")
    other = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    other.goto(f"{gateway}/staff/login")
    sign_in(other, "xuly")
    expect(other.locator("h1")).to_have_text("Xin chào, xuly")
    other.context.close()
