"""The Telegram channel through python-telegram-bot against a fake Bot API on loopback.

Rasa is down here (nothing listens on its port): each accepted message gets one "kept"
reply. Conversations with the real Rasa are in tests/e2e/test_telegram.py.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channels import telegram
from bot.channels.inbox import BUSY_KEPT
from knowledge import channels as state
from knowledge.db import create_schema, make_engine
from settings import ROOT, Settings
from tests.fakes.gateway import gateway, gateway_settings
from tests.fakes.server import ServerThread
from tests.fakes.telegram import TOKEN, FakeTelegram


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    with ServerThread(fake.app) as server:
        fake.url = server.url
        yield fake


def telegram_settings(tmp_path: Path, db_url: str, fake: FakeTelegram, **env: str) -> Settings:
    channel = {
        "AMNESTY_TELEGRAM_TOKEN": TOKEN,
        "AMNESTY_TELEGRAM_BASE_URL": fake.base_url(fake.url),
    }
    return gateway_settings(tmp_path, db_url, **{**channel, **env})


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    create_schema(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def test_polling_text_help_and_sticker_without_the_token_in_logs(
    tmp_path: Path,
    db_url: str,
    fake_telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = telegram_settings(tmp_path, db_url, fake_telegram)
    with gateway(settings):
        fake_telegram.push_text(501, "/ask_fees")  # typed: must reach Rasa as text
        fake_telegram.sent.wait_for(lambda items: len(items) == 1)
        fake_telegram.push_text(501, "/help")
        fake_telegram.push_sticker(501)
        fake_telegram.sent.wait_for(lambda items: len(items) == 3)
    texts = [m["text"] for m in fake_telegram.to(501)]
    assert texts[0] == BUSY_KEPT
    assert sorted(texts[1:]) == sorted([telegram.HELP, telegram.UNSUPPORTED])
    assert fake_telegram.actions.items[0]["action"] == "typing"
    with sessions() as session:
        [kept] = state.kept_messages(session)
    assert kept.sender == "telegram:501"
    assert kept.message == "\u200b/ask_fees"  # marked as typed text, never an intent
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "telegram" in logged  # the capture did see the bot's own logs
    assert TOKEN not in logged
    assert TOKEN.split(":")[1] not in logged


def test_start_sends_the_greet_intent(
    tmp_path: Path, db_url: str, fake_telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    with gateway(telegram_settings(tmp_path, db_url, fake_telegram)):
        fake_telegram.push_text(502, "/start")
        fake_telegram.sent.wait_for(lambda items: len(items) == 1)
    with sessions() as session:
        [kept] = state.kept_messages(session)
    assert (kept.sender, kept.message) == ("telegram:502", "/greet")


def test_unknown_button_id_is_not_sent_as_an_intent(
    tmp_path: Path, db_url: str, fake_telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    with gateway(telegram_settings(tmp_path, db_url, fake_telegram)):
        fake_telegram.push_text(503, "/help")
        [help_message] = fake_telegram.sent.wait_for(lambda items: len(items) == 1)
        fake_telegram.push_button(503, help_message, "7")
        fake_telegram.sent.wait_for(lambda items: len(items) == 2)
    assert fake_telegram.to(503)[-1]["text"] == telegram.OLD_BUTTON
    with sessions() as session:
        assert state.kept_messages(session) == []


def test_webhook_requires_the_secret_header(
    tmp_path: Path, db_url: str, fake_telegram: FakeTelegram
) -> None:
    settings = telegram_settings(
        tmp_path,
        db_url,
        fake_telegram,
        AMNESTY_TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/webhook",
        AMNESTY_TELEGRAM_WEBHOOK_SECRET="s3cret-Token_1",
    )
    update = fake_telegram.text_update(504, "/help")
    with gateway(settings) as server:
        [registered] = fake_telegram.webhooks.items
        assert registered["secret_token"] == "s3cret-Token_1"
        url = f"{server.url}/telegram/webhook"
        missing = httpx.post(url, json={"update_id": 1, **update})
        wrong = httpx.post(
            url, json={"update_id": 2, **update}, headers={telegram.SECRET_HEADER: "guess"}
        )
        right = httpx.post(
            url, json={"update_id": 3, **update}, headers={telegram.SECRET_HEADER: "s3cret-Token_1"}
        )
        fake_telegram.sent.wait_for(lambda items: len(items) == 1)
    assert (missing.status_code, wrong.status_code, right.status_code) == (403, 403, 200)
    assert [m["text"] for m in fake_telegram.sent.items] == [telegram.HELP]


def test_generated_webhook_secret_is_kept_in_the_var_dir(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    first = telegram.webhook_secret(settings)
    assert first == telegram.webhook_secret(settings)
    assert len(first) >= 32
    assert (settings.var_dir / "telegram_webhook_secret").stat().st_mode & 0o077 == 0


def test_not_configured_without_a_token(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    assert telegram.not_configured(settings) == "AMNESTY_TELEGRAM_TOKEN is not set"


def test_rejected_token_stops_the_gateway_without_logging_it(
    tmp_path: Path,
    db_url: str,
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "987654321:AAWrongTokenThatMustNotBeLogged_y"
    settings = telegram_settings(tmp_path, db_url, fake_telegram, AMNESTY_TELEGRAM_TOKEN=wrong)
    with pytest.raises(RuntimeError, match="did not start"), gateway(settings):
        pass
    logged = capfd.readouterr().err + "\n".join(
        f"{r.getMessage()} {logging.Formatter().formatException(r.exc_info) if r.exc_info else ''}"
        for r in caplog.records
    )
    assert "copy the token again from BotFather" in logged  # uvicorn printed the startup error
    assert wrong.split(":")[1] not in logged


def test_gateway_process_with_polling_stops_on_sigterm(
    tmp_path: Path, db_url: str, fake_telegram: FakeTelegram
) -> None:
    settings = telegram_settings(tmp_path, db_url, fake_telegram)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AMNESTY_VAR_DIR": str(settings.var_dir),
        "AMNESTY_DATABASE_URL": db_url,
        "AMNESTY_RASA_PORT": str(settings.rasa_port),
        "AMNESTY_WEB_PORT": str(settings.web_port),
        "AMNESTY_TELEGRAM_TOKEN": TOKEN,
        "AMNESTY_TELEGRAM_BASE_URL": settings.telegram_base_url,
        "AMNESTY_REST_SECRET": settings.rest_secret or "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        fake_telegram.push_text(505, "/help")  # answered once polling runs
        fake_telegram.sent.wait_for(lambda items: len(items) == 1)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)  # what the launcher sends on Ctrl-C
        # uvicorn shuts down gracefully (lifespan, then the bot), then re-raises the signal.
        assert process.wait(timeout=20) in {0, -signal.SIGTERM}
        assert time.monotonic() - started < 15
        assert [m["text"] for m in fake_telegram.sent.items] == [telegram.HELP]
        assert process.stderr is not None
        assert "Application.stop() complete" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
