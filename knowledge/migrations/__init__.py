"""Alembic migrations of our tables (not Rasa's): the configuration, and bringing a database to
the newest revision ("head").

Add a migration after changing ``knowledge/models.py`` (docs/operations.md):
``PYTHONPATH=. .venv-app/bin/alembic -c knowledge/alembic.ini revision --autogenerate -m "..."``
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from knowledge.models import Base

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
# The revision that describes the schema create_all made before migrations existed.
BASELINE = "0001"
# Any constant: serialises migrations started by several processes at once on PostgreSQL.
_PG_LOCK_KEY = 0x616D6E65


class MigrationError(RuntimeError):
    """The database cannot be brought to this code's schema (the message says why)."""


@dataclass(frozen=True)
class MigrationStatus:
    """Where a database is, against the newest revision this code knows."""

    current: str | None
    head: str

    @property
    def behind(self) -> bool:
        return self.current != self.head


def alembic_config(connection: Connection | None = None, scripts: Path = HERE) -> Config:
    """An Alembic configuration for our scripts; with ``connection``, migrations run on it."""
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=4)
def head_revision(scripts: Path = HERE) -> str:
    """The newest revision in knowledge/migrations/versions."""
    head = ScriptDirectory.from_config(alembic_config(scripts=scripts)).get_current_head()
    if head is None:
        raise MigrationError(f"{scripts / 'versions'} holds no revision")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None when it has never been migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def status(engine: Engine) -> MigrationStatus:
    """The database's revision and the newest one."""
    with engine.connect() as connection:
        return MigrationStatus(current_revision(connection), head_revision())


def upgrade(engine: Engine, scripts: Path = HERE) -> MigrationStatus:
    """Bring the database to head; returns the revision it was at (``current``) and head.

    - no table of ours: the whole schema is created and the database marked at head;
    - our tables made by create_all before migrations (no ``alembic_version``): the database
      is stamped at the baseline (creating the baseline tables it lacks), then upgraded;
    - already versioned: upgraded (nothing to do at head).
    All of it is one transaction, which other processes migrating at the same time wait for.
    """
    head = head_revision(scripts)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations copy a table and drop the old one; with foreign keys on, the
            # DROP would cascade (feedback_event rows deleted with feedback_item's old copy).
            # The pragma is ignored inside a transaction, so set it first.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                _lock(connection)
                before = current_revision(connection)
                if before != head:
                    _upgrade(connection, before, head, scripts)
                    if sqlite:
                        _check_foreign_keys(connection)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
    return MigrationStatus(before, head)


def _upgrade(connection: Connection, before: str | None, head: str, scripts: Path) -> None:
    _check_known(before, scripts)
    config = alembic_config(connection, scripts)
    if before is None:
        ours = set(inspect(connection).get_table_names()) & set(Base.metadata.tables)
        if not ours:
            _create_at_head(connection, config)
            logger.info("Created the database schema at revision %s", head)
            return
        missing = sorted(set(Base.metadata.tables) - ours)
        logger.warning(
            "The database was made before migrations (by create_all): stamping it at "
            "revision %s%s, then upgrading to %s",
            BASELINE,
            f" and creating the tables it lacks ({', '.join(missing)})" if missing else "",
            head,
        )
        command.upgrade(config, BASELINE)
    command.upgrade(config, "head")
    logger.info("Upgraded the database schema from %s to %s", before or "nothing", head)


def _create_at_head(connection: Connection, config: Config) -> None:
    """An empty database: create_all and mark it at head.

    Same result as running every migration (tests/unit/test_migrations.py proves it), in a
    fraction of the time, which the many throwaway test databases need.
    """
    Base.metadata.create_all(connection)
    command.stamp(config, "head")


def _lock(connection: Connection) -> None:
    """Make processes that migrate at the same time wait for each other."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        # Python's sqlite3 would only begin before the first INSERT: take the write lock now,
        # so the check and the DDL are one transaction that a second process waits for.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise MigrationError(
            f"the migration left rows whose foreign key points nowhere ({broken[:5]}): it was "
            "rolled back; fix the migration"
        )


def _check_known(revision: str | None, scripts: Path) -> None:
    if revision is None:
        return
    known = ScriptDirectory.from_config(alembic_config(scripts=scripts)).walk_revisions()
    if revision not in {script.revision for script in known}:
        raise MigrationError(
            f"the database is at revision {revision}, which this code does not know: it was "
            "migrated by a newer version of the assistant. Run that version, or restore a "
            "backup made for this one (docs/operations.md)."
        )


def migrate_command(database_url: str, *, only_status: bool = False) -> int:
    """``python -m knowledge migrate [--status]``; returns the exit status (1: behind)."""
    from knowledge.db import engine_for

    engine = engine_for(database_url)
    where = engine.url.render_as_string(hide_password=True)
    try:
        if only_status:
            found = status(engine)
            if found.behind:
                print(
                    f"{where}: revision {found.current or 'none'}, newest {found.head}: "
                    "behind, run `python -m knowledge migrate`."
                )
                return 1
            print(f"{where}: revision {found.current}, up to date.")
            return 0
        done = upgrade(engine)
    except (MigrationError, OperationalError) as exc:
        print(f"{where}: not migrated: {exc}", file=sys.stderr)
        return 1
    print(f"{where}: revision before: {done.current or 'none'}, after: {done.head} (newest).")
    return 0
