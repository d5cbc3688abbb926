"""Retraining from the staff app, in real headless Chromium, against the running assistant.

An editor presses the button; the gateway trains a real model in the background, checks it on
the held-out set with a scratch Rasa server, and loads it into the running Rasa server, which
then answers with it. The page shows the outcome and the accuracy of every split.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bot.ops.heldout import FLOORS
from bot.ops.training import model_file
from knowledge.db import session_factory
from knowledge.models import TrainingRun
from knowledge.staff import create_user
from tests.e2e.conftest import Assistant, joined

PASSWORD = "mật-khẩu-thử-nghiệm-3"
RUN_TIMEOUT = 20 * 60  # seconds: training from scratch takes 4-6 minutes on 2 busy cores

pytestmark = pytest.mark.e2e


def served(assistant: Assistant) -> str:
    status = httpx.get(
        f"{assistant.settings.rasa_url}/status", params={"token": assistant.token}, timeout=10
    )
    status.raise_for_status()
    return str(status.json()["model_file"])


@pytest.fixture(scope="module")
def staff_url(assistant: Assistant) -> Iterator[str]:
    with session_factory(assistant.settings.database_url).begin() as db:
        create_user(db, "huanluyen", PASSWORD, "editor")
    yield f"http://{assistant.settings.host}:{assistant.settings.web_port}/staff"
    # Later tests meet the repository's model again.
    httpx.put(
        f"{assistant.settings.rasa_url}/model",
        params={"token": assistant.token},
        json={"model_file": str(model_file())},
        timeout=300,
    ).raise_for_status()


def finished_run(assistant: Assistant) -> TrainingRun:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        with session_factory(assistant.settings.database_url)() as db:
            run = db.scalars(select(TrainingRun).order_by(TrainingRun.id.desc())).first()
        if run is not None and run.status != "running":
            return run
        time.sleep(5)
    pytest.fail(f"the retraining did not finish within {RUN_TIMEOUT} s")


def test_retrain_check_and_swap_from_the_staff_page(
    page: Page, assistant: Assistant, staff_url: str
) -> None:
    before = served(assistant)
    page.goto(f"{staff_url}/login?next=/staff/training")
    page.fill("#username", "huanluyen")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".served")).to_contain_text(Path(before).name)
    page.click("#retrain")
    expect(page.locator("#running")).to_be_visible()
    # A second press is not possible while it runs.
    expect(page.locator("#retrain")).to_have_count(0)

    run = finished_run(assistant)
    assert run.status == "deployed", run.message
    assert run.accuracy is not None and set(run.accuracy) == set(FLOORS)
    assert all(run.accuracy[s] >= FLOORS[s] for s in FLOORS)
    assert run.model_path and Path(run.model_path).is_file()
    assert Path(served(assistant)).name == Path(run.model_path).name != Path(before).name

    page.goto(f"{staff_url}/training")
    row = page.locator("tr.run[data-status=deployed]").first
    expect(row).to_contain_text("Đạt, đã đưa vào sử dụng")
    expect(row.locator("tr.split")).to_have_count(len(FLOORS))
    expect(row.locator("tr.split.under")).to_have_count(0)
    expect(page.locator(".served")).to_contain_text(Path(run.model_path).name)

    # The running assistant answers with the new model, conversations go on as before.
    reply = joined(assistant.send("điều kiện để được đặc xá năm nay là gì"))
    assert "đặc xá" in reply.lower() and "chưa hiểu" not in reply.lower()
