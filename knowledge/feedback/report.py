"""The periodic feedback report for the steering committee, and the inbox's CSV/Excel exports.

Periods are weeks (Monday to Sunday) or calendar months on Vietnam's clock. The caller owns
the session.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.clock import as_utc, vietnam_midnight, vn_date_time
from knowledge.feedback.inbox import Row
from knowledge.feedback.items import (
    KIND_LABELS,
    KINDS,
    OPEN_STATUSES,
    STATUS_LABELS,
    STATUSES,
    reference,
)
from knowledge.models import FeedbackEvent, FeedbackItem

PERIODS = {"week": "Tuần", "month": "Tháng"}
NO_FACILITY = "(không nêu cơ sở)"
# Excel keeps at most this many characters in a cell.
EXCEL_CELL_MAX = 32_767
# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
OLD_LIST_MAX = 500

EXPORT_COLUMNS = (
    ("reference", "Mã tra cứu"),
    ("created", "Ngày gửi (giờ Việt Nam)"),
    ("kind", "Loại"),
    ("status_label", "Trạng thái"),
    ("urgent", "Khẩn cấp"),
    ("facility", "Cơ sở giam giữ"),
    ("channel", "Kênh"),
    ("contact_name", "Họ tên"),
    ("contact_phone", "Số điện thoại"),
    ("assignee", "Cán bộ xử lý"),
    ("content", "Nội dung"),
    ("answer", "Trả lời"),
)


# --- Periods -------------------------------------------------------------------------------------


def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of the week or month containing ``day`` and the first day after it."""
    if period == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=7)
    if period == "month":
        start = day.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return start, following
    raise ValueError(f"unknown period {period!r}: use week or month")


# --- The report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OldItem:
    """An item still open after the allowed number of days."""

    reference: str
    created: str
    days: int
    kind: str
    status: str
    assignee: str


@dataclass(frozen=True)
class Report:
    """Figures for one period; durations are in hours."""

    period: str
    start: dt.date
    end: dt.date  # the first day after the period
    generated: str
    total: int
    urgent: int
    by_kind: list[tuple[str, int]]
    by_status: list[tuple[str, int]]
    by_facility: list[tuple[str, int]]
    answered: int
    median_hours: float | None
    p90_hours: float | None
    old_days: int
    old_open: int
    old_items: list[OldItem]

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def title(self) -> str:
        first, last = self.start.strftime("%d/%m/%Y"), self.last_day.strftime("%d/%m/%Y")
        return f"Báo cáo ý kiến, khiếu nại của gia đình: {first} – {last}"


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` percentile of ``values`` (linear interpolation between ranks)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def build_report(
    session: Session, *, period: str, day: dt.date, now: dt.datetime, old_days: int
) -> Report:
    """Counts by kind, status and facility of the items sent in the period containing ``day``,
    time to the first answer (first move to "answered"), and open items older than
    ``old_days`` days at ``now`` (whenever they were sent)."""
    start, end = period_bounds(period, day)
    lower, upper = vietnam_midnight(start), vietnam_midnight(end)
    rows = session.execute(
        select(
            FeedbackItem.id,
            FeedbackItem.kind,
            FeedbackItem.status,
            FeedbackItem.facility,
            FeedbackItem.urgent,
            FeedbackItem.created_at,
        ).where(FeedbackItem.created_at >= lower, FeedbackItem.created_at < upper)
    ).all()
    first_answer = dict(
        session.execute(
            select(FeedbackEvent.item_id, func.min(FeedbackEvent.at))
            .join(FeedbackItem, FeedbackItem.id == FeedbackEvent.item_id)
            .where(
                FeedbackItem.created_at >= lower,
                FeedbackItem.created_at < upper,
                FeedbackEvent.kind == "status",
                FeedbackEvent.to_status == "answered",
            )
            .group_by(FeedbackEvent.item_id)
        )
        .tuples()
        .all()
    )
    kinds = Counter(r.kind for r in rows)
    statuses = Counter(r.status for r in rows)
    facilities = Counter((r.facility or "").strip() or NO_FACILITY for r in rows)
    hours = [
        (as_utc(first_answer[r.id]) - as_utc(r.created_at)).total_seconds() / 3600
        for r in rows
        if r.id in first_answer
    ]
    cutoff = as_utc(now) - dt.timedelta(days=old_days)
    old_filter = (FeedbackItem.status.in_(OPEN_STATUSES), FeedbackItem.created_at < cutoff)
    old_open = (
        session.scalar(select(func.count()).select_from(FeedbackItem).where(*old_filter)) or 0
    )
    old = session.scalars(
        select(FeedbackItem)
        .where(*old_filter)
        .order_by(FeedbackItem.created_at, FeedbackItem.id)
        .limit(OLD_LIST_MAX)
    ).all()
    return Report(
        period=period,
        start=start,
        end=end,
        generated=vn_date_time(now),
        total=len(rows),
        urgent=sum(1 for r in rows if r.urgent),
        by_kind=[(KIND_LABELS[k], kinds.get(k, 0)) for k in KINDS]
        + [(k, n) for k, n in sorted(kinds.items()) if k not in KIND_LABELS],
        by_status=[(STATUS_LABELS[s], statuses.get(s, 0)) for s in STATUSES],
        by_facility=sorted(facilities.items(), key=lambda pair: (-pair[1], pair[0])),
        answered=len(hours),
        median_hours=statistics.median(hours) if hours else None,
        p90_hours=percentile(hours, 0.9) if hours else None,
        old_days=old_days,
        old_open=old_open,
        old_items=[
            OldItem(
                reference=reference(item),
                created=vn_date_time(item.created_at),
                days=(as_utc(now) - as_utc(item.created_at)).days,
                kind=KIND_LABELS.get(item.kind, item.kind),
                status=STATUS_LABELS.get(item.status, item.status),
                assignee=item.assignee or "",
            )
            for item in old
        ],
    )


def hours_text(hours: float | None) -> str:
    """A duration as people read it: "5,5 giờ" or "3,2 ngày"; "—" when there is none."""
    if hours is None:
        return "—"
    if hours < 48:
        return f"{hours:.1f} giờ".replace(".", ",")
    return f"{hours / 24:.1f} ngày".replace(".", ",")


@dataclass(frozen=True)
class Bar:
    """One bar of a horizontal bar chart, in SVG user units."""

    label: str
    count: int
    y: int
    width: float


CHART_WIDTH = 360  # the longest bar
BAR_STEP = 28


def bars(pairs: Iterable[tuple[str, int]], limit: int = 15) -> list[Bar]:
    """Bars for (label, count) pairs, scaled so the largest count is :data:`CHART_WIDTH` long."""
    chosen = list(pairs)[:limit]
    largest = max((count for _, count in chosen), default=0) or 1
    return [
        Bar(label, count, i * BAR_STEP, round(CHART_WIDTH * count / largest, 1))
        for i, (label, count) in enumerate(chosen)
    ]


# --- Spreadsheets --------------------------------------------------------------------------------


def cell_text(value: object) -> object:
    """A value Excel can hold: text without control characters, cut to the cell limit."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)[:EXCEL_CELL_MAX]
    return value


def _append(sheet: Worksheet, values: Iterable[object]) -> None:
    """Add a row in which text starting with "=" stays text, never a formula."""
    sheet.append([cell_text(v) for v in values])
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


def _workbook_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _export_values(row: Row) -> list[object]:
    values = {f.name: getattr(row, f.name) for f in fields(row)}
    values["urgent"] = "có" if row.urgent else ""
    return [values[name] for name, _ in EXPORT_COLUMNS]


def export_xlsx(rows: Iterable[Row]) -> bytes:
    """The rows as an Excel workbook, one item a line, under Vietnamese column titles."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "y-kien"
    _append(sheet, [title for _, title in EXPORT_COLUMNS])
    for row in rows:
        _append(sheet, _export_values(row))
    return _workbook_bytes(book)


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet program will not run: a leading = + - @ gets a quote mark."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_csv(rows: Iterable[Row]) -> bytes:
    """The rows as UTF-8 CSV with a byte-order mark (so Excel reads the Vietnamese letters)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for _, title in EXPORT_COLUMNS])
    for row in rows:
        writer.writerow([csv_cell(v) for v in _export_values(row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_xlsx(report: Report) -> bytes:
    """The report as an Excel workbook: a summary sheet and the list of old open items."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "tong-hop"
    _append(sheet, [report.title])
    _append(sheet, ["Lập lúc (giờ Việt Nam)", report.generated])
    _append(sheet, ["Tổng số ý kiến nhận trong kỳ", report.total])
    _append(sheet, ["Trong đó khẩn cấp", report.urgent])
    _append(sheet, [])
    for title, pairs in (
        ("Theo loại", report.by_kind),
        ("Theo trạng thái hiện tại", report.by_status),
        ("Theo cơ sở giam giữ", report.by_facility),
    ):
        _append(sheet, [title, "Số ý kiến"])
        for label, count in pairs:
            _append(sheet, [label, count])
        _append(sheet, [])
    _append(sheet, ["Thời gian đến câu trả lời đầu tiên", "Giờ"])
    _append(sheet, ["Số ý kiến đã được trả lời", report.answered])
    median = round(report.median_hours, 2) if report.median_hours is not None else None
    p90 = round(report.p90_hours, 2) if report.p90_hours is not None else None
    _append(sheet, ["Trung vị", median])
    _append(sheet, ["90% ý kiến được trả lời trong vòng", p90])
    _append(sheet, [])
    _append(sheet, [f"Ý kiến chưa xong quá {report.old_days} ngày (mọi kỳ)", report.old_open])
    sheet.column_dimensions["A"].width = 48
    old = book.create_sheet("qua-han")
    _append(old, ["Mã tra cứu", "Ngày gửi", "Số ngày", "Loại", "Trạng thái", "Cán bộ xử lý"])
    for item in report.old_items:
        _append(
            old, [item.reference, item.created, item.days, item.kind, item.status, item.assignee]
        )
    return _workbook_bytes(book)
