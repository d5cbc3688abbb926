"""Saving feedback under concurrent families: nothing lost, no duplicate, time per save.

``python -m benchmarks.feedback`` measures SQLite (a temporary file, WAL) and the PostgreSQL at
AMNESTY_TEST_POSTGRES_URL (a private schema, dropped afterwards), plus saving while the
database is down (into the spool) and draining the spool afterwards, and prints the figures.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import sessionmaker

from knowledge.db import create_schema, make_engine
from knowledge.feedback.items import FeedbackDraft
from knowledge.feedback.spool import Spool, save
from knowledge.models import FeedbackItem

POSTGRES_URL = os.environ.get(
    "AMNESTY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
COMPLAINT = (
    "Chồng tôi đã chấp hành được hơn hai phần ba thời hạn, cải tạo tốt, đã nộp đủ án phí, "
    "nhưng danh sách niêm yết ở trại không có tên. Đề nghị xem xét lại. "
)


@dataclass(frozen=True)
class Figures:
    """What one run measured."""

    database: str
    families: int
    sent: int
    stored: int
    duplicates: int
    spooled: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    seconds: float

    def line(self) -> str:
        lost = self.sent - self.stored
        return (
            f"{self.database:<22} {self.families} families, {self.sent} messages "
            f"(+{self.duplicates} redeliveries): stored {self.stored}, lost {lost}, "
            f"spooled {self.spooled}; per save p50 {self.p50_ms:.1f} ms, "
            f"p95 {self.p95_ms:.1f} ms, max {self.max_ms:.1f} ms; "
            f"{(self.sent + self.duplicates) / self.seconds:.0f} saves/s"
        )


def _drafts(tag: str, family: int, count: int) -> list[FeedbackDraft]:
    return [
        FeedbackDraft(
            kind="process_complaint",
            content=f"{COMPLAINT} (gia đình {family}, lần {n})",
            channel="rest",
            sender_id=f"{tag}:{family}",
            delivery_key=f"{tag}:{family}:{n}",
            excerpt=({"role": "user", "text": "tôi muốn khiếu nại"},),
        )
        for n in range(count)
    ]


def measure_saving(
    label: str,
    save_url: str,
    store_url: str,
    spool_dir: Path,
    *,
    families: int = 16,
    per_family: int = 25,
) -> Figures:
    """Each of ``families`` threads saves ``per_family`` complaints (every fifth twice).

    ``save_url`` is where the saves go (may be unreachable); ``store_url`` is where the
    spool is drained afterwards and the items are counted.
    """
    save_engine = make_engine(save_url)
    store_engine = make_engine(store_url)
    create_schema(store_engine)
    save_maker = sessionmaker(save_engine, expire_on_commit=False)
    store_maker = sessionmaker(store_engine, expire_on_commit=False)
    spool = Spool(spool_dir)
    tag = f"bench-{uuid.uuid4().hex[:8]}"
    batches = [_drafts(tag, f, per_family) for f in range(families)]
    timings: list[float] = []
    spooled = 0
    lock = threading.Lock()
    start = threading.Barrier(families)

    def family(batch: list[FeedbackDraft]) -> None:
        nonlocal spooled
        start.wait()
        for n, draft in enumerate(batch):
            for _ in range(2 if n % 5 == 0 else 1):
                began = time.perf_counter()
                saved = save(save_maker, spool, draft)
                elapsed = time.perf_counter() - began
                with lock:
                    timings.append(elapsed)
                    spooled += saved.spooled

    threads = [threading.Thread(target=family, args=(b,)) for b in batches]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    spool.drain(store_maker)
    with store_maker() as session:
        stored = session.scalar(
            select(func.count(func.distinct(FeedbackItem.delivery_key))).where(
                FeedbackItem.sender_id.like(f"{tag}:%")
            )
        )
        rows = session.scalar(select(func.count()).where(FeedbackItem.sender_id.like(f"{tag}:%")))
    save_engine.dispose()
    store_engine.dispose()
    sent = families * per_family
    assert rows == stored, f"{(rows or 0) - (stored or 0)} duplicate rows"
    ms = sorted(t * 1000 for t in timings)
    return Figures(
        database=label,
        families=families,
        sent=sent,
        stored=stored or 0,
        duplicates=len(ms) - sent,
        spooled=spooled,
        p50_ms=statistics.median(ms),
        p95_ms=ms[int(0.95 * (len(ms) - 1))],
        max_ms=ms[-1],
        seconds=seconds,
    )


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A scratch schema on the project's PostgreSQL, dropped afterwards."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"


def run(families: int = 16, per_family: int = 25) -> list[Figures]:
    """Measure every case and print one line per case."""
    # One warning per spooled save would drown the figures.
    logging.getLogger("knowledge.feedback.spool").setLevel(logging.ERROR)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sqlite_url = f"sqlite:///{folder / 'feedback.db'}"
        cases = [("SQLite", sqlite_url, sqlite_url, folder / "spool-sqlite")]
        with postgres_schema() as pg_url:
            cases.append(("PostgreSQL", pg_url, pg_url, folder / "spool-pg"))
            cases.append(("database down → spool", _closed_port_url(), pg_url, folder / "spool"))
            for label, save_url, store_url, spool_dir in cases:
                figures = measure_saving(
                    label, save_url, store_url, spool_dir, families=families, per_family=per_family
                )
                print(figures.line(), flush=True)
                results.append(figures)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.feedback")
    parser.add_argument("--families", type=int, default=16)
    parser.add_argument("--per-family", type=int, default=25)
    args = parser.parse_args(argv)
    run(args.families, args.per_family)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
