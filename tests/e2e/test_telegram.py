"""Telegram end to end: fake Bot API on loopback, the real gateway, Rasa and action servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

from bot.channels.inbox import BUSY_KEPT
from knowledge import channels as state
from knowledge.db import make_engine
from settings import Settings
from tests.e2e.conftest import Assistant
from tests.fakes.gateway import gateway, gateway_before, wait_until_none_kept
from tests.fakes.server import ServerThread
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.telegram import TOKEN, FakeTelegram

pytestmark = pytest.mark.e2e


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    with ServerThread(fake.app) as server:
        fake.url = server.url
        yield fake


def settings_for(
    assistant: Assistant, fake: FakeTelegram, tmp_path: Path, rasa_port: int | None = None
) -> Settings:
    return gateway_before(
        assistant.settings,
        tmp_path,
        {
            "AMNESTY_TELEGRAM_TOKEN": TOKEN,
            "AMNESTY_TELEGRAM_BASE_URL": fake.base_url(fake.url),
        },
        rasa_port,
    )


def with_text(fake: FakeTelegram, user: int, *words: str) -> dict[str, Any]:
    """Wait for a message to ``user`` containing every one of ``words``."""

    def found(items: list[dict[str, Any]]) -> bool:
        return any(int(m["chat_id"]) == user and all(w in m["text"] for w in words) for m in items)

    fake.sent.wait_for(found, timeout=90)
    return next(m for m in fake.to(user) if all(w in m["text"] for w in words))


def button_data(message: dict[str, Any], title: str) -> str:
    rows = message["reply_markup"]["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if b["text"] == title)


def test_conversation_with_cited_answer_and_button(
    assistant: Assistant, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    with gateway(settings_for(assistant, fake_telegram, tmp_path)):
        fake_telegram.push_text(7001, "/start")
        greeting = with_text(fake_telegram, 7001, "không phải quyết định")
        assert greeting["reply_markup"]["inline_keyboard"]
        fake_telegram.push_text(7001, "hồ sơ đề nghị đặc xá gồm những giấy tờ gì")
        with_text(fake_telegram, 7001, "Nguồn:", "30/2018/QH14")
        fake_telegram.push_button(
            7001, greeting, button_data(greeting, "Chi phí, cảnh báo lừa đảo")
        )
        with_text(fake_telegram, 7001, "biên lai")
    assert all(len(m["text"]) <= 4096 for m in fake_telegram.sent.items)
    assert fake_telegram.actions.items  # "typing…" was shown


def test_rasa_stopped_busy_reply_then_answered_when_back(
    assistant: Assistant, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    proxy = TcpProxy(assistant.settings.rasa_port)  # down: nothing listens on its port
    settings = settings_for(assistant, fake_telegram, tmp_path, rasa_port=proxy.port)
    sessions = sessionmaker(make_engine(settings.database_url))
    try:
        with gateway(settings):
            fake_telegram.push_text(7002, "có người đòi tiền chạy đặc xá")
            with_text(fake_telegram, 7002, BUSY_KEPT)
            with sessions() as session:
                assert state.count_kept(session, sender="telegram:7002") == 1
            proxy.up()
            with_text(fake_telegram, 7002, "Nguồn:")
            assert wait_until_none_kept(sessions, "telegram:7002")
    finally:
        proxy.close()
