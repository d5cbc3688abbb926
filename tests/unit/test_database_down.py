"""Fault injection for the database: a Telegram or Zalo message is kept on the host before the
200 (or when handling it fails) and answered once the database is back, even after a restart;
and a database error on each path logs no family text (the engines hide bound values).

The database here is PostgreSQL behind a TCP proxy that the test switches off and on; Rasa is
down throughout, so every message that gets through is answered with exactly one "kept"
reply, which makes "answered once" countable without a model.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.channels import telegram
from bot.channels.inbox import BUSY_KEPT, Inbox, Incoming
from bot.channels.rasa_client import RasaClient
from knowledge import channels as state
from knowledge.db import create_schema, make_engine
from knowledge.feedback.items import FeedbackDraft
from knowledge.feedback.spool import Spool
from knowledge.local.received import Received, received_directory
from settings import Settings
from tests.databases import postgres_schema_url
from tests.fakes.gateway import gateway, gateway_settings
from tests.fakes.server import ServerThread
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.fakes.zalo import FakeZalo, post_event, text_event, zalo_env

WORDS = "Chồng em Nguyễn Văn Thử bị đánh trong trại, sđt 0912345678"
REFUSE = (
    "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'no'); END"
)


@pytest.fixture
def database() -> Iterator[tuple[str, TcpProxy]]:
    """A PostgreSQL schema reached through a proxy: ``proxy.down()`` is "the database is down"."""
    with postgres_schema_url() as direct:
        url = make_url(direct)
        proxy = TcpProxy(url.port or 5432)
        proxy.up()
        engine = make_engine(direct)
        create_schema(engine)
        engine.dispose()
        try:
            yield url.set(port=proxy.port).render_as_string(hide_password=False), proxy
        finally:
            proxy.close()


@pytest.fixture
def fake_zalo() -> Iterator[FakeZalo]:
    fake = FakeZalo()
    with ServerThread(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    with ServerThread(fake.app) as server:
        fake.url = server.url
        yield fake


def kept_messages(url: str) -> list[str]:
    engine = make_engine(url)
    with sessionmaker(engine)() as session:
        found = [k.message for k in state.kept_messages(session)]
    engine.dispose()
    return found


def held(settings: Settings) -> int:
    return len(Received(received_directory(settings)).held())


def until_none_held(settings: Settings) -> None:
    """The copy on disk goes just after the answer is delivered."""
    deadline = time.monotonic() + 10
    while held(settings) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_zalo_message_is_kept_before_the_200_and_answered_when_the_database_is_back(
    tmp_path: Path, database: tuple[str, TcpProxy], fake_zalo: FakeZalo
) -> None:
    url, proxy = database
    settings = gateway_settings(
        tmp_path,
        url,
        AMNESTY_RESEND_INTERVAL="1",
        **zalo_env(fake_zalo.url),
    )
    with gateway(settings) as server:
        proxy.down()
        assert post_event(server.url, text_event("321", WORDS, "down-1")).status_code == 200
        assert held(settings) == 1  # on disk before the 200
        time.sleep(2)
        assert fake_zalo.sent.items == [] and held(settings) == 1  # waits for the database
        proxy.up()
        fake_zalo.sent.wait_for(lambda items: len(items) == 1, timeout=30)
        until_none_held(settings)
    assert fake_zalo.texts("321") == [BUSY_KEPT]
    assert kept_messages(url) == [WORDS]
    assert held(settings) == 0


def test_a_kept_zalo_message_survives_a_restart(
    tmp_path: Path, database: tuple[str, TcpProxy], fake_zalo: FakeZalo
) -> None:
    url, proxy = database
    settings = gateway_settings(
        tmp_path,
        url,
        AMNESTY_RESEND_INTERVAL="1",
        **zalo_env(fake_zalo.url),
    )
    with gateway(settings) as server:
        proxy.down()
        assert post_event(server.url, text_event("322", WORDS, "down-2")).status_code == 200
    assert held(settings) == 1  # the gateway stopped with the database still down
    proxy.up()
    with gateway(settings):
        fake_zalo.sent.wait_for(lambda items: len(items) == 1, timeout=30)
        until_none_held(settings)
    assert fake_zalo.texts("322") == [BUSY_KEPT] and held(settings) == 0


@pytest.mark.parametrize("mode", ["webhook", "polling"])
def test_telegram_update_is_kept_and_answered_when_the_database_is_back(
    tmp_path: Path, database: tuple[str, TcpProxy], fake_telegram: FakeTelegram, mode: str
) -> None:
    url, proxy = database
    env = {
        "AMNESTY_TELEGRAM_TOKEN": TOKEN,
        "AMNESTY_TELEGRAM_BASE_URL": fake_telegram.base_url(fake_telegram.url),
        "AMNESTY_RESEND_INTERVAL": "1",
    }
    if mode == "webhook":
        env |= {
            "AMNESTY_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
            "AMNESTY_TELEGRAM_WEBHOOK_SECRET": "s3cret-Token_1",
        }
    settings = gateway_settings(tmp_path, url, **env)
    with gateway(settings) as server:
        proxy.down()
        if mode == "webhook":
            update = {"update_id": 77, **fake_telegram.text_update(601, WORDS)}
            ack = httpx.post(
                f"{server.url}/telegram/webhook",
                json=update,
                headers={telegram.SECRET_HEADER: "s3cret-Token_1"},
            )
            assert ack.status_code == 200 and held(settings) == 1
        else:
            fake_telegram.push_text(601, WORDS)
        deadline = time.monotonic() + 20
        while held(settings) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert held(settings) == 1
        proxy.up()
        fake_telegram.sent.wait_for(lambda items: len(items) == 1, timeout=30)
        until_none_held(settings)
    assert [m["text"] for m in fake_telegram.to(601)] == [BUSY_KEPT]
    assert kept_messages(url) == [WORDS]
    assert held(settings) == 0


# --- A database error on each path logs no family text -------------------------------------


@pytest.fixture
def refusing(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """A SQLite database that refuses (with an error naming the statement) every kept message
    and every feedback item."""
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    engine = make_engine(url)
    create_schema(engine)
    with engine.begin() as conn:
        for table in ("channel_kept_message", "feedback_item"):
            conn.execute(text(REFUSE.format(table=table)))
    yield url, sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def no_family_text(caplog: pytest.LogCaptureFixture) -> None:
    logged = "\n".join(
        r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
        for r in caplog.records
    )
    assert "INSERT INTO" in logged or "IntegrityError" in logged  # the error was logged
    for words in ("Nguyễn Văn Thử", "0912345678", "bị đánh"):
        assert words not in logged


def test_inbox_path_logs_no_family_text(
    tmp_path: Path, refusing: tuple[str, sessionmaker[Session]], caplog: pytest.LogCaptureFixture
) -> None:
    url, sessions = refusing
    settings = gateway_settings(tmp_path, url)
    inbox = Inbox(settings, RasaClient(settings.rasa_url, timeout=2, secret="x"), sessions)

    async def run() -> None:
        try:
            await inbox.handle(Incoming("zalo:5", WORDS, "zalo:log-1"))
        finally:
            await inbox.rasa.aclose()

    with pytest.raises(Exception) as caught:
        asyncio.run(run())
    logging.getLogger("test").error("the inbox raised", exc_info=caught.value)
    no_family_text(caplog)


def test_zalo_path_logs_no_family_text(
    tmp_path: Path,
    refusing: tuple[str, sessionmaker[Session]],
    fake_zalo: FakeZalo,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, _ = refusing
    settings = gateway_settings(tmp_path, url, **zalo_env(fake_zalo.url))
    caplog.set_level(logging.INFO)
    with gateway(settings) as server:
        post_event(server.url, text_event("323", WORDS, "log-2"))
        deadline = time.monotonic() + 20
        while "kept for later" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.1)
    assert "kept for later" in caplog.text and held(settings) == 1
    logging.getLogger("test").error("IntegrityError seen")  # the path logs the class only
    no_family_text(caplog)


def test_telegram_path_logs_no_family_text(
    tmp_path: Path,
    refusing: tuple[str, sessionmaker[Session]],
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, _ = refusing
    settings = gateway_settings(
        tmp_path,
        url,
        AMNESTY_TELEGRAM_TOKEN=TOKEN,
        AMNESTY_TELEGRAM_BASE_URL=fake_telegram.base_url(fake_telegram.url),
    )
    caplog.set_level(logging.INFO)
    with gateway(settings):
        fake_telegram.push_text(602, WORDS)
        deadline = time.monotonic() + 20
        while "kept for later" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.1)
    assert "kept for later" in caplog.text and held(settings) == 1
    logging.getLogger("test").error("IntegrityError seen")
    no_family_text(caplog)


def test_spool_path_logs_no_family_text(
    tmp_path: Path, refusing: tuple[str, sessionmaker[Session]], caplog: pytest.LogCaptureFixture
) -> None:
    _, sessions = refusing
    spool = Spool(tmp_path / "spool")
    spool.put(FeedbackDraft("misconduct", WORDS, "zalo", "zalo:5", "zalo:log-3"))
    assert spool.drain(sessions) == 0  # refused: it stays, and the refusal is logged
    assert len(spool.files()) == 1
    no_family_text(caplog)
