"""The staff web app's own pages (login, home, accounts, audit log) and account commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import sys
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount

from bot.staff.auth import (
    PREFIX,
    PUBLIC,
    StaffApp,
    Visit,
    client_address,
    error_page,
    form_value,
    render,
    safe_next,
    session_token,
    staff_app,
    staff_middleware,
    staff_route,
    start_session,
)
from bot.staff.calendar_pages import calendar_routes
from bot.staff.faq_pages import faq_routes
from bot.staff.feedback_pages import feedback_routes
from bot.staff.login import Verdict
from bot.staff.queue_pages import queue_routes
from bot.staff.training_pages import training_routes
from knowledge.clock import utc_now
from knowledge.db import create_schema, engine_for, session_factory
from knowledge.models import AuditEntry, StaffUser
from knowledge.staff import (
    ROLES,
    AccountError,
    audit,
    authenticate,
    close_session,
    count_admins,
    create_user,
    get_user,
    list_users,
    normalize_username,
    recent_audit,
    set_active,
    set_password,
    set_role,
)
from settings import Settings

BLOCKED = (
    "Bạn đã nhập sai quá nhiều lần. Vì an toàn, việc đăng nhập bằng tên này (hoặc từ máy "
    "này) tạm bị khóa; hãy đợi vài phút rồi thử lại, hoặc nhờ quản trị viên kiểm tra."
)
WRONG = "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa."
BUSY = "Hệ thống đang kiểm tra nhiều lần đăng nhập cùng lúc. Bạn vui lòng đợi vài giây rồi thử lại."
# Failed or refused logins this recent name the addresses an unlock clears for an account.
UNLOCK_LOOKBACK = dt.timedelta(days=1)


class Section(NamedTuple):
    """A part of the staff app shown on the home page to the roles that may use it."""

    title: str
    path: str
    roles: tuple[str, ...]
    description: str


SECTIONS = [
    Section(
        "Nội dung hỏi đáp",
        "/faq",
        ("editor", "reviewer", "admin"),
        "Xem các câu trả lời của trợ lý; biên tập viên sửa, thêm, xuất bản, xem lịch sử.",
    ),
    Section(
        "Lịch các đợt đặc xá",
        "/calendar",
        ("editor", "reviewer", "admin"),
        "Quyết định, mốc thời gian, ngày tha, kết quả và mức thời gian của từng đợt; biên tập "
        "viên cập nhật, trợ lý dùng ngay.",
    ),
    Section(
        "Ý kiến, khiếu nại của gia đình",
        "/feedback",
        ("reviewer", "admin"),
        "Lọc, mở, giao việc, đổi trạng thái, trả lời; xuất Excel/CSV; báo cáo định kỳ.",
    ),
    Section(
        "Câu hỏi chưa trả lời được",
        "/queue",
        ("editor",),
        "Câu gia đình hỏi mà trợ lý chưa trả lời tốt, gộp theo nhóm: thêm vào mục hỏi đáp, "
        "tạo mục mới, lưu làm câu huấn luyện hoặc bỏ qua.",
    ),
    Section(
        "Huấn luyện lại mô hình",
        "/training",
        ("editor", "admin"),
        "Huấn luyện lại với các câu huấn luyện đã lưu, kiểm tra trên bộ câu kiểm tra, chỉ dùng "
        "mô hình mới khi đạt ngưỡng.",
    ),
    Section("Tài khoản", "/users", ("admin",), "Tạo tài khoản, đổi vai trò, khóa tài khoản."),
    Section("Nhật ký thao tác", "/audit", ("admin",), "Ai đã làm gì, lúc nào."),
]


async def login_page(request: Request, visit: Visit) -> Response:
    if visit.user is not None:
        return RedirectResponse(f"{PREFIX}/", status_code=303)
    return render(request, visit, "login.html", {"next": request.query_params.get("next")})


async def login(request: Request, visit: Visit) -> Response:
    """Check a login, counting the attempt before any password is hashed (bot/staff/login.py)."""
    form = await request.form()
    username = normalize_username(form_value(form, "username"))[:100]
    password = form_value(form, "password")
    target = safe_next(form_value(form, "next"))
    address = client_address(request)
    guard = visit.app.guard
    context = {"next": target, "username": username}
    verdict = await guard.admit(username, address)
    if verdict is Verdict.BLOCKED:
        return _refused(request, visit, "login_blocked", context, BLOCKED)
    if verdict is Verdict.SLOWED:
        await asyncio.sleep(guard.delay)
    with guard.hashing() as admitted:
        if not admitted:
            return _refused(request, visit, "login_busy", context, BUSY)
        user = await run_in_threadpool(authenticate, visit.db, username, password)
    if user is None:
        detail = {"address": address, "slowed": verdict is Verdict.SLOWED}
        visit.audit("login_failed", username, detail)
        visit.db.commit()
        return render(request, visit, "login.html", context | {"error": WRONG}, 400)
    await guard.signed_in(username, address)
    audit(visit.db, user.username, "login", user.username, {"address": address})
    start_session(request, visit.db, user)
    visit.db.commit()
    return RedirectResponse(target, status_code=303)


def _refused(
    request: Request, visit: Visit, action: str, context: dict[str, str], message: str
) -> Response:
    """A login refused before its password was checked (429), audited."""
    visit.audit(action, context["username"], {"address": client_address(request)})
    visit.db.commit()
    return render(request, visit, "login.html", context | {"error": message}, 429)


async def logout(request: Request, visit: Visit) -> Response:
    """End the session on the server too: a copy of the cookie no longer signs anyone in."""
    token = session_token(request)
    if token is not None:
        close_session(visit.db, token)
    visit.audit("logout", visit.username or "")
    visit.db.commit()
    request.session.clear()
    return RedirectResponse(f"{PREFIX}/login?bye=1", status_code=303)


async def home(request: Request, visit: Visit) -> Response:
    assert visit.user is not None
    sections = [s for s in SECTIONS if visit.user.role in s.roles]
    return render(request, visit, "home.html", {"sections": sections})


def _users_page(request: Request, visit: Visit, error: str = "", status: int = 200) -> Response:
    context: dict[str, Any] = {"users": list_users(visit.db), "roles": ROLES, "error": error}
    context["done"] = request.query_params.get("done")
    return render(request, visit, "users.html", context, status)


async def users(request: Request, visit: Visit) -> Response:
    return _users_page(request, visit)


async def add_user(request: Request, visit: Visit) -> Response:
    form = await request.form()
    try:
        user = await run_in_threadpool(
            create_user,
            visit.db,
            form_value(form, "username"),
            form_value(form, "password"),
            form_value(form, "role"),
        )
    except AccountError as exc:
        visit.db.rollback()
        return _users_page(request, visit, str(exc), 400)
    visit.audit("user_created", user.username, {"role": user.role})
    visit.db.commit()
    return RedirectResponse(f"{PREFIX}/users?done=created", status_code=303)


def _last_admin(db: Session, user: StaffUser) -> bool:
    return user.role == "admin" and user.active and count_admins(db) <= 1


async def change_user(request: Request, visit: Visit) -> Response:
    """Change the role of an account, or deactivate / reactivate it."""
    form = await request.form()
    user = get_user(visit.db, request.path_params["username"])
    if user is None:
        return error_page(request, visit, 404, "Không có tài khoản này.")
    change = form_value(form, "change")
    try:
        if change == "role":
            role = form_value(form, "role")
            if role != "admin" and _last_admin(visit.db, user):
                raise AccountError("Không thể bỏ quyền quản trị của quản trị viên cuối cùng.")
            old = user.role
            set_role(visit.db, user, role)
            visit.audit("user_role_changed", user.username, {"from": old, "to": role})
        elif change in ("deactivate", "activate"):
            if change == "deactivate" and _last_admin(visit.db, user):
                raise AccountError("Không thể khóa quản trị viên cuối cùng.")
            set_active(visit.db, user, change == "activate")
            visit.audit(f"user_{change}d", user.username)
        else:
            raise AccountError("Thao tác không hợp lệ.")
    except AccountError as exc:
        visit.db.rollback()
        return _users_page(request, visit, str(exc), 400)
    visit.db.commit()
    return RedirectResponse(f"{PREFIX}/users?done={change}", status_code=303)


def recent_addresses(db: Session, username: str) -> list[str]:
    """Addresses that recently failed or were refused on ``username`` (from the audit log)."""
    rows = db.scalars(
        select(AuditEntry).where(
            AuditEntry.target == username,
            AuditEntry.action.in_(("login_failed", "login_blocked", "login_busy")),
            AuditEntry.at >= utc_now() - UNLOCK_LOOKBACK,
        )
    )
    return sorted({str(e.detail.get("address")) for e in rows if e.detail.get("address")})


async def unlock_login(request: Request, visit: Visit) -> Response:
    """Clear the failed-login counts of an account (from the addresses that recently failed on
    it), or of one client address."""
    form = await request.form()
    username = normalize_username(form_value(form, "username"))[:100]
    address = form_value(form, "address").strip()[:64]
    if username:
        addresses = recent_addresses(visit.db, username)
        await visit.app.guard.unlock(username, addresses)
        visit.audit("login_unlocked", username, {"addresses": addresses})
    elif address:
        await visit.app.guard.unlock(None, [address])
        visit.audit("login_unlocked", "", {"addresses": [address]})
    else:
        return _users_page(request, visit, "Hãy chọn tài khoản hoặc nhập địa chỉ cần mở khóa.", 400)
    visit.db.commit()
    return RedirectResponse(f"{PREFIX}/users?done=unlocked", status_code=303)


async def audit_log(request: Request, visit: Visit) -> Response:
    actor = request.query_params.get("actor") or None
    entries = recent_audit(visit.db, 300, actor)
    return render(request, visit, "audit.html", {"entries": entries, "actor": actor or ""})


def staff_routes(app: StaffApp) -> list[BaseRoute]:
    """Login, logout, home, accounts and audit pages (mounted under /staff)."""
    return [
        staff_route(app, "/login", login_page, roles=PUBLIC),
        staff_route(app, "/login", login, roles=PUBLIC, methods=["POST"]),
        staff_route(app, "/logout", logout, methods=["POST"]),
        staff_route(app, "/", home),
        staff_route(app, "/users", users, roles=["admin"]),
        staff_route(app, "/users", add_user, roles=["admin"], methods=["POST"]),
        staff_route(app, "/unlock", unlock_login, roles=["admin"], methods=["POST"]),
        staff_route(app, "/users/{username}", change_user, roles=["admin"], methods=["POST"]),
        staff_route(app, "/audit", audit_log, roles=["admin"]),
    ]


def staff_mount(settings: Settings) -> Mount:
    """The whole staff web app under /staff, with its own session cookie."""
    app = staff_app(settings)
    routes = staff_routes(app) + faq_routes(app)
    routes += queue_routes(app)
    routes += feedback_routes(app)
    routes += training_routes(app)
    routes += calendar_routes(app)
    return Mount(PREFIX, routes=routes, middleware=staff_middleware(settings))


# --- Command line: python -m bot create-user / set-password ------------------------------------


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mật khẩu mới: ")
    if getpass.getpass("Nhập lại mật khẩu: ") != first:
        raise AccountError("Hai lần nhập mật khẩu không giống nhau.")
    return first


def create_user_command(settings: Settings, name: str, role: str, from_stdin: bool) -> int:
    """Create a staff account; returns the process exit code."""
    create_schema(engine_for(settings.database_url))
    try:
        password = read_password(from_stdin)
        with session_factory(settings.database_url).begin() as db:
            user = create_user(db, name, password, role)
            audit(db, None, "user_created", user.username, {"role": role, "via": "command"})
    except AccountError as exc:
        print(f"Không tạo được tài khoản: {exc}", file=sys.stderr)
        return 1
    print(f"Đã tạo tài khoản {user.username} (vai trò {role}).")
    return 0


def set_password_command(settings: Settings, name: str, from_stdin: bool) -> int:
    """Set a new password for an existing account; returns the process exit code."""
    create_schema(engine_for(settings.database_url))
    try:
        with session_factory(settings.database_url).begin() as db:
            user = get_user(db, name)
            if user is None:
                raise AccountError(f"Không có tài khoản {normalize_username(name)!r}.")
            set_password(db, user, read_password(from_stdin))
            audit(db, None, "password_set", user.username, {"via": "command"})
    except AccountError as exc:
        print(f"Không đổi được mật khẩu: {exc}", file=sys.stderr)
        return 1
    print(f"Đã đổi mật khẩu của {normalize_username(name)}.")
    return 0
