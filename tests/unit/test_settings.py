"""Configuration and the files the launcher writes for Rasa."""

from __future__ import annotations

import pytest

from bot.ops.stack import tracker_store_config
from settings import DEFAULT_CONTACT, from_env


def test_defaults_are_embedded_and_local() -> None:
    s = from_env({"AMNESTY_VAR_DIR": "/tmp/x"})
    assert s.database_url == "sqlite:////tmp/x/amnesty.db"
    assert s.tracker_url == "sqlite:////tmp/x/tracker.db"
    assert s.host == "127.0.0.1" and s.rasa_token is None
    assert s.contact == DEFAULT_CONTACT and not any(ch.isdigit() for ch in DEFAULT_CONTACT)


def test_bad_port_says_what_to_fix() -> None:
    with pytest.raises(SystemExit, match="AMNESTY_RASA_PORT must be a whole number"):
        from_env({"AMNESTY_RASA_PORT": "abc"})


def test_tracker_store_follows_the_url() -> None:
    assert tracker_store_config("sqlite:////tmp/t.db") == {
        "type": "SQL",
        "dialect": "sqlite",
        "db": "/tmp/t.db",
    }
    pg = tracker_store_config("postgresql+psycopg://bot:pw@db.local:5433/rasa")
    assert pg == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.local",
        "port": 5433,
        "db": "rasa",
        "username": "bot",
        "password": "pw",
    }
    with pytest.raises(SystemExit, match="sqlite:/// or postgresql://"):
        tracker_store_config("mysql://x@y/z")


def test_province_completes_the_department_name() -> None:
    assert from_env({"AMNESTY_PROVINCE": "Quảng Ngãi"}).department.endswith(
        "Công an tỉnh Quảng Ngãi"
    )
    assert from_env({"AMNESTY_DEPARTMENT": "Phòng PC10"}).department == "Phòng PC10"
