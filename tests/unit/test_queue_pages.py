"""The queue page through Starlette's TestClient: roles, CSRF, escaping, the four actions."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.gateway import create_app
from knowledge.db import session_factory
from knowledge.kb.queries import entry_by_key
from knowledge.kb.queue import record_question
from knowledge.models import QueuedQuestion, StaffTrainingExample
from knowledge.staff import recent_audit
from settings import Settings, from_env
from tests.unit.test_staff_app import add_account, csrf_of, login

ATTACK = 'bố em <script>alert("x")</script> gọi 0912345678'


@pytest.fixture
def queue_settings(loaded: sessionmaker[Session], db_url: str, tmp_path: Path) -> Settings:
    return from_env({"AMNESTY_VAR_DIR": str(tmp_path / "var"), "AMNESTY_DATABASE_URL": db_url})


@pytest.fixture
def client(queue_settings: Settings) -> Iterator[TestClient]:
    app = create_app(queue_settings)
    for name, role in [("bientap", "editor"), ("xuly", "reviewer"), ("quantri", "admin")]:
        add_account(queue_settings, name, role)
    yield TestClient(app)


def queue(settings: Settings, *texts: str, **facts: str) -> list[int]:
    ids = []
    with session_factory(settings.database_url).begin() as db:
        for text in texts:
            question = record_question(
                db,
                text=text,
                reason=facts.get("reason", "fallback"),
                channel=facts.get("channel", "zalo"),
                intent=facts.get("intent"),
            )
            assert question is not None
            ids.append(question.id)
    return ids


def stored(settings: Settings) -> dict[int, QueuedQuestion]:
    with session_factory(settings.database_url)() as db:
        return {q.id: q for q in db.scalars(select(QueuedQuestion))}


def editor(client: TestClient) -> TestClient:
    assert login(client, "bientap").status_code == 303
    return client


def post_group(client: TestClient, ids: list[int], **data: str) -> httpx2.Response:
    token = csrf_of(client, f"/staff/queue/{ids[0]}")
    form: dict[str, object] = {"csrf": token, "ids": [str(i) for i in ids], **data}
    return client.post(f"/staff/queue/{ids[0]}", data=form, follow_redirects=False)


def test_only_editors_see_the_queue(client: TestClient, queue_settings: Settings) -> None:
    [qid] = queue(queue_settings, "câu hỏi của gia đình")
    response = client.get("/staff/queue", follow_redirects=False)
    assert (
        response.status_code == 303
        and "/staff/login?next=/staff/queue" in response.headers["location"]
    )
    for name in ("xuly", "quantri"):
        assert login(client, name).status_code == 303
        assert "Câu hỏi chưa trả lời được" not in client.get("/staff/").text
        for path in ("/staff/queue", f"/staff/queue/{qid}"):
            page = client.get(path)
            assert page.status_code == 403 and "câu hỏi của gia đình" not in page.text
        client.cookies.clear()
    editor(client)
    assert "Câu hỏi chưa trả lời được" in client.get("/staff/").text
    assert "câu hỏi của gia đình" in client.get("/staff/queue").text


def test_groups_with_counts_and_filters(client: TestClient, queue_settings: Settings) -> None:
    queue(queue_settings, "thăm nuôi cần giấy gì", "tham nuoi can giay gi a", intent="out_of_scope")
    queue(queue_settings, "mai trời có mưa không", channel="web", intent="ask_fees")
    page = editor(client).get("/staff/queue").text
    assert "2 nhóm, 3 câu hỏi" in page
    counts = re.findall(r'<span class="count">(\d+)</span>', page)
    assert counts == ["1", "2"]  # the newest group first
    web = client.get("/staff/queue?channel=web").text
    assert "mai trời có mưa không" in web and "tham nuoi" not in web
    fees = client.get("/staff/queue?intent=ask_fees&since=2000-01-01").text
    assert "1 nhóm, 1 câu hỏi" in fees
    assert "0 nhóm" in client.get("/staff/queue?until=2000-01-01").text


def test_families_words_are_shown_as_text(client: TestClient, queue_settings: Settings) -> None:
    [qid] = queue(queue_settings, ATTACK)
    for path in ("/staff/queue", f"/staff/queue/{qid}"):
        page = editor(client).get(path).text
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(" in page
        assert "0912345678" not in page and "09******78" in page


def test_forged_csrf_changes_nothing(client: TestClient, queue_settings: Settings) -> None:
    [qid] = queue(queue_settings, "mai trời có mưa không")
    editor(client)
    response = client.post(
        f"/staff/queue/{qid}", data={"csrf": "forged", "ids": str(qid), "action": "dismiss"}
    )
    assert response.status_code == 403
    assert stored(queue_settings)[qid].status == "open"


def test_a_rewrite_that_keeps_a_phone_is_refused_then_a_clean_one_is_added(
    client: TestClient, queue_settings: Settings
) -> None:
    ids = queue(
        queue_settings,
        "bố em Nguyễn Văn An 0912345678 ốm nặng muốn về chữa trị",
        "bố em ốm nặng muốn về chữa trị",
    )
    editor(client)
    refused = post_group(
        client, ids, action="add_example", entry_key="prison_visits", rewrite="gọi 0912 345 678"
    )
    assert refused.status_code == 400
    assert "số điện thoại" in html.unescape(refused.text)
    assert {q.status for q in stored(queue_settings).values()} == {"open"}
    rewrite = "người thân ốm nặng muốn về chữa trị"
    done = post_group(client, ids, action="add_example", entry_key="prison_visits", rewrite=rewrite)
    assert done.status_code == 303
    assert done.headers["location"] == "/staff/queue?done=example"
    with session_factory(queue_settings.database_url)() as db:
        entry = entry_by_key(db, "prison_visits")
        assert entry is not None and entry.questions[-1] == rewrite
        assert [e.action for e in recent_audit(db)[:2]] == ["queue_to_entry", "entry_saved"]
    assert {q.status for q in stored(queue_settings).values()} == {"done"}
    assert "Không có câu hỏi nào" in client.get("/staff/queue").text
    assert client.get(f"/staff/queue/{ids[0]}").status_code == 404


def test_new_entry_opens_the_entry_form_with_the_rewrite(
    client: TestClient, queue_settings: Settings
) -> None:
    [qid] = queue(
        queue_settings, "ngày 12/3 bố em có được nuôi cá cảnh không", intent="out_of_scope"
    )
    editor(client)
    copied = post_group(
        client,
        [qid],
        action="new_entry",
        topic="out_of_scope",
        rewrite="ngày 12/3 bố em có được nuôi cá cảnh không",
    )
    assert copied.status_code == 400
    assert "chữ số" in html.unescape(copied.text)
    response = post_group(
        client, [qid], action="new_entry", topic="out_of_scope", rewrite="nuôi cá cảnh trong trại"
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert urlsplit(location).path == "/staff/faq/new"
    assert parse_qs(urlsplit(location).query) == {
        "topic": ["out_of_scope"],
        "questions": ["nuôi cá cảnh trong trại"],
    }
    form = client.get(location).text
    assert '<textarea id="questions" name="questions">nuôi cá cảnh trong trại</textarea>' in form
    assert stored(queue_settings)[qid].status == "done"


def test_training_example_and_dismiss(client: TestClient, queue_settings: Settings) -> None:
    first, second = queue(queue_settings, "xin chào ad nhé", "một câu khác hẳn")
    editor(client)
    bad = post_group(client, [first], action="training", intent="ask_weather", rewrite="chào ad")
    assert bad.status_code == 400
    ok = post_group(client, [first], action="training", intent="greet", rewrite="chào ad nhé")
    assert ok.status_code == 303
    gone = post_group(client, [second], action="dismiss")
    assert gone.headers["location"] == "/staff/queue?done=dismissed"
    with session_factory(queue_settings.database_url)() as db:
        [example] = db.scalars(select(StaffTrainingExample))
        assert (example.intent, example.text, example.created_by) == (
            "greet",
            "chào ad nhé",
            "bientap",
        )
        assert [e.action for e in recent_audit(db)[:2]] == [
            "queue_dismissed",
            "queue_to_training",
        ]
    assert stored(queue_settings)[second].status == "dismissed"
    done = client.get("/staff/queue?status=dismissed").text
    assert "một câu khác hẳn" in done and "Bỏ qua" in done
