"""Alembic's entry point: migrate the connection we were given, or the configured database."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from knowledge.models import Base


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _run_offline(url: str) -> None:
    context.configure(
        url=url,
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    # knowledge.migrations passes the connection (inside the caller's transaction).
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # The alembic command line (knowledge/alembic.ini): the database the settings name.
    from knowledge.db import make_engine

    if context.config.config_file_name:
        fileConfig(context.config.config_file_name, disable_existing_loggers=False)

    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # As knowledge.migrations.upgrade: a batch copy must not cascade deletes.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from settings import get_settings

    return get_settings().database_url


if context.is_offline_mode():
    _run_offline(_url())
else:
    _run_online()
