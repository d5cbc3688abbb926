"""Liveness and readiness over real HTTP: the gateway stays alive while Rasa is down (it keeps
messages then), and /ready names each part that does not answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.gateway import create_app
from knowledge.db import engine_for
from tests.fakes.gateway import gateway_settings
from tests.fakes.rasa import FakeRasa
from tests.fakes.server import ServerThread


async def healthy(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa()
    with ServerThread(fake.app) as server:
        fake.port = server.port
        yield fake


@pytest.fixture
def actions_port() -> Iterator[int]:
    with ServerThread(Starlette(routes=[Route("/health", healthy)])) as server:
        yield server.port


def test_alive_but_not_ready_while_rasa_and_the_action_server_are_down(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, f"sqlite:///{tmp_path / 'kb.db'}")
    with ServerThread(create_app(settings)) as server:
        assert httpx.get(f"{server.url}/health").status_code == 200
        ready = httpx.get(f"{server.url}/ready", timeout=30)
    assert ready.status_code == 503
    assert ready.json() == {
        "ready": False,
        "parts": {"rasa": "down", "action_server": "down", "database": "ok"},
    }


def test_ready_when_every_part_answers(tmp_path: Path, rasa: FakeRasa, actions_port: int) -> None:
    settings = gateway_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'kb.db'}",
        AMNESTY_RASA_PORT=str(rasa.port),
        AMNESTY_ACTIONS_PORT=str(actions_port),
    )
    with ServerThread(create_app(settings)) as server:
        ready = httpx.get(f"{server.url}/ready", timeout=30)
        rasa.down = True
        rasa_down = httpx.get(f"{server.url}/ready", timeout=30)
        assert httpx.get(f"{server.url}/health").status_code == 200
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert rasa_down.status_code == 503 and rasa_down.json()["parts"]["rasa"] == "down"
    assert rasa_down.json()["parts"]["action_server"] == "ok"


def test_not_ready_while_the_database_is_down(
    tmp_path: Path, rasa: FakeRasa, actions_port: int
) -> None:
    settings = gateway_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'kb.db'}",
        AMNESTY_RASA_PORT=str(rasa.port),
        AMNESTY_ACTIONS_PORT=str(actions_port),
    )
    with ServerThread(create_app(settings)) as server:
        (tmp_path / "kb.db").unlink()
        (tmp_path / "kb.db").mkdir()  # the file is gone and cannot be made again
        engine_for(settings.database_url).dispose()
        ready = httpx.get(f"{server.url}/ready", timeout=30)
    assert ready.status_code == 503 and ready.json()["parts"]["database"] == "down"
