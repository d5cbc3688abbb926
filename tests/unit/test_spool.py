"""The durable spool: nothing lost when the database is down, nothing stored twice afterwards."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from knowledge.db import create_schema, engine_for, make_engine
from knowledge.feedback.items import FeedbackDraft, reference
from knowledge.feedback.spool import Saved, Spool, SpoolWorker, save, spool_directory
from knowledge.models import FeedbackItem
from settings import from_env


def draft(**fields: Any) -> FeedbackDraft:
    values: dict[str, Any] = {
        "kind": "process_complaint",
        "content": "Chồng tôi không có tên trong danh sách 😢 <script>x</script>",
        "channel": "rest",
        "sender_id": "web:abc",
        "delivery_key": f"rest:{uuid.uuid4().hex}",
        "excerpt": ({"role": "user", "text": "tôi muốn khiếu nại"},),
    }
    values.update(fields)
    return FeedbackDraft(**values)


def items(session_maker: sessionmaker[Session]) -> list[FeedbackItem]:
    with session_maker() as session:
        return list(session.scalars(select(FeedbackItem).order_by(FeedbackItem.id)))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def unreachable() -> Iterator[sessionmaker[Session]]:
    """Sessions on a PostgreSQL URL where nothing listens."""
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test")
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """Sessions on a SQLite database opened read-only (a full disk or a read-only mount)."""
    path = tmp_path / "ro.db"
    create_schema(make_engine(f"sqlite:///{path}"))
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool")


# --- The spool files ---------------------------------------------------------------------------


def test_put_writes_one_json_file_and_no_temporary_file(spool: Spool) -> None:
    d = draft()
    path = spool.put(d)
    assert path.parent == spool.directory and path.suffix == ".json"
    assert [p.name for p in spool.directory.iterdir()] == [path.name]
    assert json.loads(path.read_text(encoding="utf-8"))["content"] == d.content
    assert spool.pending() == [d]


def test_any_python_string_survives_the_spool(
    spool: Spool, session_maker: sessionmaker[Session]
) -> None:
    d = draft(content="lone \ud800 surrogate, NUL \x00, emoji 😢", contact_name="\udfff")
    spool.put(d)
    assert spool.pending() == [d]
    assert spool.drain(session_maker) == 1
    [item] = items(session_maker)
    assert item.content == "lone \ufffd surrogate, NUL \ufffd, emoji 😢"


def test_redelivery_overwrites_instead_of_duplicating(spool: Spool) -> None:
    d = draft()
    first = spool.put(d)
    second = spool.put(d)
    assert first == second
    assert spool.pending() == [d]
    spool.put(draft())
    assert len(spool.pending()) == 2


def test_draft_without_key_gets_one(spool: Spool) -> None:
    spool.put(draft(delivery_key=None))
    spool.put(draft(delivery_key=None))
    keys = [d.delivery_key for d in spool.pending()]
    assert len(keys) == 2 and all(keys) and keys[0] != keys[1]


def test_drain_stores_each_draft_and_deletes_its_file(
    spool: Spool, session_maker: sessionmaker[Session]
) -> None:
    drafts = [draft(content=f"phản ánh {i}") for i in range(5)]
    for d in drafts:
        spool.put(d)
    assert spool.drain(session_maker) == 5
    assert spool.files() == []
    assert sorted(i.content for i in items(session_maker)) == sorted(d.content for d in drafts)
    assert spool.drain(session_maker) == 0


def test_drain_of_an_already_stored_delivery_adds_no_duplicate(
    spool: Spool, session_maker: sessionmaker[Session]
) -> None:
    d = draft()
    assert not save(session_maker, spool, d).spooled
    spool.put(d)
    assert spool.drain(session_maker) == 1
    assert len(items(session_maker)) == 1
    assert spool.files() == []


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'{"kind": "spam", "content": "x", "channel": "rest", '
        b'"sender_id": "s", "delivery_key": "k"}',
    ],
    ids=["truncated", "not-utf8", "not-object", "unknown-kind"],
)
def test_unreadable_file_is_moved_aside_never_deleted(
    spool: Spool, session_maker: sessionmaker[Session], content: bytes
) -> None:
    spool.put(draft())
    spool.directory.joinpath("bad.json").write_bytes(content)
    assert spool.drain(session_maker) == 1
    assert spool.broken.joinpath("bad.json").read_bytes() == content
    assert spool.files() == []
    assert len(items(session_maker)) == 1


def test_forget_removes_one_senders_drafts(spool: Spool) -> None:
    spool.put(draft(sender_id="zalo:1"))
    spool.put(draft(sender_id="zalo:1"))
    spool.put(draft(sender_id="zalo:2"))
    assert spool.forget("zalo:1") == 2
    assert [d.sender_id for d in spool.pending()] == ["zalo:2"]


# --- save --------------------------------------------------------------------------------------


def test_save_commits_and_gives_the_reference(
    spool: Spool, session_maker: sessionmaker[Session]
) -> None:
    saved = save(session_maker, spool, draft())
    assert not saved.spooled and saved.item_id is not None
    [item] = items(session_maker)
    assert saved == Saved(item.id, reference(item), False, item.delivery_key)
    assert spool.files() == []


def test_save_generates_a_key_so_a_retry_is_idempotent(
    spool: Spool, session_maker: sessionmaker[Session]
) -> None:
    saved = save(session_maker, spool, draft(delivery_key=None))
    assert saved.delivery_key and saved.delivery_key.startswith("gen:")
    [item] = items(session_maker)
    assert item.delivery_key == saved.delivery_key


@pytest.mark.parametrize("broken_db", ["unreachable", "read_only"])
def test_database_down_spools_then_drain_loses_nothing_and_duplicates_nothing(
    request: pytest.FixtureRequest,
    broken_db: str,
    spool: Spool,
    session_maker: sessionmaker[Session],
) -> None:
    down: sessionmaker[Session] = request.getfixturevalue(broken_db)
    long = "Tôi xin trình bày: " + "ạ" * 20_000
    redelivered = draft(content="gửi hai lần")
    sent = [draft(content=long), redelivered, redelivered, draft(delivery_key=None)]
    results = [save(down, spool, d) for d in sent]
    assert all(r.spooled and r.item_id is None and r.reference is None for r in results)
    assert len(spool.files()) == 3  # the redelivery overwrote its first copy

    with pytest.raises(DBAPIError):  # still down
        spool.drain(down)
    assert len(spool.files()) == 3

    assert spool.drain(session_maker) == 3
    stored = items(session_maker)
    assert sorted(i.content for i in stored) == sorted([long, "gửi hai lần", sent[3].content])
    assert spool.files() == []
    # The channel retries the redelivered message once more, now that the database is back.
    assert not save(session_maker, spool, redelivered).spooled
    assert len(items(session_maker)) == 3


def test_save_waits_out_a_short_lock(tmp_path: Path, spool: Spool) -> None:
    path = tmp_path / "locked.db"
    create_schema(make_engine(f"sqlite:///{path}"))
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    maker = sessionmaker(engine, expire_on_commit=False)
    holder = sqlite3.connect(path, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, holder.rollback).start()
    saved = save(maker, spool, draft(), attempts=10, max_seconds=5)
    holder.close()
    assert not saved.spooled
    assert len(items(maker)) == 1
    engine.dispose()


def test_save_refuses_a_draft_that_can_never_be_stored(
    spool: Spool, unreachable: sessionmaker[Session]
) -> None:
    with pytest.raises(ValueError, match="kind"):
        save(unreachable, spool, draft(kind="other"))
    assert spool.files() == []


def test_save_raises_when_even_the_spool_cannot_be_written(
    tmp_path: Path, unreachable: sessionmaker[Session]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        save(unreachable, Spool(blocker / "spool"), draft())


def test_sixteen_families_at_once_lose_nothing(
    spool: Spool, session_maker: sessionmaker[Session]
) -> None:
    drafts = [draft(sender_id=f"web:{i}", content=f"phản ánh {i}") for i in range(48)]
    results: list[Saved] = []
    lock = threading.Lock()

    def send(batch: list[FeedbackDraft]) -> None:
        for d in batch:
            r = save(session_maker, spool, d)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=send, args=(drafts[i::16],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    spool.drain(session_maker)
    assert len(results) == 48
    assert sorted(i.content for i in items(session_maker)) == sorted(d.content for d in drafts)


# --- The worker --------------------------------------------------------------------------------


def wait_for(condition: Callable[[], object], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_worker_drains_in_the_background_and_stops(
    spool: Spool, session_maker: sessionmaker[Session]
) -> None:
    worker = SpoolWorker(spool, session_maker, interval=0.1)
    assert threading.active_count() >= 1
    worker.start()
    try:
        spool.put(draft())
        spool.put(draft())
        assert wait_for(lambda: len(items(session_maker)) == 2)
        assert wait_for(lambda: spool.files() == [])
    finally:
        worker.stop()
    assert not any(t.name == "feedback-spool" for t in threading.enumerate())


def test_worker_keeps_files_while_the_database_is_down(
    spool: Spool, unreachable: sessionmaker[Session]
) -> None:
    spool.put(draft())
    worker = SpoolWorker(spool, unreachable, interval=0.05, max_interval=0.2)
    worker.start()
    time.sleep(0.8)
    worker.stop()
    assert len(spool.files()) == 1


def test_spool_folder_comes_from_the_settings(tmp_path: Path) -> None:
    assert spool_directory(from_env({"AMNESTY_VAR_DIR": str(tmp_path)})) == tmp_path / "spool"
    settings = from_env({"AMNESTY_VAR_DIR": str(tmp_path), "AMNESTY_SPOOL_DIR": "/x/spool"})
    assert spool_directory(settings) == Path("/x/spool")
    assert from_env({}).spool_retry_seconds == 30


def test_drain_command_stores_the_spool(
    db_url: str,
    session_maker: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from knowledge.__main__ import main
    from settings import get_settings

    monkeypatch.setenv("AMNESTY_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AMNESTY_DATABASE_URL", db_url)
    Spool(tmp_path / "var" / "spool").put(draft())
    get_settings.cache_clear()
    try:
        assert main(["drain-spool"]) == 0
    finally:
        get_settings.cache_clear()
        engine_for(db_url).dispose()  # the command's process-wide engine
    assert "Stored 1 spooled feedback item(s); 0 still waiting." in capsys.readouterr().out
    with session_maker() as session:
        assert session.scalar(select(func.count()).select_from(FeedbackItem)) == 1
