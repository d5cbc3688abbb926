"""Zalo end to end: fake OA API on loopback, the real gateway, Rasa and action servers."""

from __future__ import annotations

import time
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
from tests.fakes.zalo import FakeZalo, post_event, text_event, zalo_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def fake_zalo() -> Iterator[FakeZalo]:
    fake = FakeZalo()
    with ServerThread(fake.app) as server:
        fake.url = server.url
        yield fake


def settings_for(
    assistant: Assistant, fake: FakeZalo, tmp_path: Path, rasa_port: int | None = None
) -> Settings:
    url = fake.url
    return gateway_before(assistant.settings, tmp_path, zalo_env(url), rasa_port)


def with_text(fake: FakeZalo, user: str, *words: str) -> dict[str, Any]:
    def found(items: list[dict[str, Any]]) -> bool:
        return any(
            m["user_id"] == user and all(w in m["message"]["text"] for w in words) for m in items
        )

    fake.sent.wait_for(found, timeout=90)
    return next(
        m["message"]
        for m in fake.sent.items
        if m["user_id"] == user and all(w in m["message"]["text"] for w in words)
    )


def test_conversation_with_cited_answer_button_and_token_expiry(
    assistant: Assistant, fake_zalo: FakeZalo, tmp_path: Path
) -> None:
    user = f"84{int(time.time() * 1000)}"  # ids are long digit strings
    with gateway(settings_for(assistant, fake_zalo, tmp_path)) as server:
        started = time.monotonic()
        ack = post_event(
            server.url, text_event(user, "hồ sơ đề nghị đặc xá gồm những giấy tờ gì", "e1")
        )
        assert ack.status_code == 200
        assert time.monotonic() - started < 0.5  # answered before Rasa is asked
        answer = with_text(fake_zalo, user, "Nguồn:", "30/2018/QH14")
        assert all(len(m["message"]["text"]) <= 2000 for m in fake_zalo.sent.items)
        post_event(server.url, {**text_event(user, "xin chào", "e2")})
        greeting = with_text(fake_zalo, user, "không phải quyết định")
        buttons = greeting["attachment"]["payload"]["buttons"]
        fees = next(b for b in buttons if b["title"] == "Chi phí, cảnh báo lừa đảo")
        assert fees["type"] == "oa.query.show"
        fake_zalo.expire()  # the access token runs out mid-conversation
        post_event(server.url, text_event(user, fees["payload"], "e3"))  # the button's payload
        with_text(fake_zalo, user, "biên lai")
    assert [r["ok"] for r in fake_zalo.refreshes.items] == [True]
    assert answer["text"]


def test_typed_slash_text_is_not_an_intent(
    assistant: Assistant, fake_zalo: FakeZalo, tmp_path: Path
) -> None:
    user = f"85{int(time.time() * 1000)}"
    with gateway(settings_for(assistant, fake_zalo, tmp_path)) as server:
        post_event(server.url, text_event(user, "/ask_fees", "s1"))
        fake_zalo.sent.wait_for(lambda items: any(m["user_id"] == user for m in items), 90)
        time.sleep(1)
    assert not any("biên lai" in t for t in fake_zalo.texts(user))


def test_rasa_stopped_busy_reply_then_answered_when_back(
    assistant: Assistant, fake_zalo: FakeZalo, tmp_path: Path
) -> None:
    user = f"86{int(time.time() * 1000)}"
    proxy = TcpProxy(assistant.settings.rasa_port)
    settings = settings_for(assistant, fake_zalo, tmp_path, rasa_port=proxy.port)
    sessions = sessionmaker(make_engine(settings.database_url))
    try:
        with gateway(settings) as server:
            post_event(server.url, text_event(user, "có người đòi tiền chạy đặc xá", "d1"))
            with_text(fake_zalo, user, BUSY_KEPT)
            with sessions() as session:
                assert state.count_kept(session, sender=f"zalo:{user}") == 1
            proxy.up()
            with_text(fake_zalo, user, "Nguồn:")
            assert wait_until_none_kept(sessions, f"zalo:{user}")
    finally:
        proxy.close()
