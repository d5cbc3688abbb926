"""Engines and sessions for any SQLAlchemy URL (SQLite file by default, PostgreSQL...)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, creates the folder and turns on WAL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # A host that does not answer must fail fast, so feedback is spooled, not left waiting.
    connect_args = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def create_schema(engine: Engine) -> None:
    """Bring the database to the newest migration (knowledge/migrations), whatever it holds:
    nothing, tables made by create_all before migrations, or an older revision."""
    from knowledge.migrations import upgrade  # Alembic is only imported by what migrates

    upgrade(engine)


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """One engine per database URL for the life of the process."""
    return make_engine(url)


def session_factory(url: str) -> sessionmaker[Session]:
    """Sessions on the process's engine for ``url``."""
    return sessionmaker(engine_for(url), expire_on_commit=False)
