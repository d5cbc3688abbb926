"""Sign-in for the staff web app: sessions, roles and CSRF.

Every staff page is built with :func:`staff_route`, which is the one place that loads the
signed-in account, enforces its role and checks the CSRF token of every POST form.

A session lives on the server (``staff_session``): the signed cookie carries only its random
token and the CSRF token. Logging out, a password change or deactivation deletes it, so a
copied cookie stops working; it ends after ``staff_session_minutes`` without a request, and
after :data:`SESSION_HOURS` in any case. The cookie gets ``Secure`` when the request came over
HTTPS (bot/web_security.py); failed logins are counted in :mod:`bot.staff.login`.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.shared_state import KEY_PREFIX, login_storage
from bot.staff.login import LoginGuard
from bot.web_security import app_secret
from knowledge.clock import vn_date_time
from knowledge.db import session_factory
from knowledge.models import StaffUser
from knowledge.staff import ROLE_LABELS, audit, open_session, session_user_id
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
SESSION_HOURS = 12  # a staff session ends after this long, however active
SESSION_FIELD = "sid"
# Staff pages have no script; their templates carry inline styles.
STAFF_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

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
    """The key that signs the session cookie (the gateway's one secret, bot/web_security.py)."""
    return app_secret(settings)


@dataclass
class StaffApp:
    """What every staff page needs: settings, database sessions and the login guard."""

    settings: Settings
    sessions: sessionmaker[Session]
    guard: LoginGuard

    @property
    def idle(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.settings.staff_session_minutes)


def staff_app(settings: Settings, shared_prefix: str = KEY_PREFIX) -> StaffApp:
    """The shared state of the staff pages (the schema is migrated at process start)."""
    guard = LoginGuard(settings, login_storage(settings, shared_prefix))
    return StaffApp(settings, session_factory(settings.database_url), guard)


def cookie_seconds(settings: Settings) -> int:
    """How long the browser keeps the cookie; the server decides when the session ends."""
    return max(SESSION_HOURS * 3600, settings.staff_session_minutes * 60)


def staff_middleware(settings: Settings) -> list[Middleware]:
    """The signed session cookie of the staff pages (httponly, SameSite=Lax)."""
    return [
        Middleware(
            SessionMiddleware,
            secret_key=session_secret(settings),
            session_cookie=COOKIE,
            max_age=cookie_seconds(settings),
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
    """The client's address: uvicorn's proxy-header handling has put the real one here when
    the request came through a trusted proxy (``AMNESTY_TRUSTED_PROXIES``)."""
    return request.client.host if request.client else "unknown"


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def start_session(request: Request, db: Session, user: StaffUser) -> None:
    """A fresh session (new token, new CSRF token) for an account that has just signed in."""
    token = open_session(db, user)
    request.session.clear()
    request.session.update({SESSION_FIELD: token, CSRF_FIELD: secrets.token_urlsafe(32)})


def session_token(request: Request) -> str | None:
    token = request.session.get(SESSION_FIELD)
    return token if isinstance(token, str) and token else None


def signed_in_user(request: Request, app: StaffApp, db: Session) -> StaffUser | None:
    """The account of the request's live session (its last request noted), or None."""
    token = session_token(request)
    if token is None:
        return None
    with app.sessions.begin() as own:
        lifetime = dt.timedelta(hours=SESSION_HOURS)
        uid = session_user_id(own, token, idle=app.idle, lifetime=lifetime)
    user = db.get(StaffUser, uid) if uid is not None else None
    if user is None or not user.active:
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
    response.headers["Content-Security-Policy"] = STAFF_CSP
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
            visit = Visit(app, db, signed_in_user(request, app, db))
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
