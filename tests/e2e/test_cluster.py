"""The scale-out cluster: 2 Rasa replicas and 2 action servers behind nginx, one gateway.

Real PostgreSQL (a scratch database for the tracker and the knowledge base) and Redis (Rasa's
lock store); skipped with the reason when either, or nginx, is missing.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, func, select, text

from bot.channels.inbox import BUSY_KEPT
from bot.channels.webchat import BUSY, COOKIE, signer
from bot.ops.cluster import Cluster, Ports, cluster_settings, unreachable_services
from bot.ops.stack import free_port
from bot.ops.training import model_file
from knowledge.__main__ import load
from knowledge.db import session_factory
from knowledge.models import FeedbackItem
from settings import REST_SECRET_HEADER, ROOT, from_env, secret
from tests.databases import postgres_database_url
from tests.e2e.conftest import joined
from tests.e2e.test_feedback_chat import REFERENCE, STORY

REDIS_URL = "redis://127.0.0.1:6379/0"
LOCK_LIFETIME = 20
# One turn on 2 shared, loaded cores takes seconds; a turn waiting behind another one of its
# family takes both. Generous: a timeout here proves nothing about the order.
TURN_TIMEOUT = 120
CASE = "kiểm tra giúp em: chồng em bị 6 năm tù tội trộm cắp tài sản"
ANSWERS = ("4 năm", "tốt", "đã nộp xong", "không phải bồi thường", "0", "chưa", "không")
SEND = '/give_feedback{"feedback_send":"yes"}'


@pytest.fixture(scope="module")
def scratch_database() -> Iterator[str]:
    """A PostgreSQL database of its own (tracker and knowledge base), dropped at the end."""
    with postgres_database_url("amnesty_cl") as url:
        yield url


@pytest.fixture(scope="module")
def cluster(scratch_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    model = model_file()
    if not model.exists():
        pytest.fail(f"No trained model {model.name} for the current data: run `make train`.")
    base = from_env(
        {
            "AMNESTY_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            "AMNESTY_DATABASE_URL": scratch_database,
            "AMNESTY_REDIS_URL": REDIS_URL,
            # Production's value (deploy/amnesty-rasa@.service). It must exceed the slowest
            # turn: a holder's ticket expires this long after it was issued, whatever it is
            # doing. 10 s was below the eligibility turn on 2 loaded cores.
            "AMNESTY_LOCK_LIFETIME": str(LOCK_LIFETIME),
        }
    )
    ports = Ports(
        free_port(),
        free_port(),
        free_port(),
        (free_port(), free_port()),
        (free_port(), free_port()),
    )
    settings = cluster_settings(base, ports)
    problems = unreachable_services(settings)
    if problems:
        pytest.skip("; ".join(problems))
    assert load(settings.database_url) == 0
    running = Cluster(settings, model, ports)
    # Sixteen families at once from this one address: lift the web chat's per-address limit.
    os.environ["AMNESTY_WEB_ADDRESS_RATE"] = "100000/minute"
    try:
        running.start()
        yield running
    finally:
        running.stop()
        os.environ.pop("AMNESTY_WEB_ADDRESS_RATE", None)


def send(cluster: Cluster, url: str, sender: str, message: str) -> str:
    """One message straight to one Rasa server's REST channel; the bot's joined text."""
    response = httpx.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        headers={REST_SECRET_HEADER: secret(cluster.settings, "rest_secret")},
        timeout=TURN_TIMEOUT,
    )
    response.raise_for_status()
    return joined(response.json())


def tracker_events(cluster: Cluster, sender: str) -> list[dict[str, Any]]:
    url = cluster.settings.rasa_replicas[0]
    response = httpx.get(
        f"{url}/conversations/{sender}/tracker", params={"token": cluster.token}, timeout=30
    )
    response.raise_for_status()
    return response.json()["events"]


def test_endpoints_use_the_lock_store_and_the_actions_balancer(cluster: Cluster) -> None:
    endpoints = yaml.load(
        (cluster.directory / "endpoints.yml").read_text("utf-8"), Loader=yaml.CSafeLoader
    )
    assert endpoints["lock_store"]["type"] == "nlu.lock_store.PatientRedisLockStore"
    assert endpoints["action_endpoint"]["url"] == cluster.settings.actions_url
    assert str(cluster.ports.actions_lb) in (cluster.settings.actions_url or "")


def test_a_form_answered_on_alternate_replicas_keeps_its_state(cluster: Cluster) -> None:
    a, b = cluster.settings.rasa_replicas
    sender = f"cl-alt-{uuid.uuid4().hex[:6]}"
    first = send(cluster, a, sender, CASE)
    assert "mức án" not in first.lower()  # the case was read on replica A
    reply = ""
    for i, answer in enumerate(ANSWERS):
        reply = send(cluster, b if i % 2 == 0 else a, sender, answer)
    assert "Kết quả tự kiểm tra" in reply
    # every fact was kept across replicas: only the round's own time figure is missing
    assert "? Thời gian đã chấp hành: Đã chấp hành khoảng 4 năm" in reply
    assert "Còn thiếu: mức thời gian chính thức của đợt" in reply


def two_messages_at_once(cluster: Cluster) -> None:
    """Send one sender's two turns 50 ms apart to replicas A and B; check the tracker."""
    a, b = cluster.settings.rasa_replicas
    sender = f"cl-order-{uuid.uuid4().hex[:6]}"
    send(cluster, a, sender, "xin chào")  # the session exists before the race
    second = "hồ sơ đặc xá gồm những gì"
    replies: dict[str, str] = {}
    took: dict[str, float] = {}

    def post(url: str, message: str, delay: float) -> None:
        time.sleep(delay)
        started = time.monotonic()
        replies[message] = send(cluster, url, sender, message)
        took[message[:12]] = round(time.monotonic() - started, 1)

    # 50 ms apart: Rasa's Redis ticket is a read-then-write, so two arrivals within the
    # same millisecond could both get the first ticket (see docs/deployment.md).
    threads = [
        threading.Thread(target=post, args=(a, CASE, 0.0)),
        threading.Thread(target=post, args=(b, second, 0.05)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TURN_TIMEOUT + 30)
    # Seconds per turn, for a failure: a first turn longer than the lifetime lost its lock.
    timing = f"seconds per turn {took}, lock lifetime {LOCK_LIFETIME} s"
    assert replies.get(CASE) and replies.get(second), timing
    events = tracker_events(cluster, sender)
    kinds = [e["event"] for e in events]
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    assert len(users) == 3, (kinds, timing)  # "xin chào", then the two sent at once
    first_turn, second_turn = users[1], users[2]
    assert "6 năm" in events[first_turn]["text"], timing  # the order of arrival
    assert "hồ sơ" in events[second_turn]["text"], timing
    assert "bot" in kinds[first_turn:second_turn], (kinds, timing)  # the first answered first
    assert "bot" in kinds[second_turn:], (kinds, timing)


def test_two_messages_at_once_on_two_replicas_are_handled_in_order(cluster: Cluster) -> None:
    """Three times. With per-process (in-memory) locks both turns run at once and the second
    turn's events are lost: that failed 4 runs in 5 (docs/deployment.md), so all 3 passing
    by luck is under 1 %."""
    for _ in range(3):
        two_messages_at_once(cluster)


def test_a_conversation_silent_for_an_hour_starts_a_new_session(cluster: Cluster) -> None:
    """domain.yml's session_expiration_time (60 min) holds on any replica: the clock is the
    last event's time in the shared tracker store."""
    a, b = cluster.settings.rasa_replicas
    sender = f"cl-expiry-{uuid.uuid4().hex[:6]}"
    assert "Mức án" in send(
        cluster, a, sender, "tôi muốn tự kiểm tra điều kiện đặc xá cho chồng"
    ) + send(cluster, a, sender, "tù có thời hạn")
    engine = create_engine(cluster.settings.tracker_url)
    with engine.begin() as conn:  # as if the family wrote last 61 minutes ago
        conn.execute(
            text(
                "UPDATE events SET timestamp = timestamp - 3660, data = jsonb_set("
                "data::jsonb, '{timestamp}', to_jsonb((data::jsonb->>'timestamp')::float - 3660)"
                ")::text WHERE sender_id = :sender"
            ),
            {"sender": sender},
        )
    engine.dispose()
    reply = send(cluster, b, sender, "5 năm")
    assert "chấp hành được bao lâu" not in reply  # the old form is not continued
    events = tracker_events(cluster, sender)  # every session's events
    starts = [i for i, e in enumerate(events) if e["event"] == "session_started"]
    assert len(starts) == 2, [e["event"] for e in events]
    latest = events[starts[-1] :]
    assert [e["text"] for e in latest if e["event"] == "user"] == ["5 năm"]


async def web_talk(
    client: httpx.AsyncClient, turns: list[dict[str, str]], answered: list[str]
) -> list[str]:
    """One family's turns through the gateway's web chat API; every reply's text."""
    texts = []
    for body in turns:
        response = await client.post("/api/messages", json=body, timeout=60)
        assert response.status_code < 400, (body, response.status_code, response.text)
        data = response.json()
        texts.append("\n".join(r["text"] for r in data["replies"]))
        answered.append(texts[-1])
    return texts


async def load_with_a_kill(
    cluster: Cluster, families: dict[str, list[dict[str, str]]]
) -> dict[str, list[str]]:
    """Every family talks at once; rasa-2 is SIGKILLed once 12 replies came back."""
    answered: list[str] = []
    base = f"http://{cluster.settings.host}:{cluster.ports.web}"

    async def one(chat_id: str, turns: list[dict[str, str]]) -> list[str]:
        # The cookie the page would have set: this browser id, signed with the gateway's key.
        cookie = signer(cluster.settings).dumps(chat_id)
        async with httpx.AsyncClient(base_url=base, cookies={COOKIE: cookie}) as client:
            return await web_talk(client, turns, answered)

    async def killer() -> None:
        while len(answered) < 12:  # in the middle of the load
            await asyncio.sleep(0.05)
        await asyncio.to_thread(cluster.kill, "rasa-2")

    results = await asyncio.gather(
        killer(), *(one(chat_id, turns) for chat_id, turns in families.items())
    )
    replies = cast(list[list[str]], results[1:])  # results[0] is killer()'s None
    return dict(zip(families, replies, strict=True))


def test_a_replica_killed_under_load_loses_no_answer_and_no_feedback(cluster: Cluster) -> None:
    heldout = yaml.load(
        (ROOT / "tests" / "heldout" / "heldout.yml").read_text("utf-8"), Loader=yaml.CSafeLoader
    )
    questions = [q["text"] for q in heldout["splits"]["with_diacritics"]][:32]
    run = uuid.uuid4().hex[:6]
    feedback = [{"text": STORY}, {"payload": SEND}, {"text": "không"}, {"text": "gửi"}]
    families = {f"{run}fb{i}": list(feedback) for i in range(8)}
    for i in range(8):
        families[f"{run}q{i}"] = [{"text": q} for q in questions[i * 4 : i * 4 + 4]]
    results = asyncio.run(load_with_a_kill(cluster, families))
    assert "rasa-2" not in {name for name, _ in cluster.processes}  # it was killed
    unanswered = [
        (chat_id, turn)
        for chat_id, texts in results.items()
        for turn, reply in enumerate(texts)
        if not reply.strip() or reply in (BUSY, BUSY_KEPT)
    ]
    unfinished = [
        c for c, texts in results.items() if "fb" in c and not REFERENCE.search(texts[-1])
    ]
    with session_factory(cluster.settings.database_url)() as session:
        counts = dict(
            session.execute(
                select(FeedbackItem.sender_id, func.count())
                .where(FeedbackItem.sender_id.like(f"web:{run}%"))
                .group_by(FeedbackItem.sender_id)
            )
            .tuples()
            .all()
        )
    expected = {f"web:{chat_id}": 1 for chat_id in families if "fb" in chat_id}
    assert (unanswered, unfinished, counts) == ([], [], expected)


def test_the_killed_replica_comes_back(cluster: Cluster) -> None:
    if "rasa-2" in {name for name, _ in cluster.processes}:
        pytest.skip("rasa-2 was not killed (the test before did not run)")
    cluster.start_rasa(1)
    cluster.wait_ready()
    assert "Nguồn:" in send(
        cluster, cluster.settings.rasa_replicas[1], "cl-back", "hồ sơ đặc xá gồm những gì"
    )
