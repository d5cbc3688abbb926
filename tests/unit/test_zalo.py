"""The Zalo channel against a fake OA API on loopback; Rasa is down here (nothing listens).

With Rasa down every accepted message gets exactly one "kept" reply, which makes "answered
once" and "nothing processed" countable without a model. Conversations with the real Rasa
are in tests/e2e/test_zalo.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.channels import zalo
from bot.channels.inbox import BUSY_KEPT, RATE_LIMITED, Inbox
from bot.channels.rasa_client import RasaClient, Reply
from knowledge import channels as state
from knowledge.db import create_schema, make_engine
from knowledge.staff import recent_audit
from settings import Settings
from tests.fakes.gateway import channel_rows, gateway, gateway_settings
from tests.fakes.server import ServerThread
from tests.fakes.zalo import FakeZalo, event, post_event, signature, text_event, zalo_env


def count_is(n: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda items: len(items) == n


@pytest.fixture
def fake_zalo() -> Iterator[FakeZalo]:
    fake = FakeZalo()
    with ServerThread(fake.app) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def settings(tmp_path: Path, db_url: str, fake_zalo: FakeZalo) -> Settings:
    return gateway_settings(tmp_path, db_url, **zalo_env(fake_zalo.url))


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.database_url)
    create_schema(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def server(settings: Settings) -> Iterator[ServerThread]:
    with gateway(settings) as running:
        yield running


def settle() -> None:
    """Long enough for a background task that would wrongly run to show its effect."""
    time.sleep(1.0)


# --- Signature --------------------------------------------------------------------------


def test_signature_is_sha256_of_app_id_body_timestamp_and_oa_secret(settings: Settings) -> None:
    body = json.dumps(text_event("1", "xin chào", "m1")).encode()
    stamp = json.loads(body)["timestamp"]
    assert zalo.verify_signature(body, signature(body, stamp), settings)
    assert not zalo.verify_signature(body, signature(body, stamp, secret="app-secret"), settings)
    assert not zalo.verify_signature(body + b" ", signature(body, stamp), settings)
    assert not zalo.verify_signature(body, signature(body, stamp).upper()[4:], settings)


@pytest.mark.parametrize("kind", ["forged", "missing", "stale", "garbage", "tampered"])
def test_bad_signature_is_rejected_and_nothing_processed(
    kind: str, server: ServerThread, fake_zalo: FakeZalo, sessions: sessionmaker[Session]
) -> None:
    old = int((time.time() - 3600) * 1000)
    payload = text_event(
        "111", "điều kiện đặc xá", "m-bad", timestamp=old if kind == "stale" else None
    )
    body = json.dumps(payload, ensure_ascii=False).encode()
    header = {
        "forged": signature(body, payload["timestamp"], secret="guessed"),
        "missing": None,
        "stale": "valid",
        "garbage": "mac=00",
        "tampered": signature(body.replace(b"111", b"222"), payload["timestamp"]),
    }[kind]
    response = post_event(server.url, payload, header=header)
    assert response.status_code == 401
    settle()
    assert fake_zalo.sent.items == []
    assert channel_rows(sessions) == {"deliveries": 0, "kept": 0, "undelivered": 0}


# --- Receiving --------------------------------------------------------------------------


def test_text_is_acknowledged_and_kept_while_rasa_is_down(
    server: ServerThread, fake_zalo: FakeZalo, sessions: sessionmaker[Session]
) -> None:
    long_text = "Chồng em bị kết án 6 năm tù. " * 200  # longer than the model parses
    response = post_event(server.url, text_event("111", long_text, "m-1"))
    assert response.status_code == 200
    fake_zalo.sent.wait_for(lambda items: len(items) == 1)
    assert fake_zalo.texts("111") == [BUSY_KEPT]
    with sessions() as session:
        [kept] = state.kept_messages(session)
    assert (kept.sender, kept.message, kept.delivery_key) == ("zalo:111", long_text, "zalo:m-1")


def test_same_event_three_times_is_answered_once(
    server: ServerThread, fake_zalo: FakeZalo, sessions: sessionmaker[Session]
) -> None:
    payload = text_event("222", "hồ sơ gồm những gì", "m-dup")
    for _ in range(3):
        assert post_event(server.url, payload).status_code == 200
    fake_zalo.sent.wait_for(lambda items: len(items) >= 1)
    settle()
    assert fake_zalo.texts("222") == [BUSY_KEPT]
    assert channel_rows(sessions) == {"deliveries": 1, "kept": 1, "undelivered": 0}


def test_echo_of_the_oa_own_message_is_ignored(
    server: ServerThread, fake_zalo: FakeZalo, sessions: sessionmaker[Session]
) -> None:
    echo = event("oa_send_text", "333", message={"text": "Xin chào", "msg_id": "echo-1"})
    assert post_event(server.url, echo).status_code == 200
    settle()
    assert fake_zalo.sent.items == []
    assert channel_rows(sessions)["deliveries"] == 0


def test_sticker_gets_a_polite_text_once(server: ServerThread, fake_zalo: FakeZalo) -> None:
    sticker = event("user_send_sticker", "444", message={"msg_id": "st-1"})
    for _ in range(2):
        assert post_event(server.url, sticker).status_code == 200
    fake_zalo.sent.wait_for(lambda items: len(items) == 1)
    settle()
    assert fake_zalo.texts("444") == [zalo.UNSUPPORTED]


def test_follow_asks_rasa_for_the_greeting(
    server: ServerThread, fake_zalo: FakeZalo, sessions: sessionmaker[Session]
) -> None:
    follow = {**event("follow", "555"), "follower": {"id": "555"}}
    del follow["sender"]
    assert post_event(server.url, follow).status_code == 200
    fake_zalo.sent.wait_for(lambda items: len(items) == 1)
    with sessions() as session:
        [kept] = state.kept_messages(session)
    assert (kept.sender, kept.message) == ("zalo:555", "/greet")


def test_rate_limit_gets_a_polite_reply(
    tmp_path: Path, db_url: str, fake_zalo: FakeZalo, sessions: sessionmaker[Session]
) -> None:
    limited = gateway_settings(
        tmp_path,
        db_url,
        AMNESTY_CHANNEL_RATE="2/minute",
        **zalo_env(fake_zalo.url),
    )
    with gateway(limited) as server:
        for n in range(3):
            post_event(server.url, text_event("666", f"câu hỏi {n}", f"m-rate-{n}"))
            fake_zalo.sent.wait_for(count_is(n + 1))
        post_event(server.url, text_event("666", "câu hỏi 3", "m-rate-3"))
        settle()
    # One notice per window: a reply to every extra message would spend the send quota.
    assert fake_zalo.texts("666") == [BUSY_KEPT, BUSY_KEPT, RATE_LIMITED]
    assert channel_rows(sessions)["kept"] == 2


def test_withdraw_deletes_the_family_data(
    server: ServerThread, fake_zalo: FakeZalo, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    tracker = create_engine(settings.tracker_url)
    with tracker.begin() as conn:
        conn.execute(
            text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, timestamp REAL)")
        )
        conn.execute(
            text("INSERT INTO events (sender_id, timestamp) VALUES ('zalo:777', 1), ('zalo:8', 1)")
        )
    post_event(server.url, text_event("777", "em muốn góp ý", "m-w"))
    fake_zalo.sent.wait_for(lambda items: len(items) == 1)
    withdraw = {**event("user_withdraw", "777"), "user_id": "777", "oa_id": "oa"}
    del withdraw["sender"]
    assert post_event(server.url, withdraw).status_code == 200
    deadline = time.monotonic() + 10
    while channel_rows(sessions)["kept"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert channel_rows(sessions) == {"deliveries": 0, "kept": 0, "undelivered": 0}
    with tracker.connect() as conn:
        assert conn.execute(text("SELECT sender_id FROM events")).scalars().all() == ["zalo:8"]
    tracker.dispose()
    assert len(fake_zalo.sent.items) == 1  # no message is sent to someone who withdrew
    with sessions() as session:  # the deletion is audited, by the channel that asked for it
        [entry] = [e for e in recent_audit(session) if e.action == "family_forgotten"]
    assert entry.actor == "zalo" and "777" not in entry.target


def test_parse_event_ignores_receipts_and_echoes() -> None:
    for name in ("oa_send_text", "oa_send_image", "user_seen_message", "user_received_message"):
        assert zalo.parse_event(event(name, "1", message={"msg_id": "x"})) is None
    assert zalo.parse_event("not an event") is None
    parsed = zalo.parse_event(text_event("12345678901234567890", "chào", "mid"))
    assert parsed == zalo.ZaloEvent("text", "zalo:12345678901234567890", "zalo:mid", "chào")


# --- Sending: OA API v3, tokens, error codes ---------------------------------------------


def client_for(settings: Settings) -> tuple[zalo.ZaloClient, sessionmaker[Session]]:
    """A client with its own engine, as another process would have."""
    engine = make_engine(settings.database_url)
    create_schema(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    zalo.seed_token(settings, sessions)
    return zalo.ZaloClient(settings, sessions, backoff=0.01), sessions


def test_buttons_are_sent_as_query_show_and_long_text_is_split() -> None:
    reply = Reply("Câu trả lời dài. " * 300, [{"title": "Hồ sơ", "payload": "/ask_documents"}])
    messages = zalo.to_messages(reply, 2000)
    assert len(messages) > 1
    assert all(len(m["text"]) <= 2000 for m in messages)
    assert "attachment" not in messages[0]
    assert messages[-1]["attachment"]["payload"]["buttons"] == [
        {"title": "Hồ sơ", "payload": "/ask_documents", "type": "oa.query.show"}
    ]


def test_expired_token_mid_conversation_is_refreshed_and_message_delivered(
    settings: Settings, fake_zalo: FakeZalo, sessions: sessionmaker[Session]
) -> None:
    async def conversation() -> None:
        client, _ = client_for(settings)
        await client.send("900", {"text": "tin thứ nhất"})
        fake_zalo.expire()
        await client.send("900", {"text": "tin thứ hai"})
        await client.aclose()

    asyncio.run(conversation())
    assert fake_zalo.texts("900") == ["tin thứ nhất", "tin thứ hai"]
    assert [r["ok"] for r in fake_zalo.refreshes.items] == [True]
    with sessions() as session:
        pair = state.current_token(session, "zalo")
    assert pair is not None
    assert (pair.access_token, pair.refresh_token) == (
        fake_zalo.access_token,
        fake_zalo.refresh_token,
    )
    assert pair.expires_at is not None


def test_two_refreshes_racing_spend_the_refresh_token_once(
    settings: Settings, fake_zalo: FakeZalo, sessions: sessionmaker[Session]
) -> None:
    async def race() -> None:
        (a, _), (b, _) = client_for(settings), client_for(settings)
        fake_zalo.expire()
        await asyncio.gather(
            *(c.send("901", {"text": f"tin {n}"}) for n, c in enumerate([a, b] * 3))
        )
        await a.aclose()
        await b.aclose()

    asyncio.run(race())
    assert sorted(fake_zalo.texts("901")) == [f"tin {n}" for n in range(6)]
    assert [r["ok"] for r in fake_zalo.refreshes.items] == [True]
    with sessions() as session:
        pair = state.current_token(session, "zalo")
    assert pair is not None
    assert (pair.access_token, pair.refresh_token) == (
        fake_zalo.access_token,
        fake_zalo.refresh_token,
    )


def test_rate_limit_is_retried_with_backoff(settings: Settings, fake_zalo: FakeZalo) -> None:
    fake_zalo.script = [-32, -32]

    async def send() -> None:
        client, _ = client_for(settings)
        await client.send("902", {"text": "chậm lại"})
        await client.aclose()

    asyncio.run(send())
    assert fake_zalo.texts("902") == ["chậm lại"]


def test_outside_the_window_is_recorded_not_retried(
    settings: Settings, fake_zalo: FakeZalo, sessions: sessionmaker[Session]
) -> None:
    fake_zalo.script = [-230, -230, -230]

    async def deliver() -> None:
        client, own = client_for(settings)
        inbox = Inbox(settings, RasaClient(settings.rasa_url, secret="x"), own)
        channel = zalo.ZaloChannel(settings, inbox, client, inbox.received)
        await channel.deliver("zalo:903", [Reply("Câu trả lời của cán bộ."), Reply("Phần hai.")])
        await channel.aclose()
        await inbox.rasa.aclose()

    asyncio.run(deliver())
    assert fake_zalo.script == [-230, -230]  # asked once, then given up
    with sessions() as session:
        [row] = state.undelivered(session, sender="zalo:903")
    assert "-230" in row.error
    assert row.text == "Câu trả lời của cán bộ.\n\nPhần hai."


def test_refused_refresh_says_to_authorise_again(settings: Settings, fake_zalo: FakeZalo) -> None:
    async def send() -> None:
        client, _ = client_for(settings)
        fake_zalo.expire()
        fake_zalo.refresh_token = "rotated-elsewhere"
        try:
            with pytest.raises(zalo.ZaloRefused, match="authorise the OA again"):
                await client.send("904", {"text": "x"})
        finally:
            await client.aclose()

    asyncio.run(send())


def test_rotated_pair_survives_a_restart_and_a_new_authorisation_replaces_it(
    settings: Settings, fake_zalo: FakeZalo, sessions: sessionmaker[Session]
) -> None:
    async def refresh_once() -> None:
        client, _ = client_for(settings)
        fake_zalo.expire()
        await client.send("905", {"text": "x"})
        await client.aclose()

    asyncio.run(refresh_once())
    zalo.seed_token(settings, sessions)  # a restart with the same configuration
    with sessions() as session:
        token = state.current_token(session, "zalo")
        assert token is not None and token.refresh_token == fake_zalo.refresh_token
    again = replace(settings, zalo_access_token="access-new", zalo_refresh_token="refresh-new")
    zalo.seed_token(again, sessions)
    with sessions() as session:
        pair = state.current_token(session, "zalo")
    assert pair is not None
    assert (pair.access_token, pair.refresh_token) == ("access-new", "refresh-new")
