"""The real gateway app (bot/gateway.py) on loopback, configured for a test."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.gateway import create_app
from bot.ops.stack import free_port
from knowledge import channels as state
from knowledge.db import create_schema, make_engine
from knowledge.models import Base, ChannelDelivery, KeptMessage, UndeliveredReply
from settings import Settings, from_env, secret
from tests.fakes.server import ServerThread

TEST_REST_SECRET = "rest-secret-of-the-unit-tests"


def gateway_settings(tmp_path: Path, db_url: str, **env: str) -> Settings:
    """Settings for a gateway whose Rasa port has nothing listening unless ``env`` says so."""
    base = {
        "AMNESTY_VAR_DIR": str(tmp_path / "var"),
        "AMNESTY_DATABASE_URL": db_url,
        "AMNESTY_TRACKER_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "AMNESTY_RASA_PORT": str(free_port()),
        "AMNESTY_WEB_PORT": str(free_port()),
        "AMNESTY_RESEND_INTERVAL": "3600",
        "AMNESTY_CHANNEL_RASA_TIMEOUT": "5",
        "AMNESTY_REST_SECRET": TEST_REST_SECRET,
    }
    return from_env({**base, **env})


def gateway_before(
    rasa: Settings, tmp_path: Path, channel_env: dict[str, str], rasa_port: int | None = None
) -> Settings:
    """Settings for a gateway in front of the test session's Rasa (or of ``rasa_port``, a
    proxy to it), with channel state in a database of this test only."""
    return from_env(
        {
            "AMNESTY_VAR_DIR": str(tmp_path / "var"),
            "AMNESTY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
            "AMNESTY_TRACKER_URL": rasa.tracker_url,
            "AMNESTY_RASA_PORT": str(rasa_port or rasa.rasa_port),
            "AMNESTY_WEB_PORT": str(free_port()),
            "AMNESTY_RESEND_INTERVAL": "1",
            "AMNESTY_REST_SECRET": secret(rasa, "rest_secret"),
            **channel_env,
        }
    )


def wait_until_none_kept(sessions: sessionmaker[Session], sender: str) -> bool:
    """The kept message is dropped just after its answer is delivered."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with sessions() as session:
            if state.count_kept(session, sender=sender) == 0:
                return True
        time.sleep(0.1)
    return False


def gateway(settings: Settings) -> ServerThread:
    """``with gateway(settings) as server:`` serves create_app(settings) on a free port."""
    engine = make_engine(settings.database_url)
    create_schema(engine)
    engine.dispose()
    return ServerThread(create_app(settings), port=settings.web_port)


def count(sessions: sessionmaker[Session], model: type[Base]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def channel_rows(sessions: sessionmaker[Session]) -> dict[str, int]:
    return {
        "deliveries": count(sessions, ChannelDelivery),
        "kept": count(sessions, KeptMessage),
        "undelivered": count(sessions, UndeliveredReply),
    }
