"""Staff accounts, password hashing, the audit log and the account commands."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.__main__ import main
from knowledge.models import AuditEntry, StaffUser
from knowledge.staff import (
    AccountError,
    audit,
    authenticate,
    create_user,
    get_user,
    recent_audit,
    set_active,
    set_password,
)

PASSWORD = "mật-khẩu-đủ-dài-1"


def test_create_and_authenticate(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as db:
        user = create_user(db, " Lan.Nguyen ", PASSWORD, "editor")
        assert user.username == "lan.nguyen"
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
    with session_maker.begin() as db:
        assert authenticate(db, "LAN.NGUYEN", PASSWORD) is not None
        assert authenticate(db, "lan.nguyen", PASSWORD + "x") is None
        assert authenticate(db, "nobody", PASSWORD) is None
    with session_maker() as db:
        found = get_user(db, "lan.nguyen")
        assert found is not None and found.last_login is not None and found.active


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("a", PASSWORD, "editor", "Tên đăng nhập"),
        ("<script>", PASSWORD, "editor", "Tên đăng nhập"),
        ("binh", "ngắn", "editor", "ít nhất 10"),
        ("binh", PASSWORD, "superuser", "Vai trò"),
    ],
)
def test_invalid_accounts_are_refused(
    session_maker: sessionmaker[Session], username: str, password: str, role: str, message: str
) -> None:
    with session_maker() as db, pytest.raises(AccountError, match=message):
        create_user(db, username, password, role)


def test_username_is_unique(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as db:
        create_user(db, "binh", PASSWORD, "reviewer")
    with session_maker() as db, pytest.raises(AccountError, match="đã có"):
        create_user(db, "BINH", PASSWORD, "admin")


def test_inactive_account_cannot_sign_in(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as db:
        set_active(db, create_user(db, "cuong", PASSWORD, "editor"), False)
    with session_maker() as db:
        assert authenticate(db, "cuong", PASSWORD) is None


def test_set_password(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as db:
        user = create_user(db, "dung", PASSWORD, "editor")
        set_password(db, user, "mot-mat-khau-moi")
        with pytest.raises(AccountError):
            set_password(db, user, "short")
    with session_maker() as db:
        assert authenticate(db, "dung", PASSWORD) is None
        assert authenticate(db, "dung", "mot-mat-khau-moi") is not None


def test_weak_hash_is_upgraded_on_login(session_maker: sessionmaker[Session]) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with session_maker.begin() as db:
        db.add(StaffUser(username="em", password_hash=weak, role="editor", active=True))
    with session_maker.begin() as db:
        assert authenticate(db, "em", PASSWORD) is not None
    with session_maker() as db:
        user = get_user(db, "em")
        assert user is not None
        stored = user.password_hash
        assert stored != weak
        assert not PasswordHasher().check_needs_rehash(stored)


def test_unknown_user_costs_as_much_as_a_known_one(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as db:
        create_user(db, "giang", PASSWORD, "editor")

    def timed(name: str) -> float:
        with session_maker() as db:
            authenticate(db, name, "wrong-password")  # warms the dummy hash
            start = time.perf_counter()
            for _ in range(3):
                authenticate(db, name, "wrong-password")
            return time.perf_counter() - start

    known, unknown = timed("giang"), timed("khong-co-ai")
    assert unknown > known * 0.5


def test_audit_is_append_only(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as db:
        audit(db, "lan", "entry_saved", "after_release_rights", {"version": 2})
        audit(db, None, "login_failed", "<b>x</b>")
    with session_maker() as db:
        entries = recent_audit(db)
        assert [e.action for e in entries] == ["login_failed", "entry_saved"]
        assert entries[1].detail == {"version": 2} and entries[1].at is not None
        assert [e.action for e in recent_audit(db, actor="LAN")] == ["entry_saved"]
        entries[0].action = "nothing happened"
        with pytest.raises(ValueError, match="append-only"):
            db.commit()
        db.rollback()
        db.delete(db.scalars(select(AuditEntry)).first())
        with pytest.raises(ValueError, match="append-only"):
            db.commit()


@pytest.fixture
def cli_env(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, app_settings: None
) -> str:
    monkeypatch.setenv("AMNESTY_DATABASE_URL", db_url)
    return db_url


def test_cli_create_user_and_set_password(
    cli_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from knowledge.db import session_factory

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["create-user", "Hoa", "--role", "reviewer", "--password-stdin"]) == 0
    assert "hoa" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["create-user", "hoa", "--role", "admin", "--password-stdin"]) == 1
    assert "đã có" in capsys.readouterr().err

    typed = iter(["mat-khau-go-tay", "mat-khau-go-tay"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert main(["set-password", "hoa"]) == 0
    typed = iter(["mat-khau-go-tay-2", "khac-han-nhe"])
    assert main(["set-password", "hoa"]) == 1
    assert "không giống" in capsys.readouterr().err
    assert main(["set-password", "khong-co", "--password-stdin"]) == 1

    with session_factory(cli_env)() as db:
        assert authenticate(db, "hoa", "mat-khau-go-tay") is not None
        user = get_user(db, "hoa")
        assert user is not None and user.role == "reviewer"
        actions = [e.action for e in recent_audit(db)]
        assert actions == ["password_set", "user_created"]


def test_cli_refuses_an_unknown_role(cli_env: str) -> None:
    with pytest.raises(SystemExit):
        main(["create-user", "hoa", "--role", "root", "--password-stdin"])
