"""The feedback inbox exports (CSV, Excel) and the periodic report for the steering committee."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bot.staff.auth import (
    ADMINS,
    XLSX,
    Visit,
    error_page,
    render,
)
from knowledge.clock import utc_now, vietnam_today
from knowledge.feedback.inbox import (
    matching,
    parse_filter,
    to_row,
)
from knowledge.feedback.report import (
    PERIODS,
    bars,
    build_report,
    export_csv,
    export_xlsx,
    hours_text,
    report_xlsx,
)

# --- Exports ------------------------------------------------------------------------------------


async def export_list(request: Request, visit: Visit) -> Response:
    fmt = request.path_params["fmt"]
    if fmt not in ("csv", "xlsx"):
        return error_page(request, visit, 404, "Chỉ xuất được tệp .csv hoặc .xlsx.")
    unmasked = request.query_params.get("unmasked") == "1"
    if unmasked and (visit.user is None or visit.user.role not in ADMINS):
        visit.audit("feedback_export_refused", fmt, {"unmasked": True})
        visit.db.commit()
        return error_page(
            request,
            visit,
            403,
            "Chỉ quản trị viên được xuất dữ liệu không che thông tin cá nhân. Bạn vẫn xuất "
            "được bản đã che.",
        )
    f = parse_filter(request.query_params)
    rows = [to_row(item, masked=not unmasked) for item in matching(visit.db, f)]
    body = export_xlsx(rows) if fmt == "xlsx" else export_csv(rows)
    visit.audit(
        "feedback_exported", fmt, {"rows": len(rows), "masked": not unmasked, "filter": f.query()}
    )
    visit.db.commit()
    stamp = vietnam_today(utc_now()).isoformat()
    name = f"y-kien-{stamp}{'' if not unmasked else '-khong-che'}.{fmt}"
    media = XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename={name}",
            "Cache-Control": "no-store",
        },
    )


# --- Report -------------------------------------------------------------------------------------


def _report_of(request: Request, visit: Visit) -> Any:
    q = request.query_params
    asked = q.get("period") or ""
    period = asked if asked in PERIODS else "month"
    try:
        day = dt.date.fromisoformat(q.get("day") or "")
    except ValueError:
        day = vietnam_today(utc_now())
    return build_report(
        visit.db,
        period=period,
        day=day,
        now=utc_now(),
        old_days=visit.app.settings.report_open_days,
    )


async def report_page(request: Request, visit: Visit) -> Response:
    report = _report_of(request, visit)
    context = {
        "report": report,
        "periods": PERIODS,
        "charts": [
            ("Theo loại", bars(report.by_kind)),
            ("Theo trạng thái hiện tại", bars(report.by_status)),
            ("Theo cơ sở giam giữ (15 cơ sở nhiều nhất)", bars(report.by_facility)),
        ],
        "median": hours_text(report.median_hours),
        "p90": hours_text(report.p90_hours),
    }
    visit.audit("feedback_report_opened", f"{report.period}:{report.start.isoformat()}")
    response = render(request, visit, "feedback_report.html", context)
    visit.db.commit()
    return response


async def report_file(request: Request, visit: Visit) -> Response:
    report = _report_of(request, visit)
    body = report_xlsx(report)
    visit.audit("feedback_report_exported", f"{report.period}:{report.start.isoformat()}")
    visit.db.commit()
    name = f"bao-cao-y-kien-{report.period}-{report.start.isoformat()}.xlsx"
    return Response(
        body,
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename={name}",
            "Cache-Control": "no-store",
        },
    )
