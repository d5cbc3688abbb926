"""The periodic report and the spreadsheets: periods in Vietnam time, counts, answer times."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from knowledge.feedback.inbox import to_row
from knowledge.feedback.items import change_status, reference
from knowledge.feedback.report import (
    NO_FACILITY,
    bars,
    build_report,
    export_csv,
    export_xlsx,
    hours_text,
    percentile,
    period_bounds,
    report_xlsx,
)
from knowledge.models import FeedbackItem
from tests.unit.test_inbox_queries import add

UTC = dt.UTC
# 10:00 in Vietnam on Wednesday 4 March 2026.
MARCH_4 = dt.datetime(2026, 3, 4, 3, 0, tzinfo=UTC)


def test_periods_are_monday_weeks_and_calendar_months() -> None:
    assert period_bounds("week", dt.date(2026, 3, 4)) == (dt.date(2026, 3, 2), dt.date(2026, 3, 9))
    assert period_bounds("week", dt.date(2026, 3, 8)) == (dt.date(2026, 3, 2), dt.date(2026, 3, 9))
    assert period_bounds("month", dt.date(2026, 12, 31)) == (
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
    )
    assert period_bounds("month", dt.date(2026, 2, 10)) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
    )
    with pytest.raises(ValueError, match="week or month"):
        period_bounds("year", dt.date(2026, 1, 1))


def test_percentile_and_duration_text() -> None:
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == pytest.approx(9.1)
    assert percentile([4], 0.9) == 4
    assert hours_text(None) == "—" and hours_text(5.25) == "5,2 giờ"
    assert hours_text(72) == "3,0 ngày"


def answered_after(session: Session, item_id: int, hours: float) -> None:
    """Move an item to "answered" ``hours`` after it was sent."""
    item = session.get(FeedbackItem, item_id)
    assert item is not None
    change_status(session, item, "in_progress", actor="xuly")
    event = change_status(session, item, "answered", actor="xuly")
    event.at = item.created_at + dt.timedelta(hours=hours)
    session.flush()


def test_report_counts_and_answer_times(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as s:
        # In March (Vietnam time), the first one at 00:30 on 1 March in Vietnam.
        first = add(s, kind="misconduct", at=dt.datetime(2026, 2, 28, 17, 30, tzinfo=UTC))
        second = add(s, kind="misconduct", facility=None, urgent=True, at=MARCH_4)
        third = add(s, kind="question", facility="Trại giam Thủ Đức", at=MARCH_4)
        # Not in March: 23:59 on 28 February in Vietnam.
        add(s, kind="suggestion", at=dt.datetime(2026, 2, 28, 16, 59, tzinfo=UTC))
        answered_after(s, first.id, 2)
        answered_after(s, second.id, 10)
        change_status(s, third, "rejected", actor="xuly", note="Không thuộc thẩm quyền.")
    now = dt.datetime(2026, 3, 20, tzinfo=UTC)
    with session_maker() as s:
        report = build_report(s, period="month", day=dt.date(2026, 3, 15), now=now, old_days=7)
    assert (report.start, report.end, report.total, report.urgent) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 4, 1),
        3,
        1,
    )
    kinds = dict(report.by_kind)
    assert kinds["Phản ánh sai phạm, đòi hoặc nhận tiền"] == 2 and kinds["Góp ý"] == 0
    statuses = dict(report.by_status)
    assert statuses["Đã trả lời"] == 2 and statuses["Không xem xét (có nêu lý do)"] == 1
    assert report.by_facility == [
        (NO_FACILITY, 1),
        ("Trại giam Thủ Đức", 1),
        ("Trại giam Xuân Lộc", 1),
    ]
    assert report.answered == 2
    assert report.median_hours == pytest.approx(6)
    assert report.p90_hours == pytest.approx(9.2)
    # Open and older than 7 days on 20 March, whatever the period: the answered two and the
    # February suggestion (the rejected one is finished).
    assert report.old_open == 3
    assert [o.days for o in report.old_items] == [19, 19, 15]
    assert "01/03/2026 – 31/03/2026" in report.title


def test_week_report_and_empty_period(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as s:
        add(s, at=MARCH_4)
    with session_maker() as s:
        week = build_report(s, period="week", day=dt.date(2026, 3, 8), now=MARCH_4, old_days=7)
        empty = build_report(s, period="week", day=dt.date(2026, 3, 9), now=MARCH_4, old_days=7)
    assert (week.start, week.total) == (dt.date(2026, 3, 2), 1)
    assert (empty.total, empty.median_hours, empty.old_open) == (0, None, 0)


def test_report_workbook_has_the_figures(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as s:
        item = add(s, at=MARCH_4)
        answered_after(s, item.id, 3)
        ref = reference(add(s, at=MARCH_4 - dt.timedelta(days=30)))
    with session_maker() as s:
        report = build_report(s, period="month", day=dt.date(2026, 3, 1), now=MARCH_4, old_days=7)
    book = load_workbook(io.BytesIO(report_xlsx(report)))
    summary = {row[0]: row[1] for row in book["tong-hop"].iter_rows(values_only=True) if row}
    assert summary["Tổng số ý kiến nhận trong kỳ"] == 1
    assert summary["Trung vị"] == 3
    old = list(book["qua-han"].iter_rows(values_only=True))
    assert len(old) == 2 and old[1][2] == 30 and old[1][0] == ref


def test_bars_scale_to_the_largest() -> None:
    drawn = bars([("a", 10), ("b", 5), ("c", 0)])
    assert [b.width for b in drawn] == [360, 180, 0]
    assert [b.y for b in drawn] == [0, 28, 56]
    assert bars([]) == [] and bars([("x", 0)])[0].width == 0


def test_exports_never_hold_formulas(session_maker: sessionmaker[Session]) -> None:
    with session_maker.begin() as s:
        item = add(
            s,
            content='=HYPERLINK("http://evil.example","bấm")',
            facility="+cmd|' /C calc'!A0",
            name="@SUM(1+1)",
            phone="-2+3",
        )
        item.content += "\x01\x1f"  # control characters Excel refuses
        rows = [to_row(item, masked=False)]
    sheet = load_workbook(io.BytesIO(export_xlsx(rows))).active
    assert sheet is not None
    cells = {c.value: c.data_type for c in sheet[2] if isinstance(c.value, str)}
    content = next(v for v in cells if v.startswith("=HYPERLINK"))
    assert cells[content] == "s" and "\x01" not in content
    assert all(kind == "s" for kind in cells.values())
    assert sheet["A1"].value == "Mã tra cứu"
    text = export_csv(rows).decode("utf-8")
    assert text.startswith("\ufeff")
    [header, line] = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert header[0] == "Mã tra cứu"
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in line)
    assert "'=HYPERLINK" in line[header.index("Nội dung")]
