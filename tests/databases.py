"""Per-test databases: a SQLite file, and a private schema on the project's PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

POSTGRES_URL = os.environ.get(
    "AMNESTY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def _created(create: str, drop: str) -> Iterator[None]:
    """Run ``create`` on the PostgreSQL server, then ``drop`` at the end; skips without one."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(create))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({exc.__class__.__name__})")
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(drop))
        admin.dispose()


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards; skips without a server."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    with _created(f'CREATE SCHEMA "{schema}"', f'DROP SCHEMA "{schema}" CASCADE'):
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


@contextmanager
def postgres_database_url(prefix: str) -> Iterator[str]:
    """The URL of a new database ``<prefix>_<random>``, dropped afterwards; skips without a
    server. For what needs a whole database (Rasa's tracker tables, pg_dump, DROP DATABASE)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    with _created(f'CREATE DATABASE "{name}"', drop):
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'kb.db'}"
    else:
        with postgres_schema_url() as url:
            yield url
