"""The calendar of amnesty rounds for staff: every round at a glance, and one round's calendar
(status, decision, guidance, cut-off, release, results, sources, time thresholds) to edit.

Everyone signed in may read it; editors and administrators change it. A saved change is used
at once by the answers (the "where things stand now" line) and by the eligibility check.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from bot.staff.auth import PREFIX, StaffApp, Visit, error_page, form_value, render, staff_route
from knowledge.clock import vietnam_today
from knowledge.eligibility.round_rules import GROUPS
from knowledge.kb.calendar_edit import (
    CALENDAR_KINDS,
    FACT_LABELS,
    FACTS,
    GROUP_LABELS,
    STATUS_LABELS,
    CalendarError,
    parse_round,
    round_form,
    rounds,
    save_round,
)
from knowledge.kb.rounds import calendar, now_line
from knowledge.models import Round

EDITORS = ("editor", "admin")
FORM_FIELDS = (
    "status",
    "occasion",
    "decision",
    "decision_date",
    "guidance",
    "cutoff_date",
    "release_decision",
    "release_date",
    "results_people",
    "results_value",
    "note",
)


def _now(visit: Visit) -> str:
    today = visit.app.settings.today or vietnam_today()
    return now_line(calendar(visit.db), today)


def _can_edit(visit: Visit) -> bool:
    return visit.user is not None and visit.user.role in EDITORS


async def calendar_list(request: Request, visit: Visit) -> Response:
    context = {
        "rounds": rounds(visit.db),
        "now": _now(visit),
        "statuses": STATUS_LABELS,
        "can_edit": _can_edit(visit),
    }
    return render(request, visit, "calendar_list.html", context)


def _round_page(
    request: Request,
    visit: Visit,
    row: Round,
    form: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "round": row,
        "form": form,
        "errors": errors or {},
        "done": request.query_params.get("done"),
        "now": _now(visit),
        "can_edit": _can_edit(visit),
        "statuses": STATUS_LABELS,
        "kinds": CALENDAR_KINDS,
        "facts": FACT_LABELS,
        "groups": {g: GROUP_LABELS[g] for g in GROUPS},
    }
    return render(request, visit, "calendar_edit.html", context, status)


def _round_or_none(visit: Visit, request: Request, *, lock: bool = False) -> Round | None:
    """The round of the path; ``lock``: held until commit, so two saves do not interleave."""
    return visit.db.get(Round, request.path_params["round_id"], with_for_update=lock)


async def round_page(request: Request, visit: Visit) -> Response:
    row = _round_or_none(visit, request)
    if row is None:
        return error_page(request, visit, 404, "Không có đợt đặc xá này trong lịch.")
    return _round_page(request, visit, row, round_form(row))


async def save(request: Request, visit: Visit) -> Response:
    raw = await request.form()
    row = _round_or_none(visit, request, lock=True)
    if row is None:
        return error_page(request, visit, 404, "Không có đợt đặc xá này trong lịch.")
    names = [*FORM_FIELDS, "base"]
    for fact in FACTS:
        names += [f"source_{fact}", f"kind_{fact}"]
    for group in GROUPS:
        for part in ("share", "years"):
            names += [f"{part}_{group}", f"{part}_source_{group}", f"{part}_verified_{group}"]
    form = {name: form_value(raw, name) for name in names}
    try:
        values = parse_round(form, row)
        save_round(visit.db, row, values, actor=visit.username or "", base=form["base"])
    except CalendarError as exc:
        visit.db.rollback()
        return _round_page(request, visit, row, form, errors=exc.errors, status=400)
    visit.db.commit()
    return RedirectResponse(f"{PREFIX}/calendar/{row.id}?done=saved", status_code=303)


def calendar_routes(app: StaffApp) -> list[BaseRoute]:
    """The calendar pages: everyone signed in reads them; editors and administrators edit."""
    return [
        staff_route(app, "/calendar", calendar_list),
        staff_route(app, "/calendar/{round_id:str}", round_page),
        staff_route(app, "/calendar/{round_id:str}", save, roles=EDITORS, methods=["POST"]),
    ]
