"""Retraining runs: one at a time, what each measured, and the model each deployed.

The caller owns the session and commits; the training itself is ``bot/ops/retraining.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.clock import as_utc, utc_now
from knowledge.models import StaffTrainingExample, TrainingRun
from knowledge.staff import audit

# A run still "running" after this long was cut off (the gateway stopped): it no longer blocks.
ABANDONED_AFTER = dt.timedelta(hours=3)
STATUS_LABELS = {
    "running": "Đang huấn luyện và kiểm tra",
    "deployed": "Đạt, đã đưa vào sử dụng",
    "rejected": "Không đạt, vẫn dùng mô hình cũ",
    "failed": "Lỗi, vẫn dùng mô hình cũ",
}


class TrainingBusy(RuntimeError):
    """Another retraining is running; wait for it to finish."""


def running_run(session: Session) -> TrainingRun | None:
    return session.scalars(select(TrainingRun).where(TrainingRun.status == "running")).first()


def close_abandoned(session: Session, now: dt.datetime | None = None) -> int:
    """Mark runs cut off by a stopped gateway as failed; returns how many."""
    now = now or utc_now()
    running = session.scalars(select(TrainingRun).where(TrainingRun.status == "running"))
    stale = [r for r in running if as_utc(r.requested_at) < now - ABANDONED_AFTER]
    for run in stale:
        run.status = "failed"
        run.finished_at = now
        run.message = "Bị gián đoạn (máy chủ dừng giữa chừng); mô hình cũ vẫn được dùng."
    session.flush()
    return len(stale)


def start_run(session: Session, actor: str, base_fingerprint: str) -> TrainingRun:
    """Record a new run as running; TrainingBusy if one is already running.

    A partial unique index keeps this true when two gateway replicas start at once, so the
    session is committed here (the caller's earlier changes with it).
    """
    close_abandoned(session)
    if running_run(session) is not None:
        raise TrainingBusy("Đang có một lần huấn luyện chạy; hãy đợi lần đó xong.")
    examples = session.scalar(select(func.count()).select_from(StaffTrainingExample)) or 0
    run = TrainingRun(
        requested_by=actor, base_fingerprint=base_fingerprint, staff_examples=examples
    )
    session.add(run)
    audit(session, actor, "training_started", "", {"base": base_fingerprint})
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise TrainingBusy("Đang có một lần huấn luyện chạy; hãy đợi lần đó xong.") from None
    return run


def finish_run(
    session: Session,
    run_id: int,
    status: str,
    *,
    message: str,
    accuracy: dict[str, float] | None = None,
    floors: dict[str, float] | None = None,
    model_path: str | None = None,
    staff_examples: int | None = None,
) -> None:
    """Store a run's outcome (deployed, rejected or failed) and audit it."""
    if status not in STATUS_LABELS or status == "running":
        raise ValueError(f"not a final status: {status!r}")
    values: dict[str, Any] = {
        "status": status,
        "finished_at": utc_now(),
        "message": message,
        "accuracy": accuracy,
        "floors": floors,
        "model_path": model_path,
    }
    if staff_examples is not None:
        values["staff_examples"] = staff_examples
    session.execute(update(TrainingRun).where(TrainingRun.id == run_id).values(**values))
    detail = {"status": status, "accuracy": accuracy or {}, "model": model_path or ""}
    audit(session, None, "training_finished", str(run_id), detail)


def recent_runs(session: Session, limit: int = 20) -> list[TrainingRun]:
    stmt = select(TrainingRun).order_by(TrainingRun.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def deployed_model(session: Session, base_fingerprint: str) -> str | None:
    """The model the last deployed run made from these training inputs, if any."""
    stmt = (
        select(TrainingRun.model_path)
        .where(TrainingRun.status == "deployed", TrainingRun.base_fingerprint == base_fingerprint)
        .order_by(TrainingRun.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)
