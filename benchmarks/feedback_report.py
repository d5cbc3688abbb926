"""Generating the periodic feedback report for 10,000 items on SQLite and PostgreSQL.

``python -m benchmarks.feedback_report`` fills a temporary SQLite file and a private schema of
the PostgreSQL at AMNESTY_TEST_POSTGRES_URL (dropped afterwards) with one month of items and
their status history, then times the report (queries), its Excel file and its printable
page with the charts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.feedback import postgres_schema
from bot.staff.auth import TEMPLATES
from knowledge.db import create_schema, make_engine
from knowledge.feedback.items import KINDS
from knowledge.feedback.report import PERIODS, Report, bars, build_report, hours_text, report_xlsx
from knowledge.models import FeedbackEvent, FeedbackItem

UTC = dt.UTC
# Items are sent through March 2026 (Vietnam time); the report is made on 5 April.
MONTH_START = dt.datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
NOW = dt.datetime(2026, 4, 5, 3, 0, tzinfo=UTC)
FACILITIES = [f"Trại giam số {n}" for n in range(1, 41)] + [None]
CONTENT = "Gia đình tôi đề nghị xem xét lại danh sách đặc xá vì chồng tôi đủ điều kiện. " * 4


@dataclass(frozen=True)
class Figures:
    """What one run measured (seconds are the median of the repeats)."""

    database: str
    items: int
    fill_seconds: float
    report_seconds: float
    report_max_seconds: float
    xlsx_seconds: float
    html_seconds: float
    answered: int
    old_open: int

    def line(self) -> str:
        return (
            f"{self.database:<11} {self.items} items (filled in {self.fill_seconds:.1f} s): "
            f"report {self.report_seconds * 1000:.0f} ms (max {self.report_max_seconds * 1000:.0f} "
            f"ms), Excel file {self.xlsx_seconds * 1000:.0f} ms, printable page "
            f"{self.html_seconds * 1000:.0f} ms; {self.answered} answered, "
            f"{self.old_open} open > 7 days"
        )


def fill(sessions: sessionmaker[Session], items: int, seed: int = 7) -> None:
    """Insert ``items`` items over one month, with the status history a reviewer leaves."""
    rng = random.Random(seed)
    item_rows, event_rows = [], []
    for n in range(1, items + 1):
        created = MONTH_START + dt.timedelta(seconds=rng.uniform(0, 31 * 86400 - 1))
        path = rng.choices(
            ["new", "in_progress", "answered", "closed", "rejected"], [2, 2, 3, 3, 1]
        )[0]
        item_rows.append(
            {
                "id": n,
                "kind": rng.choice(KINDS),
                "content": CONTENT,
                "facility": rng.choice(FACILITIES),
                "channel": rng.choice(["zalo", "telegram", "web"]),
                "sender_id": f"bench:{n}",
                "delivery_key": f"bench-{n}",
                "urgent": rng.random() < 0.03,
                "status": path,
                "excerpt": [],
                "created_at": created,
                "updated_at": created,
            }
        )
        at = created
        event_rows.append(
            {"item_id": n, "at": at, "actor": "family", "kind": "status", "to_status": "new"}
        )
        steps = {
            "new": [],
            "in_progress": ["in_progress"],
            "answered": ["in_progress", "answered"],
            "closed": ["in_progress", "answered", "closed"],
            "rejected": ["rejected"],
        }[path]
        previous = "new"
        for step in steps:
            at = at + dt.timedelta(hours=rng.expovariate(1 / 30))
            event_rows.append(
                {
                    "item_id": n,
                    "at": at,
                    "actor": "xuly",
                    "kind": "status",
                    "from_status": previous,
                    "to_status": step,
                    "note": "Lý do." if step == "rejected" else None,
                }
            )
            previous = step
    with sessions.begin() as session:
        for start in range(0, len(item_rows), 2000):
            session.execute(insert(FeedbackItem), item_rows[start : start + 2000])
        for start in range(0, len(event_rows), 5000):
            session.execute(insert(FeedbackEvent), event_rows[start : start + 5000])


def render_page(report: Report) -> str:
    """The printable page as the staff app renders it (charts included)."""
    charts = [
        (title, bars(pairs))
        for title, pairs in (
            ("Theo loại", report.by_kind),
            ("Theo trạng thái", report.by_status),
            ("Theo cơ sở", report.by_facility),
        )
    ]
    return TEMPLATES.get_template("staff/feedback_report.html").render(
        report=report,
        periods=PERIODS,
        charts=charts,
        median=hours_text(report.median_hours),
        p90=hours_text(report.p90_hours),
        prefix="/staff",
        user=None,
    )


def measure(url: str, name: str, items: int = 10_000, repeats: int = 5) -> Figures:
    """Fill the database at ``url`` and time the March report ``repeats`` times."""
    engine = make_engine(url)
    try:
        create_schema(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        started = time.perf_counter()
        fill(sessions, items)
        filled = time.perf_counter() - started
        report_times, xlsx_times, html_times = [], [], []
        for _ in range(repeats):
            with sessions() as session:
                started = time.perf_counter()
                report = build_report(
                    session, period="month", day=dt.date(2026, 3, 15), now=NOW, old_days=7
                )
                report_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            report_xlsx(report)
            xlsx_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            page = render_page(report)
            html_times.append(time.perf_counter() - started)
            assert page.count("<svg") == 3
        assert report.total == items, f"the report counted {report.total} of {items} items"
    finally:
        engine.dispose()
    return Figures(
        name,
        items,
        filled,
        statistics.median(report_times),
        max(report_times),
        statistics.median(xlsx_times),
        statistics.median(html_times),
        report.answered,
        report.old_open,
    )


def run(items: int = 10_000) -> list[Figures]:
    """Both databases, one after the other."""
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        figures.append(measure(f"sqlite:///{Path(folder) / 'report.db'}", "SQLite", items))
    with postgres_schema() as url:
        figures.append(measure(url, "PostgreSQL", items))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args(argv)
    for figures in run(args.items):
        print(figures.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
