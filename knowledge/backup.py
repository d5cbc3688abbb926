"""Backing up and restoring our database, or Rasa's tracker database (``--tracker``).

PostgreSQL goes through ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists``;
an SQLite file through SQLite's online backup API, which is safe while the assistant writes.
The connection details go to the PostgreSQL tools as PG* environment variables: a password is
never on a command line nor printed.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from knowledge.db import quiet_engine
from knowledge.local.files import private_file
from settings import Settings

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
STOP_FIRST = (
    "Stop the assistant first (Ctrl-C in `make run`, or stop its services), so nothing writes "
    "while the database is replaced"
)


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says what to do."""


@dataclass(frozen=True)
class PgTarget:
    """Where a PostgreSQL URL points, as the PostgreSQL tools take it."""

    env: dict[str, str]
    database: str
    schema: str | None
    shown: str  # host:port/database, for messages


def backup(url: str, file: Path, *, force: bool = False) -> str:
    """Write a backup of the database at ``url`` to ``file``; returns what was written."""
    if file.exists() and not force:
        raise BackupError(f"{file} already exists: choose another file, or add --force")
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_backup(_sqlite_path(parsed), file)
    return _pg_backup(_pg_target(parsed), file)


def restore(url: str, file: Path, *, force: bool = False) -> str:
    """Replace the database at ``url`` by the backup in ``file``; returns what was restored."""
    if not file.is_file():
        raise BackupError(f"{file} does not exist: give the path of a backup file")
    parsed = _parse(url)
    with file.open("rb") as stream:
        magic = stream.read(len(SQLITE_MAGIC))
    if parsed.get_backend_name() == "sqlite":
        if not magic.startswith(SQLITE_MAGIC):
            raise BackupError(f"{file} is not an SQLite backup, and the database is SQLite")
        return _sqlite_restore(file, _sqlite_path(parsed), force=force)
    if not magic.startswith(PG_MAGIC):
        raise BackupError(
            f"{file} is not a pg_dump custom-format backup, and the database is PostgreSQL"
        )
    return _pg_restore(file, _pg_target(parsed), force=force)


def command(settings: Settings, name: str, file: Path, *, tracker: bool, force: bool) -> int:
    """``python -m knowledge backup|restore FILE [--tracker] [--force]``; the exit status."""
    url = settings.tracker_url if tracker else settings.database_url
    try:
        done = (
            backup(url, file, force=force) if name == "backup" else restore(url, file, force=force)
        )
    except BackupError as exc:
        print(f"{name.capitalize()} not done: {exc}", file=sys.stderr)
        return 1
    print(done)
    return 0


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError, or ValueError on a bad port
        raise BackupError(f"not a database URL: {exc}") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise BackupError(
            f"cannot back up a {parsed.get_backend_name()!r} database: use sqlite:///FILE or "
            "postgresql+psycopg://… URLs, or that database's own tools"
        )
    return parsed


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_path(parsed: URL) -> Path:
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up: use a file URL")
    return Path(parsed.database)


def _sqlite_backup(source: Path, file: Path) -> str:
    if not source.is_file():
        raise BackupError(f"the database file {source} does not exist: check the URL")
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # a backup holds everything: only our user may read it
    src = sqlite3.connect(source, timeout=15)
    try:
        dst = sqlite3.connect(partial)
        try:
            # One step: a consistent snapshot, while writers go on in WAL mode.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # the backup is one self-contained file
            tables = _check_sqlite(dst, partial)
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, file)
    return f"Backed up {source} ({tables} tables) to {file} ({file.stat().st_size:,} bytes)."


def _sqlite_restore(file: Path, target: Path, *, force: bool) -> str:
    if target.exists() and not force:
        raise BackupError(
            f"{target} exists and would be overwritten. {STOP_FIRST}, then run the restore "
            "again with --force"
        )
    src = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    try:
        tables = _check_sqlite(src, file)
        private_file(target)
        dst = sqlite3.connect(target, timeout=15)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return f"Restored {target} ({tables} tables) from {file}. Start the assistant again."


def _check_sqlite(connection: sqlite3.Connection, path: Path) -> int:
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
        tables = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from exc
    if verdict != "ok":
        raise BackupError(f"{path} is damaged (integrity check: {verdict})")
    return int(tables)


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_target(parsed: URL) -> PgTarget:
    if not parsed.database:
        raise BackupError("the PostgreSQL URL names no database: …/DATABASE")
    query = {k: v if isinstance(v, str) else v[-1] for k, v in parsed.query.items()}
    env = {"PGDATABASE": parsed.database}
    host = parsed.host or query.get("host")
    for name, value in (
        ("PGHOST", host),
        ("PGPORT", str(parsed.port) if parsed.port else None),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGSSLMODE", query.get("sslmode")),
    ):
        if value:
            env[name] = str(value)
    schema = None
    options = query.get("options", "")
    for option in options.split():
        # The tests' private schemas: options=-csearch_path=<schema>
        if option.startswith("-csearch_path="):
            schema = option.split("=", 1)[1].split(",")[0].strip('"') or None
    shown = f"{host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"
    if schema:
        shown += f" (schema {schema})"
    return PgTarget(env, parsed.database, schema, shown)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found: install the PostgreSQL client tools of the server's major "
            "version or newer (Debian/Ubuntu: apt-get install postgresql-client)"
        )
    return path


def _run(argv: list[str], target: PgTarget) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | target.env
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise BackupError(f"{Path(argv[0]).name} failed on {target.shown}: {detail}")


def _our_tables(target: PgTarget) -> list[str]:
    """The tables in the target (its schema); raises BackupError when it cannot be reached."""
    url = URL.create(
        "postgresql+psycopg",
        username=target.env.get("PGUSER"),
        password=target.env.get("PGPASSWORD"),
        host=target.env.get("PGHOST"),
        port=int(target.env["PGPORT"]) if "PGPORT" in target.env else None,
        database=target.database,
        query={"sslmode": target.env["PGSSLMODE"]} if "PGSSLMODE" in target.env else {},
    )
    engine = quiet_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            return inspect(connection).get_table_names(schema=target.schema)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[-1] if exc.orig else str(exc)
        if "does not exist" in reason and "database" in reason:
            raise BackupError(
                f"the database {target.database!r} does not exist on {target.shown}: create it "
                f"empty first (psql -c 'CREATE DATABASE \"{target.database}\"' or createdb "
                f"{target.database}, as a user that may), then run the restore again"
            ) from exc
        raise BackupError(
            f"cannot reach PostgreSQL at {target.shown}: {reason}. Check the URL and that "
            "the server is running"
        ) from exc
    finally:
        engine.dispose()


def _pg_backup(target: PgTarget, file: Path) -> str:
    pg_dump = _tool("pg_dump")
    tables = _our_tables(target)
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # pg_dump truncates it and keeps its mode
    argv = [pg_dump, "--format=custom", f"--file={partial}"]
    if target.schema:
        argv.append(f"--schema={target.schema}")
    try:
        _run(argv, target)
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)
    return (
        f"Backed up {target.shown} ({len(tables)} tables) to {file} "
        f"({file.stat().st_size:,} bytes)."
    )


def _pg_restore(file: Path, target: PgTarget, *, force: bool) -> str:
    pg_restore = _tool("pg_restore")
    tables = _our_tables(target)
    if tables and not force:
        raise BackupError(
            f"{target.shown} already has {len(tables)} tables, which the restore replaces. "
            f"{STOP_FIRST}, then run the restore again with --force"
        )
    argv = [
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={target.database}",
        str(file),
    ]
    _run(argv, target)
    return (
        f"Restored {target.shown} ({len(_our_tables(target))} tables) from {file}. "
        "Start the assistant again."
    )
