"""Backups and restores of an SQLite file (while written to) and of a PostgreSQL database."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from knowledge import staff
from knowledge.__main__ import main
from knowledge.backup import BackupError, backup, restore
from knowledge.db import create_schema, make_engine
from knowledge.feedback import items as feedback
from knowledge.migrations import head_revision, status
from knowledge.models import AuditEntry, FeedbackEvent, FeedbackItem
from settings import get_settings
from tests.databases import POSTGRES_URL, postgres_database_url, postgres_schema_url

# Words families and staff really write, and characters that break careless copies.
CONTENTS = (
    "Con tôi ở trại giam Xuân Lộc, án 5 năm, đã chấp hành 3 năm 2 tháng. Có được đặc xá không?",
    "Cán bộ đòi 20 triệu để \u201clo\u201d hồ sơ đặc xá 😡 — xin cho biết có đúng không?",
    "Dòng 1\nDòng 2\r\n\ttab; 'nháy đơn' \"nháy kép\" \\ gạch chéo; ký tự lạ \ufffd",
)


def fill(sessions: sessionmaker[Session]) -> None:
    """Feedback items with their events, and audit rows, through the real functions."""
    with sessions.begin() as session:
        for n, content in enumerate(CONTENTS):
            item = feedback.record(
                session,
                feedback.FeedbackDraft(
                    kind=feedback.KINDS[n % len(feedback.KINDS)],
                    content=content,
                    channel="zalo",
                    sender_id=f"zalo:{1000 + n}",
                    delivery_key=f"zalo:{1000 + n}:m{n}",
                    facility="Trại giam Xuân Lộc",
                    contact_name="Nguyễn Thị Hoà" if n else None,
                    contact_phone="0912 345 678" if n else None,
                    urgent=n == 1,
                    excerpt=({"from": "family", "text": content},),
                ),
            )
            feedback.change_status(session, item, "in_progress", actor="canbo.an")
            feedback.add_note(session, item, f"Đã gọi lại cho gia đình — lần {n + 1}.", actor="an")
            staff.audit(
                session,
                "canbo.an",
                "feedback_status",
                feedback.reference(item),
                {"to": "in_progress", "ghi chú": content[:30]},
            )
        staff.audit(session, None, "login_failed", "khách lạ", {"lý do": "sai mật khẩu"})


def rows(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every column of every feedback item, event and audit row, in id order."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with sessions() as session:
        for model in (FeedbackItem, FeedbackEvent, AuditEntry):
            columns = list(model.__table__.columns)
            result = session.execute(select(*columns).order_by(model.__table__.c.id))
            found[model.__tablename__] = [tuple(row) for row in result]
    return found


def text_bytes(found: dict[str, list[tuple[Any, ...]]]) -> list[bytes]:
    return [
        v.encode() for table in found.values() for row in table for v in row if isinstance(v, str)
    ]


# --- SQLite ------------------------------------------------------------------------------------


def test_sqlite_backup_while_a_writer_inserts_then_restore(tmp_path: Path) -> None:
    source = tmp_path / "amnesty.db"
    engine = make_engine(f"sqlite:///{source}")
    create_schema(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    fill(sessions)
    stop = threading.Event()
    written: list[int] = []
    failures: list[BaseException] = []

    def keep_writing() -> None:
        try:
            while not stop.is_set():
                with sessions.begin() as session:
                    staff.audit(session, "canbo.an", "login", "", {"lần": len(written)})
                written.append(1)
        except BaseException as exc:  # reported below: the assistant must never fail to write
            failures.append(exc)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 20 and not failures:
            stop.wait(0.01)
        backups = [tmp_path / f"backup-{n}.db" for n in range(3)]
        for file in backups:
            backup(f"sqlite:///{source}", file)
            stop.wait(0.02)
    finally:
        stop.set()
        writer.join()
    assert not failures

    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    restore(restored_url, backups[-1])
    restored_engine = make_engine(restored_url)
    restored = rows(sessionmaker(restored_engine))
    original = rows(sessions)
    # A consistent snapshot: what was there when it was taken, as it was, nothing half-written.
    audit_count = len(restored["staff_audit"])
    assert len(CONTENTS) + 1 + 20 <= audit_count <= len(original["staff_audit"])
    assert restored["staff_audit"] == original["staff_audit"][:audit_count]
    assert restored["feedback_item"] == original["feedback_item"]
    assert restored["feedback_event"] == original["feedback_event"]
    assert text_bytes(restored) == text_bytes(
        {k: v[: len(restored[k])] for k, v in original.items()}
    )
    assert status(restored_engine).current == head_revision()
    with sqlite3.connect(backups[-1]) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    restored_engine.dispose()
    engine.dispose()


def test_sqlite_restore_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    source = tmp_path / "amnesty.db"
    engine = make_engine(f"sqlite:///{source}")
    create_schema(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    fill(sessions)
    file = tmp_path / "backup.db"
    backup(f"sqlite:///{source}", file)
    before = rows(sessions)
    with sessions.begin() as session:
        session.execute(text("DELETE FROM feedback_event"))
        session.execute(text("DELETE FROM feedback_item"))
    with pytest.raises(BackupError, match=r"Stop the assistant first.*--force"):
        restore(f"sqlite:///{source}", file)
    with pytest.raises(BackupError, match="already exists"):
        backup(f"sqlite:///{source}", file)
    restore(f"sqlite:///{source}", file, force=True)
    assert rows(sessions) == before  # the running engine sees the restored data
    engine.dispose()


def test_backup_refuses_what_it_cannot_do(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="cannot back up a 'mysql' database"):
        backup("mysql+pymysql://u@h/db", tmp_path / "x")
    with pytest.raises(BackupError, match="does not exist: check the URL"):
        backup(f"sqlite:///{tmp_path / 'none.db'}", tmp_path / "x")
    (tmp_path / "notes.txt").write_text("không phải bản sao lưu")
    with pytest.raises(BackupError, match="not an SQLite backup"):
        restore(f"sqlite:///{tmp_path / 'kb.db'}", tmp_path / "notes.txt")
    with pytest.raises(BackupError, match="not a pg_dump custom-format backup"):
        restore("postgresql+psycopg://u@127.0.0.1/db", tmp_path / "notes.txt")


def test_missing_pg_dump_and_unreachable_server_are_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "mật-khẩu-bí-mật"
    url = f"postgresql+psycopg://amnesty:{secret}@127.0.0.1:1/amnesty"
    with pytest.raises(BackupError) as unreachable:
        backup(url, tmp_path / "x.dump")
    assert "cannot reach PostgreSQL at 127.0.0.1:1/amnesty" in str(unreachable.value)
    assert secret not in str(unreachable.value)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError, match="pg_dump was not found: install"):
        backup(url, tmp_path / "x.dump")


def test_backup_command_tells_what_it_did(
    app_settings: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = tmp_path / "amnesty.db"
    monkeypatch.setenv("AMNESTY_DATABASE_URL", f"sqlite:///{database}")
    get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{database}")
    create_schema(engine)
    engine.dispose()
    assert main(["backup", str(tmp_path / "b.db")]) == 0
    assert "Backed up" in capsys.readouterr().out
    assert main(["restore", str(tmp_path / "b.db")]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "b.db"), "--force"]) == 0
    tracker = tmp_path / "tracker.db"
    with sqlite3.connect(tracker) as connection:
        connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, data TEXT)")
        connection.execute("INSERT INTO events (data) VALUES ('xin chào')")
    connection.close()
    monkeypatch.setenv("AMNESTY_TRACKER_URL", f"sqlite:///{tracker}")
    get_settings.cache_clear()
    assert main(["backup", "--tracker", str(tmp_path / "t.db")]) == 0
    with sqlite3.connect(tmp_path / "t.db") as connection:
        assert connection.execute("SELECT data FROM events").fetchone() == ("xin chào",)
    connection.close()


# --- PostgreSQL --------------------------------------------------------------------------------


def require_pg_tools() -> None:
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install postgresql-client)")


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """The URL of a new database amnesty_bk_<random>, dropped afterwards."""
    require_pg_tools()
    with postgres_database_url("amnesty_bk") as url:
        yield url


def test_postgresql_backup_drop_recreate_restore(scratch_database: str, tmp_path: Path) -> None:
    engine = make_engine(scratch_database)
    create_schema(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    fill(sessions)
    before = rows(sessions)
    engine.dispose()
    file = tmp_path / "amnesty.dump"
    assert "Backed up" in backup(scratch_database, file)
    assert file.read_bytes().startswith(b"PGDMP")

    name = make_url(scratch_database).database
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    with pytest.raises(BackupError, match=r"does not exist.*CREATE DATABASE"):
        restore(scratch_database, file)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()

    restore(scratch_database, file)
    engine = make_engine(scratch_database)
    sessions = sessionmaker(engine, expire_on_commit=False)
    after = rows(sessions)
    assert after == before
    assert text_bytes(after) == text_bytes(before)
    assert status(engine).current == head_revision()
    # The sequences came back too: a new item never reuses a family's reference number.
    with sessions.begin() as session:
        item = feedback.record(
            session,
            feedback.FeedbackDraft("question", "Câu hỏi mới", "web", "web:x", "web:x:1"),
        )
        assert item.id > max(row[0] for row in before["feedback_item"])
    with pytest.raises(BackupError, match=r"already has .* tables.*--force"):
        restore(scratch_database, file)
    engine.dispose()


def test_postgresql_schema_url_backup_and_restore(tmp_path: Path) -> None:
    require_pg_tools()
    with postgres_schema_url() as url:
        engine = make_engine(url)
        create_schema(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        fill(sessions)
        before = rows(sessions)
        file = tmp_path / "schema.dump"
        backup(url, file)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM staff_audit WHERE actor IS NULL"))
        restore(url, file, force=True)
        assert rows(sessions) == before
        engine.dispose()
