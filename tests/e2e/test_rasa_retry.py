"""The gateway against the real Rasa server: a dead replica is skipped, and two gateway
replicas resending kept messages at once answer each only once (PostgreSQL row claim)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from bot.channels.inbox import DELIVERED, Delivery, Inbox
from bot.channels.rasa_client import RasaClient, RasaUnavailable, Reply
from bot.ops.stack import free_port
from knowledge import channels as state
from knowledge.db import create_schema, make_engine
from settings import secret
from tests.databases import postgres_schema_url
from tests.e2e.conftest import Assistant
from tests.fakes.gateway import gateway_before


def send(client: RasaClient, text: str) -> list[Reply]:
    async def run() -> list[Reply]:
        try:
            return await client.send("retry-test", text, {"delivery_key": "retry:1"})
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_a_closed_replica_is_skipped_for_the_live_one(assistant: Assistant) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    rest = secret(assistant.settings, "rest_secret")
    client = RasaClient((dead, assistant.settings.rasa_url), timeout=60, secret=rest)
    replies = send(client, "xin chào")
    assert replies and replies[0].text


def test_only_closed_replicas_give_rasa_unavailable_after_bounded_tries() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    client = RasaClient(dead, timeout=5, backoff=0.05, secret="nobody-listens")
    started = time.monotonic()
    with pytest.raises(RasaUnavailable, match="after 3 tries: ConnectError"):
        send(client, "xin chào")
    assert time.monotonic() - started < 2  # 0.05 + 0.1 s of backoff, refusals are instant


def test_two_gateway_replicas_resending_at_once_answer_a_kept_message_once(
    assistant: Assistant, tmp_path: Path
) -> None:
    with postgres_schema_url() as url:
        settings = gateway_before(assistant.settings, tmp_path, {"AMNESTY_DATABASE_URL": url})
        engine = make_engine(url)
        create_schema(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        with sessions.begin() as session:
            state.keep_message(
                session, sender="zalo:61", message="đặc xá là gì", delivery_key="zalo:k61"
            )
        delivered: list[str] = []

        async def record(sender: str, replies: list[Reply]) -> Delivery:
            delivered.append(sender)
            return DELIVERED

        async def both() -> list[int]:
            # In-memory state: no Redis lock between them, only the database claim.
            replicas = [
                Inbox(
                    settings,
                    RasaClient(
                        settings.rasa_urls, timeout=60, secret=secret(settings, "rest_secret")
                    ),
                    sessions,
                )
                for _ in range(2)
            ]
            for inbox in replicas:
                inbox.deliverers["zalo"] = record
            try:
                return list(await asyncio.gather(*(r.resend_kept() for r in replicas)))
            finally:
                for inbox in replicas:
                    await inbox.rasa.aclose()

        done = asyncio.run(both())
        engine.dispose()
    assert delivered == ["zalo:61"]
    assert sorted(done) == [0, 1]
