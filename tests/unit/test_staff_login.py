"""The staff login under attack, through real HTTP requests to the gateway: attempts counted
before any hash (parallel requests too), a bounded number of hashes in flight, the client
address from trusted proxies only, no lock-out of a named account, admin unlock, sessions
that end on the server."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

import bot.staff.app as staff_pages
from bot.gateway import create_app
from knowledge.db import session_factory
from knowledge.models import StaffSession
from knowledge.staff import create_user, get_user, recent_audit, set_password
from settings import Settings, from_env
from tests.fakes.gateway import TEST_REST_SECRET
from tests.fakes.server import ServerThread

PASSWORD = "mật-khẩu-đủ-dài-1"
WRONG = "sai-mat-khau-roi"
_CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def settings_for(tmp_path: Path, db_url: str, **env: str) -> Settings:
    return from_env(
        {
            "AMNESTY_VAR_DIR": str(tmp_path / "var"),
            "AMNESTY_DATABASE_URL": db_url,
            "AMNESTY_LOGIN_RATE": "5/minute",
            "AMNESTY_REST_SECRET": TEST_REST_SECRET,
            **env,
        }
    )


def serve(settings: Settings) -> ServerThread:
    server = ServerThread(create_app(settings))
    with session_factory(settings.database_url).begin() as db:
        create_user(db, "quantri", PASSWORD, "admin")
        create_user(db, "canbo", PASSWORD, "reviewer")
    return server


class Browser:
    """One browser: its own cookies, a CSRF token from the login page, optional proxy headers."""

    def __init__(self, url: str, **headers: str) -> None:
        self.http = httpx.Client(base_url=url, headers=headers, timeout=60)

    def csrf(self, path: str = "/staff/login") -> str:
        match = _CSRF_RE.search(self.http.get(path).text)
        assert match
        return match.group(1)

    def login(self, username: str, password: str, token: str | None = None) -> httpx.Response:
        data = {"csrf": token or self.csrf(), "username": username, "password": password}
        return self.http.post("/staff/login", data=data)


def audited(settings: Settings) -> list[tuple[str, str, dict[str, Any]]]:
    with session_factory(settings.database_url)() as db:
        return [(e.action, e.target, e.detail) for e in recent_audit(db)]


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts password checks, and the most that ran at once (each takes 0.3 s here)."""
    seen = {"calls": 0, "running": 0, "most": 0}
    lock = threading.Lock()
    real = staff_pages.authenticate

    def counting(*args: Any) -> Any:
        with lock:
            seen["calls"] += 1
            seen["running"] += 1
            seen["most"] = max(seen["most"], seen["running"])
        try:
            time.sleep(0.3)
            return real(*args)
        finally:
            with lock:
                seen["running"] -= 1

    monkeypatch.setattr(staff_pages, "authenticate", counting)
    yield seen


def at_once(count: int, attempt: Callable[[Browser, str], httpx.Response], url: str) -> list[int]:
    """``count`` browsers, each with its CSRF token ready, sending ``attempt`` together."""
    browsers = [Browser(url) for _ in range(count)]
    tokens = [b.csrf() for b in browsers]
    start = threading.Barrier(count)
    statuses: list[int] = [0] * count

    def run(n: int) -> None:
        start.wait()
        statuses[n] = attempt(browsers[n], tokens[n]).status_code

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_parallel_wrong_passwords_are_counted_before_hashing(
    tmp_path: Path, db_url: str, hashes: dict[str, int]
) -> None:
    settings = settings_for(tmp_path, db_url, AMNESTY_LOGIN_HASHES="16")
    with serve(settings) as server:
        statuses = at_once(12, lambda b, t: b.login("quantri", WRONG, t), server.url)
        right = Browser(server.url).login("quantri", PASSWORD)
    assert sorted(statuses) == [400] * 5 + [429] * 7
    assert hashes["calls"] == 5  # 12 parallel guesses, 5 hashed: the limit held
    assert right.status_code == 429  # the address is still over its limit for this account
    assert [a for a, _, _ in audited(settings)].count("login_blocked") == 8


def test_a_bounded_number_of_hashes_run_at_once(
    tmp_path: Path, db_url: str, hashes: dict[str, int]
) -> None:
    settings = settings_for(
        tmp_path,
        db_url,
        AMNESTY_LOGIN_RATE="100/minute",
        AMNESTY_LOGIN_ADDRESS_RATE="100/minute",
        AMNESTY_LOGIN_HASHES="1",
    )
    with serve(settings) as server:
        statuses = at_once(6, lambda b, t: b.login("canbo", WRONG, t), server.url)
    assert hashes["most"] == 1
    assert statuses.count(429) >= 1 and set(statuses) <= {400, 429}
    assert "login_busy" in [a for a, _, _ in audited(settings)]


def test_the_address_comes_from_trusted_proxies_only(tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url, AMNESTY_LOGIN_RATE="2/minute")
    with serve(settings) as server:
        far = Browser(server.url, **{"X-Forwarded-For": "203.0.113.5"})
        assert [far.login("canbo", WRONG).status_code for _ in range(3)] == [400, 400, 429]
        near = Browser(server.url, **{"X-Forwarded-For": "203.0.113.6"})
        assert near.login("canbo", PASSWORD).status_code == 303  # another client, not locked
    assert ("login_failed", "canbo") in [(a, t) for a, t, _ in audited(settings)]
    assert {d.get("address") for _, _, d in audited(settings)} >= {"203.0.113.5", "203.0.113.6"}

    untrusted = settings_for(
        tmp_path / "2", db_url.replace("kb.db", "kb2.db"), AMNESTY_TRUSTED_PROXIES="10.9.9.9"
    )
    if db_url.startswith("postgresql"):
        return  # one schema per test: the second server above is enough on SQLite
    with serve(untrusted) as server:
        for n in range(5):
            forged = Browser(server.url, **{"X-Forwarded-For": f"198.51.100.{n}"})
            assert forged.login("canbo", WRONG).status_code == 400
        forged = Browser(server.url, **{"X-Forwarded-For": "198.51.100.99"})
        assert forged.login("canbo", WRONG).status_code == 429  # all counted as 127.0.0.1


def test_nobody_can_lock_a_named_account_out(tmp_path: Path, db_url: str) -> None:
    settings = settings_for(
        tmp_path,
        db_url,
        AMNESTY_LOGIN_ACCOUNT_RATE="3/minute",
        AMNESTY_LOGIN_ACCOUNT_DELAY="1",
    )
    with serve(settings) as server:
        for n in range(8):  # guesses on one account from many addresses
            attacker = Browser(server.url, **{"X-Forwarded-For": f"192.0.2.{n}"})
            assert attacker.login("canbo", WRONG).status_code == 400  # never 429
        owner = Browser(server.url, **{"X-Forwarded-For": "198.51.100.7"})
        started = time.monotonic()
        assert owner.login("canbo", PASSWORD).status_code == 303
        assert time.monotonic() - started >= 1.0  # slowed, not refused
    slowed = [d["slowed"] for a, _, d in audited(settings) if a == "login_failed"]
    assert slowed.count(True) == 5


def test_an_admin_unlocks_an_account(tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url, AMNESTY_LOGIN_RATE="2/minute")
    with serve(settings) as server:
        office = Browser(server.url, **{"X-Forwarded-For": "203.0.113.20"})
        for _ in range(2):
            office.login("canbo", WRONG)
        assert office.login("canbo", PASSWORD).status_code == 429
        admin = Browser(server.url, **{"X-Forwarded-For": "203.0.113.30"})
        assert admin.login("quantri", PASSWORD).status_code == 303
        unlocked = admin.http.post(
            "/staff/unlock", data={"csrf": admin.csrf("/staff/users"), "username": "canbo"}
        )
        assert unlocked.status_code == 303  # back to the users page
        assert office.login("canbo", PASSWORD).status_code == 303
    entry = next(e for e in audited(settings) if e[0] == "login_unlocked")
    assert entry[1] == "canbo" and entry[2]["addresses"] == ["203.0.113.20"]


def test_a_session_ends_after_the_idle_time_not_while_in_use(tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url, AMNESTY_STAFF_SESSION_MINUTES="30")
    sessions = session_factory(settings.database_url)

    def idle_for(minutes: int) -> None:
        with sessions.begin() as db:
            earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
            db.execute(update(StaffSession).values(last_seen=earlier))

    with serve(settings) as server:
        staff = Browser(server.url)
        assert staff.login("canbo", PASSWORD).status_code == 303
        idle_for(25)
        assert staff.http.get("/staff/").status_code == 200  # used within 30 minutes
        idle_for(29)  # 29 minutes after that request: still alive
        assert staff.http.get("/staff/").status_code == 200
        idle_for(31)
        assert staff.http.get("/staff/").headers["location"].startswith("/staff/login")
    with sessions() as db:
        assert db.query(StaffSession).count() == 0


def test_a_new_password_ends_every_session_of_the_account(tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    with serve(settings) as server:
        staff = Browser(server.url)
        assert staff.login("canbo", PASSWORD).status_code == 303
        with session_factory(settings.database_url).begin() as db:
            user = get_user(db, "canbo")
            assert user is not None
            set_password(db, user, "một-mật-khẩu-mới-hơn")
        assert staff.http.get("/staff/").headers["location"].startswith("/staff/login")
