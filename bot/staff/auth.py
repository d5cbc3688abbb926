"""Sign-in for the staff web app: sessions, roles, CSRF and the failed-login rate limit.

Every staff page is built with :func:`staff_route`, which is the one place that loads the
signed-in account, enforces its role and checks the CSRF token of every POST form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.shared_state import KEY_PREFIX, login_storage
from knowledge.clock import vn_date_time
from knowledge.db import create_schema, engine_for, session_factory
from knowledge.models import StaffUser
from knowledge.staff import ROLE_LABELS, audit
from settings import Settings

logger = logging.getLogger(__name__)
PREFIX = "/staff"
COOKIE = "amnesty_staff"
CSRF_FIELD = "csrf"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# Anyone may open these pages (the login page); every other page needs a signed-in account.
PUBLIC: tuple[str, ...] = ()
ANY_ROLE = ("editor", "reviewer", "admin")
INBOX = ("reviewer", "admin")  # the feedback inbox and its exports
ADMINS = ("admin",)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FORBIDDEN = (
    "Tài khoản của bạn không có quyền mở trang này. Nếu cần, hãy nhờ quản trị viên cấp "
    "đúng vai trò."
)


def vn_time(value: dt.datetime | None) -> str:
    """A stored time as Vietnam's clock shows it, "—" when there is none."""
    return vn_date_time(value, empty="—")


TEMPLATES.env.filters["vn_time"] = vn_time

BAD_FORM = (
    "Biểu mẫu không hợp lệ hoặc đã hết hạn (thiếu mã chống giả mạo). Không có gì bị thay "
    "đổi. Hãy tải lại trang rồi làm lại."
)


def session_secret(settings: Settings) -> str:
    """The key that signs session cookies: configured, or made once into var_dir (0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.var_dir / "staff_secret_key"
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


class LoginLimiter:
    """Counts failed logins per username and per client address (moving window).

    In memory, or in Redis (``storage``) so that every gateway replica sees the same counts;
    when Redis fails, this process counts alone until it is back (logged).
    """

    def __init__(self, rate: str, storage: Storage | None = None) -> None:
        try:
            self.item: RateLimitItem = parse(rate)
        except ValueError:
            raise SystemExit(
                f"AMNESTY_LOGIN_RATE must look like '5/minute' or '20/hour', not {rate!r}"
            ) from None
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.limiter = MovingWindowRateLimiter(storage) if storage is not None else self.local

    def blocked(self, username: str, address: str) -> bool:
        try:
            return self._blocked(self.limiter, username, address)
        except Exception:
            logger.exception("Shared login limiter unavailable; counting in this process")
            return self._blocked(self.local, username, address)

    def _blocked(self, limiter: MovingWindowRateLimiter, username: str, address: str) -> bool:
        return not (
            limiter.test(self.item, "user", username) and limiter.test(self.item, "addr", address)
        )

    def failed(self, username: str, address: str) -> None:
        self.local.hit(self.item, "user", username)
        self.local.hit(self.item, "addr", address)
        if self.limiter is not self.local:
            try:
                self.limiter.hit(self.item, "user", username)
                self.limiter.hit(self.item, "addr", address)
            except Exception:
                logger.exception("Shared login limiter unavailable; counted in this process")


@dataclass
class StaffApp:
    """What every staff page needs: settings, database sessions and the login limiter."""

    settings: Settings
    sessions: sessionmaker[Session]
    limiter: LoginLimiter


def staff_app(settings: Settings, shared_prefix: str = KEY_PREFIX) -> StaffApp:
    """Create the tables if needed and the shared state of the staff pages."""
    create_schema(engine_for(settings.database_url))
    limiter = LoginLimiter(settings.login_rate, login_storage(settings, shared_prefix))
    return StaffApp(settings, session_factory(settings.database_url), limiter)


def staff_middleware(settings: Settings) -> list[Middleware]:
    """The signed session cookie of the staff pages (httponly, SameSite=Lax, idle expiry)."""
    return [
        Middleware(
            SessionMiddleware,
            secret_key=session_secret(settings),
            session_cookie=COOKIE,
            max_age=settings.staff_session_minutes * 60,
            path=PREFIX,
            same_site="lax",
        )
    ]


@dataclass
class Visit:
    """One request to a staff page: the account (None on public pages) and its DB session."""

    app: StaffApp
    db: Session
    user: StaffUser | None

    @property
    def username(self) -> str | None:
        return self.user.username if self.user else None

    def audit(self, action: str, target: str = "", detail: dict[str, Any] | None = None) -> None:
        audit(self.db, self.username, action, target, detail)


Handler = Callable[[Request, Visit], Awaitable[Response]]


def form_value(form: FormData, name: str) -> str:
    """A text field of a submitted form ('' when missing or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def password_mark(user: StaffUser) -> str:
    """Changes when the password does, so other sessions of the account end with it."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def start_session(request: Request, user: StaffUser) -> None:
    """A fresh session (new CSRF token) for an account that has just signed in."""
    request.session.clear()
    request.session.update(
        {"uid": user.id, "pw": password_mark(user), CSRF_FIELD: secrets.token_urlsafe(32)}
    )


def signed_in_user(request: Request, db: Session) -> StaffUser | None:
    uid = request.session.get("uid")
    user = db.get(StaffUser, uid) if isinstance(uid, int) else None
    if user is None or not user.active or request.session.get("pw") != password_mark(user):
        return None
    return user


def safe_next(target: str | None) -> str:
    """Only a path inside the staff app may be a redirect target after login."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        return target
    return PREFIX + "/"


def render(
    request: Request, visit: Visit, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    """A page of the staff app, with the account, CSRF token and role names available."""
    base = {
        "user": visit.user,
        "csrf": csrf_token(request),
        "csrf_field": CSRF_FIELD,
        "prefix": PREFIX,
        "role_labels": ROLE_LABELS,
    }
    response = TEMPLATES.TemplateResponse(request, template, base | context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    return response


def error_page(request: Request, visit: Visit, status: int, message: str) -> Response:
    return render(request, visit, "error.html", {"message": message}, status)


async def _csrf_ok(request: Request) -> bool:
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    return (
        isinstance(sent, str)
        and isinstance(expected, str)
        and hmac.compare_digest(sent.encode(), expected.encode())
    )


def staff_route(
    app: StaffApp,
    path: str,
    handler: Handler,
    *,
    roles: Iterable[str] = ANY_ROLE,
    methods: Iterable[str] = ("GET",),
) -> Route:
    """A route whose handler runs only for an allowed, signed-in account and a valid form.

    ``roles`` empty (:data:`PUBLIC`) makes the page open to anyone.
    """
    allowed = frozenset(roles)

    async def endpoint(request: Request) -> Response:
        with app.sessions() as db:
            visit = Visit(app, db, signed_in_user(request, db))
            if allowed:
                if visit.user is None:
                    return RedirectResponse(
                        f"{PREFIX}/login?next={quote(request.url.path)}", status_code=303
                    )
                if visit.user.role not in allowed:
                    visit.audit("forbidden", request.url.path)
                    db.commit()
                    return error_page(request, visit, 403, FORBIDDEN)
            if request.method == "POST" and not await _csrf_ok(request):
                visit.audit("csrf_rejected", request.url.path)
                db.commit()
                return error_page(request, visit, 403, BAD_FORM)
            return await handler(request, visit)

    return Route(path, endpoint, methods=list(methods))
