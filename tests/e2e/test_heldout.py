"""The held-out set (written blind) through the served model: a floor for every split."""

from __future__ import annotations

import asyncio

import pytest

from bot.ops.heldout import FLOORS, Report, evaluate, load
from tests.e2e.conftest import Assistant


@pytest.fixture(scope="module")
def report(assistant: Assistant) -> Report:
    return asyncio.run(evaluate(assistant.settings.rasa_url, assistant.token, load()))


@pytest.mark.parametrize("split", sorted(FLOORS))
def test_split_reaches_its_floor(report: Report, split: str) -> None:
    accuracy = report.accuracy()[split]
    assert accuracy >= FLOORS[split], f"{split}: {accuracy:.1%} < {FLOORS[split]:.0%}"


def test_few_neighbouring_questions_are_taken_for_amnesty(report: Report) -> None:
    assert len(report.leaks()) <= 3, report.markdown()
