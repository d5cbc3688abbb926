"""The staff inbox of families' feedback: list, item, answer and send, exports, report, deletion.

Reviewers and admins work the inbox; only admins export unmasked data or delete a family's
data. Every opening, change and export goes to the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from bot.app_state import running_gateway
from bot.channels.rasa_client import Reply
from bot.staff.auth import (
    ADMINS,
    INBOX,
    PREFIX,
    Handler,
    StaffApp,
    Visit,
    error_page,
    form_value,
    render,
    staff_route,
)
from bot.staff.report_pages import export_list, report_file, report_page
from knowledge import channels as channel_state
from knowledge.clock import VIETNAM, as_utc, utc_now, vn_date_time
from knowledge.feedback.inbox import (
    CHANNEL_LABELS,
    channels_in_use,
    handlers,
    last_message_at,
    parse_filter,
    search,
    status_counts,
    to_row,
)
from knowledge.feedback.items import (
    FINAL_STATUSES,
    KIND_LABELS,
    STATUS_LABELS,
    TRANSITIONS,
    add_note,
    assign,
    change_status,
    reference,
    set_answer,
)
from knowledge.feedback.privacy import forget_everywhere
from knowledge.feedback.spool import Spool, spool_directory
from knowledge.local.received import Received, received_directory
from knowledge.models import FeedbackItem

MAX_NOTE_CHARS = 5000
# Channels that cannot send a message the family did not ask for: the answer waits for them.
NO_PUSH = {
    "rest": "Ý kiến gửi qua kênh REST; kênh này không gửi tin nhắn chủ động.",
    "web": "Ý kiến gửi qua khung trò chuyện trên web; kênh này không gửi tin nhắn chủ động.",
}
NOT_FOUND = "Không có ý kiến này (có thể đã bị xóa theo yêu cầu của gia đình)."


def _item(visit: Visit, request: Request) -> FeedbackItem | None:
    return visit.db.get(FeedbackItem, request.path_params["item_id"])


def _back(item: FeedbackItem, done: str) -> Response:
    return RedirectResponse(f"{PREFIX}/feedback/{item.id}?done={done}", status_code=303)


# --- List ---------------------------------------------------------------------------------------


async def inbox(request: Request, visit: Visit) -> Response:
    f = parse_filter(request.query_params)
    try:
        wanted = int(request.query_params.get("page") or "1")
    except ValueError:
        wanted = 1
    page = search(visit.db, f, page=wanted)
    query = f.query()
    counts = status_counts(visit.db, f)
    every = {k: v for k, v in query.items() if k != "status"}
    tabs = [{"status": "", "label": "Tất cả", "count": sum(counts.values()), "query": every}]
    tabs += [
        {"status": key, "label": label, "count": counts[key], "query": every | {"status": key}}
        for key, label in STATUS_LABELS.items()
    ]
    for tab in tabs:
        tab["current"] = (f.status or "") == tab["status"]
    context = {
        "rows": [to_row(item) for item in page.items],
        "page": page,
        "filter": f,
        "query": query,
        "tabs": tabs,
        "prev_query": query | {"page": str(page.page - 1)},
        "next_query": query | {"page": str(page.page + 1)},
        "statuses": STATUS_LABELS,
        "kinds": KIND_LABELS,
        "channels": {c: CHANNEL_LABELS.get(c, c) for c in channels_in_use(visit.db)},
        "is_admin": visit.user is not None and visit.user.role in ADMINS,
    }
    return render(request, visit, "feedback_list.html", context)


# --- Item ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """Whether this gateway can send the answer to the family now, and what the page says."""

    can_send: bool
    message: str


def delivery(request: Request, visit: Visit, item: FeedbackItem) -> Delivery:
    """How the answer reaches the family on the item's channel."""
    ref = reference(item)
    lookup = f'Câu trả lời đã lưu được gia đình xem khi nhắn "tra cứu {ref}".'
    if item.channel in NO_PUSH:
        return Delivery(False, f"{NO_PUSH[item.channel]} {lookup}")
    gateway = running_gateway(request)
    deliverers = gateway.inbox.deliverers if gateway is not None else {}
    label = CHANNEL_LABELS.get(item.channel, item.channel)
    if item.channel not in deliverers:
        return Delivery(
            False,
            f"Kênh {label} chưa được bật trên máy chủ này (chưa cấu hình), nên không gửi "
            f"được từ đây. {lookup}",
        )
    if item.channel == "zalo":
        days = visit.app.settings.zalo_reply_window_days
        last = last_message_at(visit.db, item.sender_id) or as_utc(item.created_at)
        closes = last + dt.timedelta(days=days)
        window = (
            f"Zalo chỉ cho gửi trong vòng {days} ngày sau tin nhắn cuối cùng của gia đình "
            f"(tin cuối lúc {vn_date_time(last)}; hạn gửi đến {vn_date_time(closes)})."
        )
        if utc_now() > closes:
            return Delivery(False, f"{window} Đã quá hạn nên không gửi được qua Zalo. {lookup}")
        return Delivery(True, window)
    return Delivery(True, f"Câu trả lời sẽ được gửi qua {label} tới cuộc trò chuyện của gia đình.")


def _turns(item: FeedbackItem) -> list[dict[str, str]]:
    turns = []
    for turn in item.excerpt or []:
        if not isinstance(turn, dict):
            continue
        at = turn.get("at")
        when = ""
        if isinstance(at, (int, float)):
            when = dt.datetime.fromtimestamp(at, VIETNAM).strftime("%d/%m/%Y %H:%M")
        who = "Gia đình" if turn.get("who") == "user" else "Trợ lý"
        turns.append({"who": who, "text": str(turn.get("text") or ""), "at": when})
    return turns


def _item_page(
    request: Request, visit: Visit, item: FeedbackItem, error: str = "", status: int = 200
) -> Response:
    context = {
        "item": item,
        "ref": reference(item),
        "kind": KIND_LABELS.get(item.kind, item.kind),
        "statuses": STATUS_LABELS,
        "next_statuses": TRANSITIONS.get(item.status, ()),
        "final": item.status in FINAL_STATUSES,
        "channel": CHANNEL_LABELS.get(item.channel, item.channel),
        "turns": _turns(item),
        "handlers": handlers(visit.db),
        "delivery": delivery(request, visit, item),
        "error": error,
        "done": request.query_params.get("done"),
        "max_chars": visit.app.settings.answer_max_chars,
        "is_admin": visit.user is not None and visit.user.role in ADMINS,
    }
    visit.audit("feedback_opened", reference(item))
    response = render(request, visit, "feedback_item.html", context, status)
    visit.db.commit()
    return response


async def item_page(request: Request, visit: Visit) -> Response:
    item = _item(visit, request)
    if item is None:
        return error_page(request, visit, 404, NOT_FOUND)
    return _item_page(request, visit, item)


def _refused(request: Request, visit: Visit, item: FeedbackItem, message: str) -> Response:
    visit.db.rollback()
    return _item_page(request, visit, item, message, 400)


def transition_error(item: FeedbackItem, to: str, note: str) -> str | None:
    """Why ``item`` may not move to ``to`` (in Vietnamese), or None if it may."""
    current = STATUS_LABELS.get(item.status, item.status)
    if item.status in FINAL_STATUSES:
        return f"Ý kiến đang ở trạng thái «{current}», không đổi trạng thái được nữa."
    allowed = TRANSITIONS.get(item.status, ())
    if to not in allowed:
        target = STATUS_LABELS.get(to, to or "(trống)")
        options = ", ".join(f"«{STATUS_LABELS[s]}»" for s in allowed)
        return (
            f"Không chuyển được từ «{current}» sang «{target}». Từ «{current}» chỉ chuyển "
            f"được sang: {options}."
        )
    if to == "rejected" and not note.strip():
        return "Muốn không xem xét ý kiến này, hãy ghi lý do vào ô ghi chú rồi gửi lại."
    return None


async def change_item_status(request: Request, visit: Visit) -> Response:
    item = _item(visit, request)
    if item is None:
        return error_page(request, visit, 404, NOT_FOUND)
    form = await request.form()
    to, note = form_value(form, "status"), form_value(form, "note")[:MAX_NOTE_CHARS]
    problem = transition_error(item, to, note)
    if problem:
        return _refused(request, visit, item, problem)
    old = item.status
    change_status(visit.db, item, to, actor=visit.username or "", note=note or None)
    visit.audit("feedback_status_changed", reference(item), {"from": old, "to": to})
    visit.db.commit()
    return _back(item, "status")


async def add_item_note(request: Request, visit: Visit) -> Response:
    item = _item(visit, request)
    if item is None:
        return error_page(request, visit, 404, NOT_FOUND)
    note = form_value(await request.form(), "note")
    if not note.strip():
        return _refused(request, visit, item, "Ghi chú đang trống: hãy viết nội dung ghi chú.")
    if len(note) > MAX_NOTE_CHARS:
        return _refused(request, visit, item, f"Ghi chú dài quá {MAX_NOTE_CHARS} ký tự.")
    add_note(visit.db, item, note, actor=visit.username or "")
    visit.audit("feedback_note_added", reference(item))
    visit.db.commit()
    return _back(item, "note")


async def assign_item(request: Request, visit: Visit) -> Response:
    item = _item(visit, request)
    if item is None:
        return error_page(request, visit, 404, NOT_FOUND)
    assignee = form_value(await request.form(), "assignee").strip()
    if assignee and assignee not in handlers(visit.db):
        return _refused(
            request,
            visit,
            item,
            f"Không giao được cho «{assignee}»: chỉ giao cho tài khoản đang hoạt động có vai "
            "trò xử lý ý kiến hoặc quản trị.",
        )
    old = item.assignee
    assign(visit.db, item, assignee or None, actor=visit.username or "")
    visit.audit("feedback_assigned", reference(item), {"from": old, "to": assignee or None})
    visit.db.commit()
    return _back(item, "assigned")


async def save_answer(request: Request, visit: Visit) -> Response:
    item = _item(visit, request)
    if item is None:
        return error_page(request, visit, 404, NOT_FOUND)
    answer = form_value(await request.form(), "answer")
    limit = visit.app.settings.answer_max_chars
    if not answer.strip():
        return _refused(request, visit, item, "Câu trả lời đang trống: hãy viết câu trả lời.")
    if len(answer.strip()) > limit:
        return _refused(
            request,
            visit,
            item,
            f"Câu trả lời dài {len(answer.strip())} ký tự, quá giới hạn {limit} ký tự (để vừa "
            "một tin nhắn gửi gia đình). Hãy rút gọn.",
        )
    if item.status in FINAL_STATUSES:
        status = STATUS_LABELS[item.status]
        return _refused(
            request, visit, item, f"Ý kiến đã «{status}», không sửa câu trả lời được nữa."
        )
    set_answer(visit.db, item, answer, actor=visit.username or "")
    visit.audit("feedback_answered", reference(item), {"chars": len(answer.strip())})
    visit.db.commit()
    return _back(item, "answer")


def answer_message(item: FeedbackItem) -> str:
    """The message the family receives when staff send the answer."""
    return f"Cán bộ đã trả lời ý kiến {reference(item)} của gia đình:\n{item.answer}"


async def send_answer(request: Request, visit: Visit) -> Response:
    item = _item(visit, request)
    if item is None:
        return error_page(request, visit, 404, NOT_FOUND)
    if not item.answer:
        return _refused(request, visit, item, "Chưa có câu trả lời: hãy lưu câu trả lời trước.")
    how = delivery(request, visit, item)
    if not how.can_send:
        return _refused(request, visit, item, how.message)
    gateway = running_gateway(request)
    assert gateway is not None  # delivery() said the channel runs here
    deliver = gateway.inbox.deliverers[item.channel]
    visit.db.commit()  # no transaction stays open while the channel is called
    label = CHANNEL_LABELS.get(item.channel, item.channel)
    try:
        sent = await deliver(item.sender_id, [Reply(answer_message(item))])
    except Exception as exc:
        visit.audit("feedback_send_failed", reference(item), {"error": exc.__class__.__name__})
        visit.db.commit()
        return _refused(
            request,
            visit,
            item,
            f"Chưa gửi được qua {label} ({exc.__class__.__name__}). Câu trả lời vẫn được lưu; "
            "hãy thử gửi lại sau ít phút.",
        )
    if not sent.delivered:
        visit.audit("feedback_send_refused", reference(item), {"channel": item.channel})
        visit.db.commit()
        return _refused(
            request,
            visit,
            item,
            f"{label} từ chối chuyển tin (ví dụ: đã quá hạn trả lời hoặc gia đình đã bỏ quan "
            "tâm). Câu trả lời vẫn được lưu để gia đình xem khi tra cứu.",
        )
    add_note(
        visit.db, item, f"Đã gửi câu trả lời cho gia đình qua {label}.", actor=visit.username or ""
    )
    visit.audit("feedback_answer_sent", reference(item), {"channel": item.channel})
    visit.db.commit()
    return _back(item, "sent")


# --- Deleting a family's data -------------------------------------------------------------------


def _footprint(db: Session, visit: Visit, sender: str) -> dict[str, Any]:
    found = db.scalars(select(FeedbackItem).where(FeedbackItem.sender_id == sender))
    items = [to_row(item) for item in found]
    settings = visit.app.settings
    spooled = [d for d in Spool(spool_directory(settings)).pending() if d.sender_id == sender]
    received = [h for h in Received(received_directory(settings)).held() if h.sender == sender]
    return {
        "items": items,
        "spooled": len(spooled) + len(received),
        "channel_rows": len(channel_state.undelivered(db, sender=sender))
        + channel_state.count_kept(db, sender=sender),
    }


def _forget_page(
    request: Request, visit: Visit, sender: str, extra: dict[str, Any], status: int = 200
) -> Response:
    context: dict[str, Any] = {"sender": sender} | extra
    if sender:
        context |= _footprint(visit.db, visit, sender)
        visit.audit("family_data_viewed", "")
    response = render(request, visit, "feedback_forget.html", context, status)
    visit.db.commit()
    return response


async def forget_page(request: Request, visit: Visit) -> Response:
    """The deletion form; from an item page, for that item's sender (the sender id never
    travels in a URL, which proxies and browsers keep)."""
    item_id = request.query_params.get("item", "")
    item = visit.db.get(FeedbackItem, int(item_id)) if item_id.isdigit() else None
    return _forget_page(request, visit, item.sender_id if item is not None else "", {})


async def forget(request: Request, visit: Visit) -> Response:
    form = await request.form()
    sender = form_value(form, "sender").strip()[:255]
    if not sender:
        error = "Hãy nhập mã người gửi (ví dụ zalo:123456)."
        return render(request, visit, "feedback_forget.html", {"sender": "", "error": error}, 400)
    if form_value(form, "step") == "show":
        return _forget_page(request, visit, sender, {})
    if form_value(form, "confirm") != "yes":
        error = "Chưa xóa gì: hãy đánh dấu ô xác nhận rồi bấm xóa."
        return _forget_page(request, visit, sender, {"error": error}, 400)
    visit.db.commit()  # nothing of ours stays open while another session deletes
    # Deleted and audited (with the admin's name) in one transaction.
    done = await run_in_threadpool(
        forget_everywhere, visit.app.settings, sender, visit.username or "admin"
    )
    gateway = running_gateway(request)
    if gateway is not None:
        await gateway.inbox.forget(sender)  # the buttons this process remembers
    return render(request, visit, "feedback_forget.html", {"sender": "", "forgotten": done})


def feedback_routes(app: StaffApp) -> list[BaseRoute]:
    """The inbox pages: reviewers and admins; deletion of a family's data: admins only."""

    def change(path: str, handler: Handler) -> BaseRoute:
        return staff_route(app, path, handler, roles=INBOX, methods=["POST"])

    return [
        staff_route(app, "/feedback", inbox, roles=INBOX),
        staff_route(app, "/feedback/export.{fmt:str}", export_list, roles=INBOX),
        staff_route(app, "/feedback/report", report_page, roles=INBOX),
        staff_route(app, "/feedback/report.xlsx", report_file, roles=INBOX),
        staff_route(app, "/feedback/forget", forget_page, roles=ADMINS),
        staff_route(app, "/feedback/forget", forget, roles=ADMINS, methods=["POST"]),
        staff_route(app, "/feedback/{item_id:int}", item_page, roles=INBOX),
        change("/feedback/{item_id:int}/status", change_item_status),
        change("/feedback/{item_id:int}/note", add_item_note),
        change("/feedback/{item_id:int}/assign", assign_item),
        change("/feedback/{item_id:int}/answer", save_answer),
        change("/feedback/{item_id:int}/send", send_answer),
    ]
