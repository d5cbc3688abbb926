"""The queue of unanswered questions: groups of similar questions and what editors do with them."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from bot.staff.auth import PREFIX, StaffApp, Visit, error_page, form_value, render, staff_route
from knowledge.channels import CHANNELS
from knowledge.kb.faq import STATUS_LABELS as ENTRY_STATUSES
from knowledge.kb.faq import list_entries
from knowledge.kb.faq_form import TOPIC_LABELS
from knowledge.kb.queries import entry_by_key
from knowledge.kb.queue import (
    REASONS,
    STATUS_LABELS,
    QueueError,
    add_to_entry,
    dismiss,
    for_new_entry,
    group_of,
    group_questions,
    list_questions,
    mark_training,
    open_questions,
)
from knowledge.kb.topics import ALL_INTENTS, INTENT_LABELS, TOPIC_FOR_INTENT

EDITORS = ("editor",)
INTENTS = {i: INTENT_LABELS.get(i, i) for i in ALL_INTENTS}
DONE = {
    "example": "Đã thêm câu viết lại vào câu hỏi mẫu của mục; trợ lý dùng ngay.",
    "training": "Đã lưu câu viết lại làm câu huấn luyện (xuất bằng lệnh export-training).",
    "dismissed": "Đã bỏ qua nhóm câu hỏi.",
}


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _choices() -> dict[str, Any]:
    return {
        "intents": INTENTS,
        "channels": CHANNELS,
        "reasons": REASONS,
        "statuses": STATUS_LABELS,
        "topics": TOPIC_LABELS,
        "entry_statuses": ENTRY_STATUSES,
    }


async def queue_list(request: Request, visit: Visit) -> Response:
    q = request.query_params
    intent = q.get("intent") if q.get("intent") in INTENTS else ""
    channel = q.get("channel") if q.get("channel") in CHANNELS else ""
    status = q.get("status") if q.get("status") in STATUS_LABELS else "open"
    since, until = _day(q.get("since")), _day(q.get("until"))
    filters = {
        "intent": intent,
        "channel": channel,
        "status": status,
        "since": since,
        "until": until,
    }
    questions = list_questions(
        visit.db,
        status=status,
        intent=intent or None,
        channel=channel or None,
        since=since,
        until=until,
    )
    context = {
        "groups": group_questions(questions),
        "total": len(questions),
        "filters": filters,
        "done": DONE.get(q.get("done") or ""),
        **_choices(),
    }
    return render(request, visit, "queue_list.html", context)


def _group_page(
    request: Request,
    visit: Visit,
    *,
    error: str = "",
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    group = group_of(visit.db, request.path_params["question_id"])
    if group is None:
        return error_page(
            request, visit, 404, "Câu hỏi này không còn chờ xử lý (đã xử lý hoặc không có)."
        )
    first = group.first
    form = form or {}
    context = {
        "group": group,
        "entries": list_entries(visit.db),
        "error": error,
        "form": {
            "rewrite": form.get("rewrite", ""),
            "intent": form.get("intent") or first.intent or "",
            "entry_key": form.get("entry_key") or first.entry_key or "",
            "topic": form.get("topic") or TOPIC_FOR_INTENT.get(first.intent or "", ""),
        },
        **_choices(),
    }
    return render(request, visit, "queue_group.html", context, status)


async def group_page(request: Request, visit: Visit) -> Response:
    return _group_page(request, visit)


def _ids(values: list[Any]) -> list[int]:
    ids = []
    for value in values:
        if isinstance(value, str) and value.isdigit():
            ids.append(int(value))
    return ids


async def work_group(request: Request, visit: Visit) -> Response:
    """One of: start a new entry, add to an entry, keep for training, dismiss."""
    raw = await request.form()
    form = {name: form_value(raw, name) for name in ("rewrite", "intent", "entry_key", "topic")}
    action = form_value(raw, "action")
    actor = visit.username or ""
    try:
        questions = open_questions(visit.db, _ids(raw.getlist("ids")))
        if action == "new_entry":
            text = for_new_entry(visit.db, questions, form["rewrite"], actor=actor)
            visit.db.commit()
            topic = form["topic"] if form["topic"] in TOPIC_LABELS else ""
            query = urlencode({"topic": topic, "questions": text})
            return RedirectResponse(f"{PREFIX}/faq/new?{query}", status_code=303)
        if action == "add_example":
            entry = entry_by_key(visit.db, form["entry_key"])
            if entry is None:
                raise QueueError("Hãy chọn mục hỏi đáp để thêm câu hỏi mẫu.")
            add_to_entry(visit.db, questions, entry, form["rewrite"], actor=actor)
            done = "example"
        elif action == "training":
            mark_training(visit.db, questions, form["intent"], form["rewrite"], actor=actor)
            done = "training"
        elif action == "dismiss":
            dismiss(visit.db, questions, actor=actor)
            done = "dismissed"
        else:
            raise QueueError("Thao tác không hợp lệ.")
    except QueueError as exc:
        visit.db.rollback()
        return _group_page(request, visit, error=str(exc), form=form, status=400)
    visit.db.commit()
    return RedirectResponse(f"{PREFIX}/queue?done={done}", status_code=303)


def queue_routes(app: StaffApp) -> list[BaseRoute]:
    """The queue pages, for editors only (the questions are families' words)."""
    return [
        staff_route(app, "/queue", queue_list, roles=EDITORS),
        staff_route(app, "/queue/{question_id:int}", group_page, roles=EDITORS),
        staff_route(app, "/queue/{question_id:int}", work_group, roles=EDITORS, methods=["POST"]),
    ]
