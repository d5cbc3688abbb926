"""Anything a stranger can send to the webhooks and the chat API gets a 4xx, never a 500:
property tests (hypothesis) plus the cases the December review found (huge timestamp, deep
nesting, a JSON array, a non-ASCII signature), and an empty webhook-secret file."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from bot.channels import telegram
from bot.gateway import create_app
from knowledge.local.files import EmptySecret
from tests.fakes.gateway import gateway_settings
from tests.fakes.server import ServerThread
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.fakes.zalo import signature, zalo_env

SECRET = "s3cret-Token_1"
DEEP = "[" * 100_000 + "]" * 100_000
HUGE_NUMBER = "9" * 400
FEW = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "event_name": st.sampled_from(["user_send_text", "follow", "user_withdraw", "x"])
        | json_values,
        "sender": json_values | st.fixed_dictionaries({"id": json_values}),
        "follower": json_values,
        "user_id": json_values,
        "message": json_values
        | st.fixed_dictionaries({"msg_id": json_values, "text": json_values}),
    },
)
bodies = st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode())


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("malformed")
    fake = FakeTelegram()
    with ServerThread(fake.app) as fake_server:
        settings_ = gateway_settings(
            tmp,
            f"sqlite:///{tmp / 'kb.db'}",
            AMNESTY_TELEGRAM_TOKEN=TOKEN,
            AMNESTY_TELEGRAM_BASE_URL=fake.base_url(fake_server.url),
            AMNESTY_TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/webhook",
            AMNESTY_TELEGRAM_WEBHOOK_SECRET=SECRET,
            AMNESTY_CHANNEL_RATE="1/minute",
            AMNESTY_WEB_ADDRESS_RATE="100000/minute",
            **zalo_env("http://127.0.0.1:9"),
        )
        with TestClient(create_app(settings_)) as test_client:
            assert test_client.get("/").status_code == 200  # the chat cookie
            yield test_client


def zalo(client: TestClient, body: bytes, header: str | bytes | None) -> int:
    headers: dict[str, Any] = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-ZEvent-Signature"] = header
    return client.post("/zalo/webhook", content=body, headers=headers).status_code


@FEW
@given(body=bodies, header=st.none() | st.text(max_size=80).map(lambda t: "mac=" + t))
@example(body=json.dumps({"timestamp": HUGE_NUMBER}).encode(), header="mac=00")
@example(body=b'{"timestamp": 1e400}', header="mac=00")
@example(body=DEEP.encode(), header="mac=00")
@example(body=b'{"timestamp": "1"}', header="mac=ữ")
def test_zalo_webhook_never_fails_on_what_anyone_sends(
    client: TestClient, body: bytes, header: str | None
) -> None:
    encoded = header.encode("utf-8") if header is not None else None
    assert zalo(client, body, encoded) in {401, 413}


@FEW
@given(event=event_like)
def test_zalo_webhook_never_fails_on_signed_events_of_any_shape(
    client: TestClient, event: dict[str, Any]
) -> None:
    event["timestamp"] = str(int(time.time() * 1000))
    body = json.dumps(event).encode()
    assert zalo(client, body, signature(body, event["timestamp"])) == 200


@FEW
@given(body=bodies)
@example(body=b"[1, 2, 3]")
@example(body=DEEP.encode())
@example(body=b'{"update_id": "x", "message": 5}')
def test_telegram_webhook_never_fails_on_what_anyone_sends(client: TestClient, body: bytes) -> None:
    headers = {telegram.SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    assert client.post("/telegram/webhook", content=body, headers=headers).status_code in {
        200,
        400,
    }
    wrong = client.post(
        "/telegram/webhook",
        content=body,
        headers={telegram.SECRET_HEADER: "ữ".encode()},  # type: ignore[arg-type]
    )
    assert wrong.status_code == 403


@FEW
@given(body=bodies)
@example(body=DEEP.encode())
@example(body=b'["text"]')
@example(body=b'{"text": ["x"], "payload": {"a": 1}, "key": 5}')
def test_chat_api_never_fails_on_what_anyone_sends(client: TestClient, body: bytes) -> None:
    response = client.post(
        "/api/messages", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in {200, 202, 400, 429}
    assert "error" in response.json() or "replies" in response.json()


def test_a_body_too_large_is_refused_before_it_is_read(client: TestClient) -> None:
    big = b'{"text": "' + b"a" * 300_000 + b'"}'
    assert client.post("/api/messages", content=big).status_code == 413
    assert zalo(client, big, b"mac=00") == 413


def test_an_empty_webhook_secret_file_is_refused(tmp_path: Path) -> None:
    settings_ = gateway_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    settings_.var_dir.mkdir(parents=True)
    (settings_.var_dir / "telegram_webhook_secret").touch()  # left by a crash
    with pytest.raises(EmptySecret):
        telegram.webhook_secret(settings_)
