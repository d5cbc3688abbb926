"""The migrations in knowledge/migrations build exactly the schema of knowledge/models.py."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, String, inspect, text

from knowledge.__main__ import main
from knowledge.db import create_schema, make_engine
from knowledge.migrations import (
    BASELINE,
    MigrationError,
    MigrationStatus,
    alembic_config,
    head_revision,
    status,
    upgrade,
)
from knowledge.migrations import (
    HERE as MIGRATIONS,
)
from knowledge.models import Base
from settings import get_settings
from tests.databases import postgres_schema_url

AUTOGENERATE = (
    "PYTHONPATH=. .venv-app/bin/alembic -c knowledge/alembic.ini revision --autogenerate "
    '-m "what changed"'
)


def migrate_for_real(engine: Engine) -> None:
    """Run every migration script (create_schema takes a shortcut on an empty database)."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def schema_of(connection: Connection) -> dict[str, Any]:
    """Everything about our tables the database reports, to compare two databases."""
    inspector = inspect(connection)
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        schema[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in inspector.get_columns(table)
            ],
            "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign keys": sorted(
                (fk["constrained_columns"], fk["referred_table"], fk.get("options"))
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(
                (u["column_names"], u["name"] or "")
                for u in inspector.get_unique_constraints(table)
            ),
        }
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name"))
        schema["sqlite_master"] = [(kind, name, _same_sql(sql)) for kind, name, sql in rows]
    else:
        rows = connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() ORDER BY indexname"
            )
        )
        schema["indexes"] = [(name, re.sub(r" ON \S+\.", " ON ", d)) for name, d in rows]
    return schema


def _same_sql(sql: str | None) -> str | None:
    """SQLite keeps the text of each CREATE: a column added by ALTER TABLE and a table copied
    by a batch migration are written with other spacing, quotes and parentheses than
    create_all writes. Only that is set aside; names, types, order, defaults and
    AUTOINCREMENT still count."""
    if sql is None:
        return None
    sql = re.sub(r"\s+", " ", sql)
    sql = re.sub(r'^CREATE TABLE "(\w+)"', r"CREATE TABLE \1", sql)
    sql = re.sub(r"DEFAULT \((\w+)\)", r"DEFAULT \1", sql)
    return sql.replace("( ", "(").replace(" )", ")")


def test_migrations_build_the_schema_of_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate_for_real(engine)
        with engine.connect() as connection:
            found = differences(connection)
            assert status(engine).current == head_revision()
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                lost = [
                    name
                    for name, table in Base.metadata.tables.items()
                    if table.dialect_options["sqlite"]["autoincrement"]
                    and "AUTOINCREMENT" not in _sqlite_sql(connection, name)
                ]
            assert not lost, (
                f"the migrations lost AUTOINCREMENT on {lost}: a batch_alter_table of these "
                'tables needs table_kwargs={"sqlite_autoincrement": True}'
            )
    finally:
        engine.dispose()
    assert not found, (
        "knowledge/models.py and the migrations in knowledge/migrations/versions differ:\n"
        + "\n".join(f"  {d}" for d in found)
        + "\nAdd a migration: `.venv-app/bin/python -m knowledge migrate` (the configured "
        f"database at head), then `{AUTOGENERATE}`; read and tidy the new file "
        "(docs/operations.md, 'Changing the schema')."
    )


def _sqlite_sql(connection: Connection, table: str) -> str:
    return connection.execute(
        text("SELECT sql FROM sqlite_master WHERE name = :name"), {"name": table}
    ).scalar_one()


def test_shortcut_for_an_empty_database_gives_the_schema_of_the_migrations(
    db_url: str, tmp_path: Path
) -> None:
    if db_url.startswith("sqlite"):
        other = f"sqlite:///{tmp_path / 'migrated.db'}"
        _compare_shortcut(db_url, other)
    else:
        with postgres_schema_url() as other:
            _compare_shortcut(db_url, other)


def _compare_shortcut(shortcut_url: str, migrated_url: str) -> None:
    shortcut, migrated = make_engine(shortcut_url), make_engine(migrated_url)
    try:
        create_schema(shortcut)
        migrate_for_real(migrated)
        with shortcut.connect() as a, migrated.connect() as b:
            assert current_of(a) == current_of(b) == head_revision()
            assert schema_of(a) == schema_of(b)
    finally:
        shortcut.dispose()
        migrated.dispose()


def current_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def test_alembic_version_lands_in_the_private_postgresql_schema() -> None:
    with postgres_schema_url() as url:
        in_url = re.search(r"search_path%3D(\w+)", url)
        assert in_url, url
        schema = in_url.group(1)
        engine = make_engine(url)
        try:
            create_schema(engine)
            with engine.connect() as connection:
                found = connection.execute(
                    text(
                        "SELECT table_schema FROM information_schema.tables "
                        "WHERE table_name = 'alembic_version'"
                    )
                ).scalars()
                assert schema in list(found)
                assert current_of(connection) == head_revision()
        finally:
            engine.dispose()


def test_a_database_made_by_create_all_is_stamped_then_upgraded(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(db_url)
    try:
        # As an install from before migrations: the tables of the baseline, but no
        # training_run (added later) and no record of a revision.
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), BASELINE)
            connection.execute(text("DROP TABLE training_run"))
            connection.execute(text("DROP TABLE alembic_version"))
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO kb_round (id, name, decision, verified, note, citations, "
                    "position) VALUES ('2024', 'Đặc xá 2024', 'QĐ 1', true, 'ghi chú', '[]', 0)"
                )
            )
        with caplog.at_level(logging.WARNING, logger="knowledge.migrations"):
            create_schema(engine)
        assert "made before migrations" in caplog.text
        assert "training_run" in caplog.text
        assert BASELINE in caplog.text
        with engine.connect() as connection:
            assert current_of(connection) == head_revision()
            assert not differences(connection)
            assert connection.execute(text("SELECT name FROM kb_round")).scalar() == "Đặc xá 2024"
    finally:
        engine.dispose()


def test_a_database_at_head_is_left_as_it_is(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    try:
        create_schema(engine)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO staff_audit (at, action, target, detail) "
                    "VALUES ('2026-01-01', 'login', '', '{}')"
                )
            )
        before = status(engine)
        create_schema(engine)
        assert before.current == status(engine).current == head_revision()
        assert not status(engine).behind
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM staff_audit")).scalar() == 1
    finally:
        engine.dispose()


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    try:
        create_schema(engine)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
        with pytest.raises(MigrationError, match="newer version of the assistant"):
            create_schema(engine)
    finally:
        engine.dispose()


def test_migrate_command_reports_and_upgrades(
    app_settings: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AMNESTY_DATABASE_URL", f"sqlite:///{tmp_path / 'kb.db'}")
    get_settings.cache_clear()
    assert main(["migrate", "--status"]) == 1
    assert "behind" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert "before: none" in out
    assert f"after: {head_revision()}" in out
    assert main(["migrate", "--status"]) == 0
    assert "up to date" in capsys.readouterr().out


SECOND_REVISION = '''"""A later change, as a developer would add one."""

import sqlalchemy as sa
from alembic import op

revision = "later"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Widening a column makes SQLite copy the table (batch mode), events pointing at it. The
    # copy is made from what SQLite reports, which omits AUTOINCREMENT: say it again.
    with op.batch_alter_table(
        "feedback_item", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.add_column(sa.Column("channel_detail", sa.String(50), nullable=True))
        batch.alter_column("facility", type_=sa.String(400), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("feedback_item") as batch:
        batch.alter_column("facility", type_=sa.String(300), existing_nullable=True)
        batch.drop_column("channel_detail")
'''


def test_a_database_at_the_baseline_gets_a_later_revision(db_url: str, tmp_path: Path) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    later = SECOND_REVISION.replace("{head}", head_revision())
    (scripts / "versions" / "later_channel_detail.py").write_text(later)
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection, scripts), BASELINE)
        with engine.begin() as connection:  # plain SQL: the models are newer than the baseline
            connection.execute(
                text(
                    "INSERT INTO feedback_item (kind, content, channel, sender_id, delivery_key, "
                    "urgent, status, excerpt, created_at, updated_at) VALUES ('question', "
                    "'Thủ tục thế nào ạ?', 'web', 'web:a', 'web:a:1', false, 'in_progress', "
                    "'[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            for to in ("new", "in_progress"):
                connection.execute(
                    text(
                        "INSERT INTO feedback_event (item_id, at, actor, kind, to_status) "
                        "SELECT id, CURRENT_TIMESTAMP, 'canbo', 'status', :to FROM feedback_item"
                    ),
                    {"to": to},
                )

        assert upgrade(engine, scripts) == MigrationStatus(BASELINE, "later")
        assert upgrade(engine, scripts) == MigrationStatus("later", "later")

        with engine.connect() as connection:
            columns = {c["name"]: c for c in inspect(connection).get_columns("feedback_item")}
            assert "channel_detail" in columns
            facility = columns["facility"]["type"]
            assert isinstance(facility, String) and facility.length == 400
            assert connection.execute(text("SELECT content FROM feedback_item")).scalar() == (
                "Thủ tục thế nào ạ?"
            )
            # The copy of feedback_item did not take its events with it.
            assert connection.execute(text("SELECT count(*) FROM feedback_event")).scalar() == 2
            if connection.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                table_sql = connection.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = 'feedback_item'"
                ).scalar()
                assert table_sql is not None
                assert "AUTOINCREMENT" in table_sql  # reference numbers still never reused
    finally:
        engine.dispose()
