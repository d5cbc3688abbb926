"""Staff accounts and the audit log; the caller passes (and owns) the session."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from knowledge.clock import as_utc, utc_now
from knowledge.db import rows_matched
from knowledge.models import AuditEntry, StaffSession, StaffUser

ROLES = ("editor", "reviewer", "admin")
ROLE_LABELS = {
    "editor": "Biên tập nội dung hỏi đáp",
    "reviewer": "Xử lý ý kiến, khiếu nại",
    "admin": "Quản trị tài khoản",
}
MIN_PASSWORD_CHARS = 10
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


class AccountError(ValueError):
    """A request about an account cannot be done; the message says why, in Vietnamese."""


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown users, so they take as long as known ones."""
    return _hasher().hash(secrets.token_urlsafe(16))


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_username(username: str) -> str:
    """The normalised username, or AccountError if it is not a valid one."""
    name = normalize_username(username)
    if not _USERNAME_RE.match(name):
        raise AccountError(
            "Tên đăng nhập dài 2–40 ký tự, chỉ gồm chữ thường không dấu, số, dấu chấm, "
            "gạch ngang hoặc gạch dưới, và bắt đầu bằng chữ hoặc số."
        )
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"Mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự.")
    if len(password) > 1000:
        raise AccountError("Mật khẩu dài quá 1000 ký tự.")


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"Vai trò {role!r} không có; chọn một trong: {', '.join(ROLES)}.")
    return role


def get_user(session: Session, username: str) -> StaffUser | None:
    return session.scalar(
        select(StaffUser).where(StaffUser.username == normalize_username(username))
    )


def list_users(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def create_user(session: Session, username: str, password: str, role: str) -> StaffUser:
    """Add an active account; AccountError if the name is taken or anything is invalid."""
    name = check_username(username)
    check_role(role)
    check_password(password)
    if get_user(session, name) is not None:
        raise AccountError(f"Tên đăng nhập {name!r} đã có người dùng.")
    user = StaffUser(username=name, password_hash=_hasher().hash(password), role=role, active=True)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: StaffUser, password: str) -> None:
    """A new password; every open session of the account ends."""
    check_password(password)
    user.password_hash = _hasher().hash(password)
    close_sessions_of(session, user)


def set_role(session: Session, user: StaffUser, role: str) -> None:
    user.role = check_role(role)


def set_active(session: Session, user: StaffUser, active: bool) -> None:
    user.active = active
    if not active:
        close_sessions_of(session, user)


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    """The active account with this name and password, or None.

    An unknown or inactive name costs the same hash verification as a known one.
    The stored hash is upgraded when the hasher's parameters have changed.
    """
    user = get_user(session, username)
    stored = user.password_hash if user is not None else _dummy_hash()
    try:
        _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher().check_needs_rehash(stored):
        user.password_hash = _hasher().hash(password)
    user.last_login = dt.datetime.now(dt.UTC)
    return user


# --- Sessions held on the server ------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: StaffUser) -> str:
    """Start a session for ``user``; returns the random token its cookie carries."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_token_hash(token), user_id=user.id))
    session.flush()
    return token


def session_user_id(
    session: Session,
    token: str,
    *,
    idle: dt.timedelta,
    lifetime: dt.timedelta,
    now: dt.datetime | None = None,
) -> int | None:
    """The account of a live session, its last request moved to ``now``; None when the token
    is unknown, or the session has been idle longer than ``idle`` or lived ``lifetime``
    (then it is deleted). ``last_seen`` is written at most once a minute."""
    now = now or utc_now()
    row = session.scalar(select(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
    if row is None:
        return None
    if now - as_utc(row.last_seen) > idle or now - as_utc(row.created_at) > lifetime:
        session.delete(row)
        return None
    if now - as_utc(row.last_seen) > dt.timedelta(minutes=1):
        row.last_seen = now
    return row.user_id


def close_session(session: Session, token: str) -> None:
    """End one session (logout)."""
    session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))


def close_sessions_of(session: Session, user: StaffUser) -> int:
    """End every session of ``user``; returns how many there were."""
    result = session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    return rows_matched(result)


def audit(
    session: Session,
    actor: str | None,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one line to the audit log (who, what, on what, details)."""
    entry = AuditEntry(actor=actor, action=action, target=target[:200], detail=detail or {})
    session.add(entry)
    return entry


def recent_audit(session: Session, limit: int = 200, actor: str | None = None) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if actor:
        stmt = stmt.where(AuditEntry.actor == normalize_username(actor))
    return list(session.scalars(stmt))


def count_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(StaffUser)
            .where(StaffUser.role == "admin", StaffUser.active.is_(True))
        )
        or 0
    )
