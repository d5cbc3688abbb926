"""Files with personal data or secrets are private (0600 files, 0700 folders) whatever the
umask, secret files are never empty, and database errors never carry the values bound."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from knowledge.backup import backup
from knowledge.db import make_engine
from knowledge.feedback.items import FeedbackDraft
from knowledge.feedback.spool import Spool
from knowledge.local.files import EmptySecret, secret_file
from settings import ROOT

FAMILY_WORDS = "chồng em Nguyễn Văn Thử, sđt 0912345678"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022), under which plain open() makes world-readable files."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def draft() -> FeedbackDraft:
    return FeedbackDraft(
        kind="question",
        content=FAMILY_WORDS,
        channel="zalo",
        sender_id="zalo:42",
        delivery_key="zalo:m1",
    )


@pytest.mark.usefixtures("open_umask")
def test_sqlite_database_its_wal_and_a_new_folder_are_private(tmp_path: Path) -> None:
    database = tmp_path / "var" / "amnesty.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
        conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": FAMILY_WORDS})
        assert mode(database) == 0o600
        assert mode(database.with_name("amnesty.db-wal")) == 0o600
    engine.dispose()
    assert mode(database.parent) == 0o700


@pytest.mark.usefixtures("open_umask")
def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    database.touch(mode=0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert mode(database) == 0o600


@pytest.mark.usefixtures("open_umask")
def test_spool_files_and_folders_are_private(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "var" / "spool")
    path = spool.put(draft())
    assert mode(path) == 0o600
    assert mode(spool.directory) == 0o700
    other = Spool(tmp_path / "other")
    other.directory.mkdir()
    (other.directory / "bad.json").write_text("{not json")
    other.drain(None)  # type: ignore[arg-type]  # nothing readable reaches the database
    assert mode(other.broken) == 0o700


@pytest.mark.usefixtures("open_umask")
def test_a_backup_is_private(tmp_path: Path) -> None:
    database = tmp_path / "kb.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE kb_entry (x TEXT)"))
    engine.dispose()
    target = tmp_path / "backups" / "kb-backup.db"
    backup(f"sqlite:///{database}", target)
    assert mode(target) == 0o600


def test_secret_file_is_made_once_whole_and_shared_by_racing_processes(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret"
    seen: list[str] = []
    start = threading.Barrier(8)

    def read() -> None:
        start.wait()
        seen.append(secret_file(path))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1 and len(seen[0]) >= 32
    assert mode(path) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.touch(mode=0o600)
    with pytest.raises(EmptySecret, match="delete it"):
        secret_file(path)


def test_database_errors_carry_no_bound_values(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    with pytest.raises(OperationalError) as caught, engine.begin() as conn:
        conn.execute(text("INSERT INTO missing VALUES (:x)"), {"x": FAMILY_WORDS})
    engine.dispose()
    assert "Nguyễn" not in str(caught.value) and "0912345678" not in str(caught.value)


def test_command_line_entry_points_leave_private_files(tmp_path: Path) -> None:
    var = tmp_path / "var"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AMNESTY_VAR_DIR": str(var)}
    env.pop("AMNESTY_DATABASE_URL", None)

    def run(*args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "knowledge", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            preexec_fn=lambda: os.umask(0o022),
        )

    run("load")
    run("backup", str(tmp_path / "backups" / "kb.db"))
    assert mode(var) == 0o700
    assert mode(var / "amnesty.db") == 0o600
    assert mode(tmp_path / "backups" / "kb.db") == 0o600
    assert mode(tmp_path / "backups") == 0o700
