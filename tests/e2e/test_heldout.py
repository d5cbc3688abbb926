"""The held-out set (written blind) through the served model: a floor for every split."""

from __future__ import annotations

import asyncio

import pytest

from bot.ops.heldout import FLOORS, evaluate, load
from tests.e2e.conftest import Assistant


@pytest.fixture(scope="module")
def report(assistant: Assistant):  # type: ignore[no-untyped-def]
    return asyncio.run(evaluate(assistant.settings.rasa_url, assistant.token, load()))


@pytest.mark.parametrize("split", sorted(FLOORS))
def test_split_reaches_its_floor(report, split: str) -> None:  # type: ignore[no-untyped-def]
    accuracy = report.accuracy()[split]
    assert accuracy >= FLOORS[split], f"{split}: {accuracy:.1%} < {FLOORS[split]:.0%}"


def test_few_neighbouring_questions_are_taken_for_amnesty(report) -> None:  # type: ignore[no-untyped-def]
    assert len(report.leaks()) <= 3, report.markdown()
