from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from knowledge.db import create_schema, make_engine
from knowledge.kb.loader import read_entries, read_laws, read_rounds, sync
from settings import get_settings
from tests.databases import database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def session_maker(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    create_schema(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def loaded(session_maker: sessionmaker[Session]) -> sessionmaker[Session]:
    """A database with the project's whole knowledge base loaded."""
    with session_maker.begin() as session:
        sync(session, read_entries(), read_rounds(), read_laws())
    return session_maker


@pytest.fixture
def app_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Fresh settings for a test: environment variables set with monkeypatch take effect."""
    monkeypatch.setenv("AMNESTY_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
