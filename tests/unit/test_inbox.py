"""The channel-neutral inbox: what reaches Rasa as an intent, retries, kept messages."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.inbox import BUSY_KEPT, DELIVERED, Delivery, Handled, Inbox, Incoming, Outcome
from bot.channels.rasa_client import RasaClient, Reply
from bot.ops.stack import channel_lines
from bot.shared_state import MAX_BUTTONS
from knowledge import channels as state
from settings import Settings
from tests.fakes.gateway import gateway_settings

FEES = {"title": "Chi phí", "payload": "/ask_fees"}


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return gateway_settings(tmp_path, db_url)  # Rasa's port: nothing listens


@pytest.fixture
def inbox(settings: Settings, session_maker: sessionmaker[Session]) -> Iterator[Inbox]:
    yield Inbox(settings, RasaClient(settings.rasa_url, timeout=2, secret="x"), session_maker)


def test_only_offered_payloads_become_intents(inbox: Inbox) -> None:
    typed = Incoming("zalo:1", "/ask_fees", "zalo:a")

    async def run() -> None:
        assert await inbox.to_rasa(typed) == "\u200b/ask_fees"
        await inbox.offer("zalo:2", [FEES])
        assert await inbox.to_rasa(typed) == "\u200b/ask_fees"  # offered to someone else
        await inbox.offer("zalo:1", [FEES])
        assert await inbox.to_rasa(typed) == "/ask_fees"
        about = Incoming("zalo:1", "hỏi về /ask_fees", "zalo:b")
        assert (await inbox.to_rasa(about)).startswith("hỏi")
        start = Incoming("telegram:1", "/start", "t:1", payload="/greet")
        assert await inbox.to_rasa(start) == "/greet"
        await inbox.forget("zalo:1")
        assert await inbox.to_rasa(typed) == "\u200b/ask_fees"

    asyncio.run(run())


def test_button_ids_are_short_and_bounded(inbox: Inbox) -> None:
    async def run() -> None:
        ids = await inbox.offer("telegram:1", [FEES] * (MAX_BUTTONS + 5))
        assert all(len(str(i).encode()) <= 64 for i in ids)
        assert await inbox.offered_button("telegram:1", ids[0]) is None  # oldest forgotten
        assert await inbox.offered_button("telegram:1", ids[-1]) == FEES
        assert await inbox.offered_button("telegram:2", ids[-1]) is None

    asyncio.run(run())


def test_message_is_kept_whole_when_rasa_is_down_and_a_retry_is_ignored(
    inbox: Inbox, session_maker: sessionmaker[Session]
) -> None:
    text = "Mẹ em bị kết án 12 năm. " * 400

    async def deliver_twice() -> list[Handled]:
        message = Incoming("telegram:9", text, "telegram:1")
        results = [await inbox.handle(message), await inbox.handle(message)]
        await inbox.rasa.aclose()
        return results

    first, second = asyncio.run(deliver_twice())
    assert first == Handled(Outcome.KEPT, [Reply(BUSY_KEPT)])
    assert second == Handled(Outcome.REPEATED, [])
    with session_maker() as session:
        [kept] = state.kept_messages(session)
    assert kept.message == text


def test_resend_keeps_messages_while_rasa_is_still_down(
    inbox: Inbox, session_maker: sessionmaker[Session]
) -> None:
    delivered: list[tuple[str, list[Reply]]] = []

    async def record(sender: str, replies: list[Reply]) -> Delivery:
        delivered.append((sender, replies))
        return DELIVERED

    async def run() -> int:
        inbox.deliverers["zalo"] = record
        await inbox.handle(Incoming("zalo:3", "câu một", "zalo:m1"))
        await inbox.handle(Incoming("zalo:3", "câu hai", "zalo:m2"))
        done = await inbox.resend_kept()
        await inbox.rasa.aclose()
        return done

    assert asyncio.run(run()) == 0
    assert delivered == []
    with session_maker() as session:
        kept = state.kept_messages(session)
    assert [k.message for k in kept] == ["câu một", "câu hai"]
    # The first was tried again before the second (which waits behind it) and by the
    # resender; the second was never sent ahead of the first.
    assert [k.attempts for k in kept] == [3, 1]


def test_launcher_says_why_a_channel_is_skipped(tmp_path: Path) -> None:
    bare = gateway_settings(tmp_path, "sqlite://")
    assert channel_lines(bare) == [
        "Telegram: not started (AMNESTY_TELEGRAM_TOKEN is not set)",
        "Zalo: not started (AMNESTY_ZALO_APP_ID, AMNESTY_ZALO_SECRET_KEY, "
        "AMNESTY_ZALO_APP_SECRET are not set)",
    ]
    configured = gateway_settings(
        tmp_path,
        "sqlite://",
        AMNESTY_TELEGRAM_TOKEN="1:x",
        AMNESTY_ZALO_APP_ID="1",
        AMNESTY_ZALO_SECRET_KEY="k",
        AMNESTY_ZALO_APP_SECRET="s",
    )
    telegram_line, zalo_line = channel_lines(configured)
    assert telegram_line.startswith("Telegram: started (long polling")
    assert "/zalo/webhook" in zalo_line
