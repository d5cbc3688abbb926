"""FAQ management pages: list by topic, create, edit with a chat preview, status, history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from bot.staff.auth import (
    PREFIX,
    Handler,
    StaffApp,
    Visit,
    error_page,
    form_value,
    render,
    staff_route,
)
from knowledge.clock import vietnam_today
from knowledge.kb.faq import (
    STATUS_LABELS,
    STATUSES,
    check_messages,
    create_entry,
    diff,
    get_version,
    known_laws,
    last_checked_by,
    latest_number,
    list_entries,
    preview,
    restore,
    set_status,
    snapshot,
    update_entry,
    versions,
)
from knowledge.kb.faq_form import (
    CITATION_FORMAT,
    FACET_LABELS,
    KIND_LABELS,
    MEASURE_LABELS,
    ROUND_LABELS,
    TOPIC_LABELS,
    FaqError,
    citations_text,
    parse_entry,
)
from knowledge.kb.faq_transfer import (
    ImportFailed,
    export_xlsx,
    export_yaml,
    import_rows,
    read_xlsx,
    read_yaml,
)
from knowledge.kb.queue import rating_counts
from knowledge.kb.rechecks import open_rechecks
from knowledge.models import Entry

EDITORS = ("editor",)
FIELDS: tuple[str, ...]
FIELDS = ("key", "topic", "measure", "facet", "title", "round", "minors", "verified")
FIELDS += ("questions", "lead", "answer", "citations", "laws")


def _choices() -> dict[str, Any]:
    return {
        "topics": TOPIC_LABELS,
        "measures": MEASURE_LABELS,
        "facets": FACET_LABELS,
        "rounds": ROUND_LABELS,
        "statuses": STATUS_LABELS,
        "kinds": KIND_LABELS,
        "citation_format": CITATION_FORMAT,
    }


def _form_of(entry: Entry) -> dict[str, str]:
    """An entry as the edit form shows it."""
    return {
        "key": entry.key,
        "topic": entry.topic,
        "measure": entry.measure,
        "facet": entry.facet,
        "title": entry.title,
        "round": entry.round,
        "minors": "on" if entry.minors else "",
        "verified": "on" if entry.verified else "",
        "questions": "\n".join(entry.questions),
        "lead": entry.lead,
        "answer": entry.answer,
        "citations": citations_text(entry.citations),
        "laws": "\n".join(entry.laws or []),
    }


def _submitted(form: FormData) -> dict[str, str]:
    values = {name: form_value(form, name) for name in FIELDS}
    values["laws"] = "\n".join(v for v in form.getlist("laws") if isinstance(v, str))
    return values


def _today(visit: Visit) -> dt.date:
    return visit.app.settings.today or vietnam_today()


def _preview(visit: Visit, fields: dict[str, Any]) -> list[str]:
    s = visit.app.settings
    messages = preview(
        visit.db, fields, department=s.department, contact=s.contact, today=_today(visit)
    )
    check_messages(messages, s.answer_max_chars)
    return messages


def _parse(visit: Visit, form: dict[str, str]) -> dict[str, Any]:
    laws = known_laws(visit.db)
    return parse_entry(form, max_chars=visit.app.settings.answer_max_chars, laws=laws)


def _law_choices(visit: Visit, form: dict[str, str]) -> dict[str, str]:
    """The known legal texts, and any id the form has that the table lacks (to uncheck it)."""
    laws = known_laws(visit.db)
    missing = {x: f"{x} (không có trong bảng văn bản)" for x in form.get("laws", "").split()}
    return laws | {k: v for k, v in missing.items() if k not in laws}


def _entry_or_none(visit: Visit, request: Request) -> Entry | None:
    return visit.db.get(Entry, request.path_params["entry_id"])


def _edit_page(
    request: Request,
    visit: Visit,
    entry: Entry | None,
    form: dict[str, str],
    *,
    messages: list[str] | None = None,
    errors: dict[str, str] | None = None,
    base: int = 0,
    status: int = 200,
) -> Response:
    context = {
        "entry": entry,
        "form": form,
        "messages": messages,
        "errors": errors or {},
        "base": base,
        "can_edit": visit.user is not None and visit.user.role in EDITORS,
        "done": request.query_params.get("done"),
        "checked_by": last_checked_by(visit.db, entry) if entry else None,
        "rating": rating_counts(visit.db).get(entry.key) if entry else None,
        "rechecks": open_rechecks(visit.db, [entry.key]).get(entry.key, []) if entry else [],
        "max_chars": visit.app.settings.answer_max_chars,
        "laws": _law_choices(visit, form),
        "chosen_laws": form.get("laws", "").split(),
        **_choices(),
    }
    return render(request, visit, "faq_edit.html", context, status)


async def entry_list(request: Request, visit: Visit) -> Response:
    q = request.query_params
    topic = q.get("topic") if q.get("topic") in TOPIC_LABELS else None
    status = q.get("status") if q.get("status") in STATUSES else None
    recheck = q.get("recheck") == "1"
    entries = list_entries(
        visit.db,
        topic=topic,
        status=status,
        recheck=recheck,
        text=(q.get("q") or "")[:200] or None,
    )
    context = {
        "entries": entries,
        "rechecks": open_rechecks(visit.db),
        "filters": {"topic": topic or "", "status": status or "", "recheck": recheck},
        "text": q.get("q") or "",
        "can_edit": visit.user is not None and visit.user.role in EDITORS,
        "ratings": rating_counts(visit.db),
        **_choices(),
    }
    return render(request, visit, "faq_list.html", context)


async def new_entry_page(request: Request, visit: Visit) -> Response:
    form = dict.fromkeys(FIELDS, "") | {"round": "law", "topic": request.query_params.get("topic")}
    form |= {"measure": "amnesty", "facet": "overview"}
    form["questions"] = request.query_params.get("questions")  # from the queue page
    return _edit_page(request, visit, None, {k: v or "" for k, v in form.items()})


async def new_entry(request: Request, visit: Visit) -> Response:
    raw = await request.form()
    form = _submitted(raw)
    try:
        fields = _parse(visit, form)
        messages = _preview(visit, fields)
        if form_value(raw, "action") != "save":
            return _edit_page(request, visit, None, form, messages=messages)
        entry = create_entry(visit.db, form["key"], fields, actor=visit.username or "")
    except FaqError as exc:
        visit.db.rollback()
        return _edit_page(request, visit, None, form, errors=exc.errors, status=400)
    visit.db.commit()
    return RedirectResponse(f"{PREFIX}/faq/{entry.id}?done=created", status_code=303)


async def entry_page(request: Request, visit: Visit) -> Response:
    entry = _entry_or_none(visit, request)
    if entry is None:
        return error_page(request, visit, 404, "Không có mục hỏi đáp này.")
    s = visit.app.settings
    messages = preview(
        visit.db, snapshot(entry), department=s.department, contact=s.contact, today=_today(visit)
    )
    base = latest_number(visit.db, entry)
    return _edit_page(request, visit, entry, _form_of(entry), messages=messages, base=base)


async def save_entry(request: Request, visit: Visit) -> Response:
    entry = _entry_or_none(visit, request)
    if entry is None:
        return error_page(request, visit, 404, "Không có mục hỏi đáp này.")
    raw = await request.form()
    form = _submitted(raw) | {"key": entry.key}
    action = form_value(raw, "action")
    try:
        base = int(form_value(raw, "base") or "-1")
    except ValueError:
        base = -1
    try:
        fields = _parse(visit, form)
        messages = _preview(visit, fields)
        if action not in ("save", "save_publish"):
            return _edit_page(request, visit, entry, form, messages=messages, base=base)
        update_entry(
            visit.db,
            entry,
            fields,
            actor=visit.username or "",
            checked_now=form_value(raw, "checked_now") == "on",
            publish=action == "save_publish",
            base=base,
        )
    except FaqError as exc:
        visit.db.rollback()
        return _edit_page(request, visit, entry, form, errors=exc.errors, base=base, status=400)
    visit.db.commit()
    return RedirectResponse(f"{PREFIX}/faq/{entry.id}?done=saved", status_code=303)


async def change_status(request: Request, visit: Visit) -> Response:
    entry = _entry_or_none(visit, request)
    if entry is None:
        return error_page(request, visit, 404, "Không có mục hỏi đáp này.")
    status = form_value(await request.form(), "status")
    try:
        set_status(visit.db, entry, status, actor=visit.username or "")
    except FaqError as exc:
        visit.db.rollback()
        return error_page(request, visit, 400, str(exc))
    visit.db.commit()
    return RedirectResponse(f"{PREFIX}/faq/{entry.id}?done={status}", status_code=303)


def _number(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


async def history(request: Request, visit: Visit) -> Response:
    entry = _entry_or_none(visit, request)
    if entry is None:
        return error_page(request, visit, 404, "Không có mục hỏi đáp này.")
    saved = versions(visit.db, entry)
    q = request.query_params
    new = get_version(visit.db, entry, _number(q.get("b")) or 0) or (saved[0] if saved else None)
    old = get_version(visit.db, entry, _number(q.get("a")) or 0)
    if old is None and new is not None:
        old = get_version(visit.db, entry, new.number - 1)
    context = {
        "entry": entry,
        "versions": saved,
        "old": old,
        "new": new,
        "diff": diff(old, new) if old and new else [],
        "can_edit": visit.user is not None and visit.user.role in EDITORS,
        "done": q.get("done"),
        **_choices(),
    }
    return render(request, visit, "faq_history.html", context)


async def restore_version(request: Request, visit: Visit) -> Response:
    entry = _entry_or_none(visit, request)
    if entry is None:
        return error_page(request, visit, 404, "Không có mục hỏi đáp này.")
    number = _number(form_value(await request.form(), "number")) or 0
    try:
        restore(visit.db, entry, number, actor=visit.username or "")
    except FaqError as exc:
        visit.db.rollback()
        return error_page(request, visit, 400, str(exc))
    visit.db.commit()
    return RedirectResponse(f"{PREFIX}/faq/{entry.id}/history?done={number}", status_code=303)


MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _stamp() -> str:
    return vietnam_today().isoformat()


async def transfer_page(request: Request, visit: Visit) -> Response:
    return render(request, visit, "faq_transfer.html", {"done": request.query_params})


async def export_file(request: Request, visit: Visit) -> Response:
    kind = request.path_params["kind"]
    if kind not in ("yml", "xlsx"):
        return error_page(request, visit, 404, "Chỉ xuất được tệp .yml hoặc .xlsx.")
    if kind == "yml":
        body: bytes = export_yaml(visit.db).encode("utf-8")
        media = "application/yaml; charset=utf-8"
    else:
        body = export_xlsx(visit.db)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    visit.audit("faq_exported", kind)
    visit.db.commit()
    name = f"hoi-dap-{_stamp()}.{kind}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f"attachment; filename={name}"}
    )


async def import_file(request: Request, visit: Visit) -> Response:
    upload = (await request.form()).get("file")
    errors: list[str] = []
    counts = None
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors = ["Hãy chọn tệp .yml hoặc .xlsx để nhập."]
    else:
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        reader = read_xlsx if upload.filename.lower().endswith(".xlsx") else read_yaml
        try:
            if len(data) > MAX_UPLOAD_BYTES:
                raise ImportFailed(["Tệp lớn quá 5 MB."])
            counts = import_rows(
                visit.db,
                reader(data),
                actor=visit.username or "",
                max_chars=visit.app.settings.answer_max_chars,
            )
        except ImportFailed as exc:
            visit.db.rollback()
            errors = exc.errors
    if errors:
        context = {"errors": errors, "done": {}}
        return render(request, visit, "faq_transfer.html", context, 400)
    visit.db.commit()
    return render(request, visit, "faq_transfer.html", {"counts": counts, "done": {}})


def faq_routes(app: StaffApp) -> list[BaseRoute]:
    """The FAQ pages: everyone signed in may read; only editors change anything."""

    def change(path: str, handler: Handler) -> BaseRoute:
        return staff_route(app, path, handler, roles=EDITORS, methods=["POST"])

    return [
        staff_route(app, "/faq", entry_list),
        staff_route(app, "/faq/new", new_entry_page, roles=EDITORS),
        change("/faq/new", new_entry),
        staff_route(app, "/faq/{entry_id:int}", entry_page),
        change("/faq/{entry_id:int}", save_entry),
        change("/faq/{entry_id:int}/status", change_status),
        staff_route(app, "/faq/{entry_id:int}/history", history),
        change("/faq/{entry_id:int}/restore", restore_version),
        staff_route(app, "/faq/transfer", transfer_page, roles=EDITORS),
        staff_route(app, "/faq/export.{kind:str}", export_file, roles=EDITORS),
        change("/faq/import", import_file),
    ]
