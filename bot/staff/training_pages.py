"""The retraining page: start a run in the background, follow it, see per-split accuracy."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from bot.ops.heldout import FLOORS
from bot.ops.retraining import retrain, served_models
from bot.ops.training import fingerprint
from bot.staff.auth import PREFIX, StaffApp, Visit, render, staff_route
from knowledge.models import StaffTrainingExample
from knowledge.training_runs import (
    STATUS_LABELS,
    TrainingBusy,
    close_abandoned,
    recent_runs,
    running_run,
    start_run,
)

logger = logging.getLogger(__name__)
TRAINERS = ("editor", "admin")
SPLIT_LABELS = {
    "with_diacritics": "Có dấu",
    "without_diacritics": "Không dấu",
    "teencode": "Viết tắt, teencode",
    "long_stories": "Tin nhắn dài",
    "neighbouring": "Việc gần với đặc xá",
    "out_of_scope": "Ngoài phạm vi",
}


class Retrainer:
    """Keeps the background runs of this gateway process alive until they end."""

    def __init__(self, app: StaffApp) -> None:
        self.app = app
        self.tasks: set[asyncio.Task[object]] = set()

    def start(self, run_id: int) -> None:
        task = asyncio.create_task(retrain(self.app.settings, self.app.sessions, run_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def training_routes(app: StaffApp) -> list[BaseRoute]:
    """The retraining page, for editors (who add training examples) and admins."""
    trainer = Retrainer(app)

    async def page(request: Request, visit: Visit) -> Response:
        if close_abandoned(visit.db):
            visit.db.commit()
        examples = visit.db.scalar(select(func.count()).select_from(StaffTrainingExample))
        context = {
            "runs": recent_runs(visit.db),
            "running": running_run(visit.db),
            "examples": examples or 0,
            "served": await served_models(app.settings),
            "floors": FLOORS,
            "splits": SPLIT_LABELS,
            "statuses": STATUS_LABELS,
            "error": request.query_params.get("error") == "busy",
            "started": request.query_params.get("started") == "1",
        }
        return render(request, visit, "training.html", context)

    async def start(request: Request, visit: Visit) -> Response:
        try:
            run = start_run(visit.db, visit.username or "", fingerprint())
        except TrainingBusy:
            return RedirectResponse(f"{PREFIX}/training?error=busy", status_code=303)
        trainer.start(run.id)
        return RedirectResponse(f"{PREFIX}/training?started=1", status_code=303)

    return [
        staff_route(app, "/training", page, roles=TRAINERS),
        staff_route(app, "/training", start, roles=TRAINERS, methods=["POST"]),
    ]
