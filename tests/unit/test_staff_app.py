"""The staff web app through Starlette's TestClient: login, roles, CSRF, rate limit, escaping."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from starlette.testclient import TestClient

from bot.gateway import create_app
from bot.staff.auth import session_secret
from knowledge.db import session_factory
from knowledge.staff import create_user, get_user, recent_audit
from settings import Settings, from_env

PASSWORD = "mật-khẩu-đủ-dài-1"
_CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(client: TestClient, path: str = "/staff/login") -> str:
    """The CSRF token of the form on ``path`` (as a browser would read it)."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    match = _CSRF_RE.search(response.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> httpx2.Response:
    token = csrf_of(client)
    return client.post(
        "/staff/login",
        data={"csrf": token, "username": username, "password": password},
        follow_redirects=False,
    )


def add_account(settings: Settings, username: str, role: str) -> None:
    with session_factory(settings.database_url).begin() as db:
        create_user(db, username, PASSWORD, role)


def actions(settings: Settings) -> list[str]:
    with session_factory(settings.database_url)() as db:
        return [e.action for e in recent_audit(db)]


@pytest.fixture
def staff_settings(db_url: str, tmp_path: Path) -> Settings:
    settings = from_env(
        {
            "AMNESTY_VAR_DIR": str(tmp_path / "var"),
            "AMNESTY_DATABASE_URL": db_url,
            "AMNESTY_LOGIN_RATE": "3/minute",
            "AMNESTY_LOGIN_ADDRESS_RATE": "5/minute",
            "AMNESTY_STAFF_SESSION_MINUTES": "30",
        }
    )
    return settings


@pytest.fixture
def client(staff_settings: Settings) -> Iterator[TestClient]:
    app = create_app(staff_settings)
    for name, role in [("quantri", "admin"), ("bientap", "editor"), ("xuly", "reviewer")]:
        add_account(staff_settings, name, role)
    yield TestClient(app)


def test_logged_out_request_is_sent_to_login(client: TestClient) -> None:
    response = client.get("/staff/users", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?next=/staff/users"
    page = client.get("/staff/users")
    assert "Đăng nhập" in page.text and "quantri" not in page.text


def test_login_goes_to_next_page_and_logout_ends_session(
    client: TestClient, staff_settings: Settings
) -> None:
    token = csrf_of(client, "/staff/login?next=/staff/users")
    response = client.post(
        "/staff/login",
        data={"csrf": token, "username": "QuanTri", "password": PASSWORD, "next": "/staff/users"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/staff/users"
    cookie = response.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "Max-Age=43200" in cookie and "path=/staff" in cookie  # the server ends it sooner
    assert "bientap" in client.get("/staff/users").text
    copied = client.cookies["amnesty_staff"]
    token = csrf_of(client, "/staff/")
    assert client.post("/staff/logout", data={"csrf": token}).url.path == "/staff/login"
    assert client.get("/staff/", follow_redirects=False).status_code == 303
    assert actions(staff_settings)[:2] == ["logout", "login"]
    # The session ended on the server: a copy of the cookie taken before logout is refused.
    replay = TestClient(client.app)
    replay.cookies.set("amnesty_staff", copied, path="/staff")
    assert replay.get("/staff/", follow_redirects=False).status_code == 303


def test_next_cannot_leave_the_staff_app(client: TestClient) -> None:
    token = csrf_of(client)
    response = client.post(
        "/staff/login",
        data={"csrf": token, "username": "xuly", "password": PASSWORD, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/staff/"


def test_wrong_password_is_refused_and_audited(
    client: TestClient, staff_settings: Settings
) -> None:
    response = login(client, "quantri", "sai-mat-khau-roi")
    assert response.status_code == 400
    assert "không đúng" in response.text
    assert client.get("/staff/", follow_redirects=False).status_code == 303
    assert actions(staff_settings) == ["login_failed"]


def test_failed_logins_are_rate_limited_per_account_and_address(
    client: TestClient, staff_settings: Settings
) -> None:
    for _ in range(3):
        assert login(client, "quantri", "sai-mat-khau-roi").status_code == 400
    blocked = login(client, "quantri")  # even the right password waits now
    assert blocked.status_code == 429
    assert "quá nhiều lần" in blocked.text
    assert client.get("/staff/", follow_redirects=False).status_code == 303
    assert actions(staff_settings)[0] == "login_blocked"


def test_failed_logins_are_rate_limited_per_address(client: TestClient) -> None:
    for name in ("ai-do-1", "ai-do-2", "ai-do-3", "ai-do-4", "ai-do-5"):
        assert login(client, name, "sai-mat-khau-roi").status_code == 400
    assert login(client, "xuly").status_code == 429


def test_user_without_the_role_gets_403_and_nothing_changes(
    client: TestClient, staff_settings: Settings
) -> None:
    assert login(client, "bientap").status_code == 303
    page = client.get("/staff/users")
    assert page.status_code == 403
    assert "không có quyền" in page.text
    token = csrf_of(client, "/staff/")
    response = client.post(
        "/staff/users",
        data={"csrf": token, "username": "moi", "password": PASSWORD, "role": "admin"},
    )
    assert response.status_code == 403
    with session_factory(staff_settings.database_url)() as db:
        assert get_user(db, "moi") is None


def test_home_shows_what_the_role_may_do(client: TestClient) -> None:
    login(client, "bientap")
    home = client.get("/staff/").text
    assert "Nội dung hỏi đáp" in home and "Tài khoản" not in home
    client.cookies.clear()
    login(client, "quantri")
    assert "Tài khoản" in client.get("/staff/").text


@pytest.mark.parametrize("token", [None, "", "forged-token-123"])
def test_forged_or_missing_csrf_token_is_refused(
    client: TestClient, staff_settings: Settings, token: str | None
) -> None:
    login(client, "quantri")
    data = {"username": "moi", "password": PASSWORD, "role": "editor"}
    if token is not None:
        data["csrf"] = token
    response = client.post("/staff/users", data=data)
    assert response.status_code == 403
    assert "mã chống giả mạo" in response.text
    with session_factory(staff_settings.database_url)() as db:
        assert get_user(db, "moi") is None
    assert actions(staff_settings)[0] == "csrf_rejected"


def test_login_form_needs_its_csrf_token(client: TestClient) -> None:
    client.get("/staff/login")
    response = client.post(
        "/staff/login", data={"username": "quantri", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert client.get("/staff/", follow_redirects=False).status_code == 303


def test_admin_creates_changes_and_deactivates_accounts(
    client: TestClient, staff_settings: Settings
) -> None:
    other = TestClient(client.app)
    assert login(other, "bientap").status_code == 303
    login(client, "quantri")
    token = csrf_of(client, "/staff/users")
    created = client.post(
        "/staff/users",
        data={"csrf": token, "username": "Moi.Vao", "password": PASSWORD, "role": "editor"},
    )
    assert created.status_code == 200 and "moi.vao" in created.text
    duplicate = client.post(
        "/staff/users",
        data={"csrf": token, "username": "moi.vao", "password": PASSWORD, "role": "editor"},
    )
    assert duplicate.status_code == 400 and "đã có" in duplicate.text
    client.post("/staff/users/moi.vao", data={"csrf": token, "change": "role", "role": "reviewer"})
    client.post("/staff/users/bientap", data={"csrf": token, "change": "deactivate"})
    with session_factory(staff_settings.database_url)() as db:
        added, deactivated = get_user(db, "moi.vao"), get_user(db, "bientap")
        assert added is not None and added.role == "reviewer"
        assert deactivated is not None and not deactivated.active
    # The deactivated account's open session ends at once.
    assert other.get("/staff/", follow_redirects=False).status_code == 303
    assert login(other, "bientap").status_code == 400
    assert actions(staff_settings)[:3] == [
        "login_failed",
        "user_deactivated",
        "user_role_changed",
    ]


def test_last_admin_cannot_be_removed(client: TestClient, staff_settings: Settings) -> None:
    login(client, "quantri")
    token = csrf_of(client, "/staff/users")
    response = client.post(
        "/staff/users/quantri", data={"csrf": token, "change": "role", "role": "editor"}
    )
    assert response.status_code == 400 and "cuối cùng" in response.text
    response = client.post("/staff/users/quantri", data={"csrf": token, "change": "deactivate"})
    assert response.status_code == 400
    with session_factory(staff_settings.database_url)() as db:
        user = get_user(db, "quantri")
        assert user is not None and user.role == "admin" and user.active


def test_typed_script_is_shown_as_text(client: TestClient) -> None:
    attack = '<script>alert("x")</script>'
    page = login(client, attack, "sai-mat-khau-roi")
    assert attack not in page.text
    assert "&lt;script&gt;alert(" in page.text
    login(client, "quantri")
    audit_page = client.get("/staff/audit").text
    assert "login_failed" in audit_page
    assert attack not in audit_page and "&lt;script&gt;" in audit_page


def test_tampered_cookie_is_a_logged_out_request(client: TestClient) -> None:
    login(client, "quantri")
    value = client.cookies["amnesty_staff"]
    client.cookies.clear()
    client.cookies.set("amnesty_staff", value[:-3] + "abc", path="/staff")
    assert client.get("/staff/", follow_redirects=False).status_code == 303


def test_secret_key_is_made_once_and_private(tmp_path: Path) -> None:
    settings = from_env({"AMNESTY_VAR_DIR": str(tmp_path / "var")})
    first = session_secret(settings)
    path = tmp_path / "var" / "staff_secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert session_secret(settings) == first and len(first) >= 40
    configured = from_env({"AMNESTY_VAR_DIR": str(tmp_path / "v2"), "AMNESTY_SECRET_KEY": "k" * 40})
    assert session_secret(configured) == "k" * 40
    assert not (tmp_path / "v2" / "staff_secret_key").exists()


def test_bad_login_rate_setting_says_what_to_write(tmp_path: Path) -> None:
    settings = from_env({"AMNESTY_VAR_DIR": str(tmp_path), "AMNESTY_LOGIN_RATE": "nhiều"})
    with pytest.raises(SystemExit, match="5/minute"):
        create_app(settings)
