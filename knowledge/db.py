"""Engines and sessions for any SQLAlchemy URL (SQLite file by default, PostgreSQL...).

Every engine is made with ``hide_parameters=True``: a database error then names the statement
but not the values bound to it, which are families' words, phone numbers and sender ids, so
logging an error never logs personal data. A SQLite database file is private (0600, its
folder 0700; SQLite gives its WAL files the database's mode).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, CursorResult, Result, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from knowledge.local.files import private_file

# Errors meaning "the database cannot be written now" (down, locked, unreachable, every
# pooled connection busy).
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
# Any database error: what must be kept (spooled, queued) rather than lost.
DATABASE_ERRORS = (*UNAVAILABLE, DBAPIError)


def quiet_engine(url: str | URL, **kwargs: Any) -> Engine:
    """``create_engine`` whose errors never carry the bound values (personal data)."""
    return create_engine(url, hide_parameters=True, **kwargs)


def private_sqlite(url: str | URL) -> None:
    """Create the file of a SQLite URL private (0600), or make an existing one so."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    database = Path(parsed.database or "")
    private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        sibling = database.with_name(database.name + suffix)
        if sibling.exists():
            private_file(sibling)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite, creates the (private) file and turns on WAL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        private_sqlite(parsed)
        engine = quiet_engine(url, connect_args={"timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(
            dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry
        ) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # A host that does not answer must fail fast, so feedback is spooled, not left waiting.
    connect_args = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
    return quiet_engine(url, pool_pre_ping=True, connect_args=connect_args)


def rows_matched(result: Result[Any]) -> int:
    """How many rows a DELETE or UPDATE run by ``Session.execute`` matched (its ``rowcount``).
    SQLAlchemy 2.0 types that call's result as a ``Result``; for such a statement it is a
    ``CursorResult``, the class that has ``rowcount``."""
    return cast(CursorResult[Any], result).rowcount or 0


def create_schema(engine: Engine) -> None:
    """Bring the database to the newest migration (knowledge/migrations), whatever it holds:
    nothing, tables made by create_all before migrations, or an older revision.

    Only at process start, in setup and in command-line entry points: never while serving.
    """
    from knowledge.migrations import upgrade  # Alembic is only imported by what migrates

    upgrade(engine)


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """One engine per database URL for the life of the process."""
    return make_engine(url)


def session_factory(url: str) -> sessionmaker[Session]:
    """Sessions on the process's engine for ``url``."""
    return sessionmaker(engine_for(url), expire_on_commit=False)
