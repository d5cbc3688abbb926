"""The real gateway app (bot/web.py) on loopback, configured for a test."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.web import create_app
from knowledge.db import create_schema, make_engine
from knowledge.models import Base, ChannelDelivery, KeptMessage, UndeliveredReply
from settings import Settings, from_env
from tests.fakes.server import ServerThread, free_port


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
    }
    return from_env({**base, **env})


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
