"""The gateway applies the retention setting by itself, at start and then daily."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.orm import sessionmaker
from starlette.testclient import TestClient

from bot.gateway import create_app
from knowledge.db import create_schema, make_engine
from knowledge.models import FeedbackItem
from settings import from_env
from tests.fakes.gateway import TEST_REST_SECRET
from tests.unit.test_privacy import finished_item


def test_contact_of_long_closed_items_is_cleared_when_the_gateway_starts(tmp_path: Path) -> None:
    env = {"AMNESTY_VAR_DIR": str(tmp_path), "AMNESTY_RETENTION_DAYS": "365"}
    settings = from_env({**env, "AMNESTY_REST_SECRET": TEST_REST_SECRET})
    engine = make_engine(settings.database_url)
    create_schema(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as session:
        old = finished_item(session, "closed", 400).id
        recent = finished_item(session, "closed", 10).id
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with sessions() as session:
                if session.get_one(FeedbackItem, old).contact_phone is None:
                    break
            time.sleep(0.1)
    with sessions() as session:
        assert session.get_one(FeedbackItem, old).contact_phone is None
        assert session.get_one(FeedbackItem, recent).contact_phone == "0912345678"
    engine.dispose()
