"""Ratings of answers: the action (called through ``run()``), and the counts on the FAQ pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from actions.actions import RATE_BUTTONS, ActionAnswer, ActionRateAnswer
from bot.gateway import create_app
from knowledge.db import session_factory
from knowledge.kb.faq import update_entry
from knowledge.kb.queries import entry_by_key
from knowledge.kb.queue import family_key, family_salt, record_rating
from knowledge.models import AnswerRating, QueuedQuestion
from settings import Settings, from_env, get_settings
from tests.unit.test_staff_app import add_account, login

KEY = "fees_free_of_charge"
NO_DOMAIN = cast(DomainDict, {})  # these actions do not read the domain
QUESTION = "xin đặc xá có mất tiền không, số em 0912345678"


def rating_tracker(rating: str | None, entry_key: str | None = KEY) -> Tracker:
    """The conversation after an answer: the question, the answer, then a rating button."""
    question = {
        "text": "xin đặc xá có mất tiền không , số em 0912345678",
        "text_original": QUESTION,
        "intent": {"name": "ask_fees", "confidence": 0.83},
    }
    entities = [{"entity": "rating", "value": rating}] if rating else []
    latest = {
        "text": f'/rate_answer{{"rating":"{rating}"}}',
        "intent": {"name": "rate_answer", "confidence": 1.0},
        "entities": entities,
    }
    events: list[dict[str, Any]] = [
        {"event": "user", "text": QUESTION, "parse_data": question},
        {"event": "bot", "text": "Không mất tiền."},
        {"event": "user", "text": latest["text"], "parse_data": latest},
    ]
    slots = {"answered_entry": entry_key}
    return Tracker("zalo:42", slots, latest, events, False, None, {}, "action_listen")


@pytest.fixture
def env(
    loaded: sessionmaker[Session], db_url: str, app_settings: None, monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    monkeypatch.setenv("AMNESTY_DATABASE_URL", db_url)
    monkeypatch.setenv("AMNESTY_CONTACT", "gọi số đã cấu hình")
    return loaded


def rate(t: Tracker) -> str:
    dispatcher = CollectingDispatcher()
    events = ActionRateAnswer().run(dispatcher, t, NO_DOMAIN)
    assert events in ([], [SlotSet("answered_entry", None)])  # one rating per answer
    return "\n".join(m["text"] for m in dispatcher.messages)


def stored(maker: sessionmaker[Session]) -> tuple[list[AnswerRating], list[QueuedQuestion]]:
    with maker() as db:
        return list(db.scalars(select(AnswerRating))), list(db.scalars(select(QueuedQuestion)))


def test_helpful_is_counted_and_not_queued(env: sessionmaker[Session]) -> None:
    assert "Cảm ơn" in rate(rating_tracker("helpful"))
    ratings, questions = stored(env)
    assert [(r.entry_key, r.rating, r.channel) for r in ratings] == [(KEY, "helpful", "zalo")]
    # The family is kept as the install's salted hash of its sender id, never the id.
    salt = family_salt(get_settings())
    assert ratings[0].family == family_key(salt, "zalo:42") != family_key(b"other", "zalo:42")
    assert questions == []


def test_unhelpful_queues_the_rated_question_masked(env: sessionmaker[Session]) -> None:
    reply = rate(rating_tracker("unhelpful"))
    assert "cán bộ" in reply and "gọi số đã cấu hình" in reply
    ratings, [question] = stored(env)
    assert [r.rating for r in ratings] == ["unhelpful"]
    assert question.text == "xin đặc xá có mất tiền không, số em 09******78"
    assert (question.reason, question.intent, question.entry_key) == ("unhelpful", "ask_fees", KEY)
    assert question.confidence == pytest.approx(0.83)
    assert question.family == ratings[0].family


def test_a_rating_without_an_answered_entry_stores_nothing(env: sessionmaker[Session]) -> None:
    assert "Cảm ơn" in rate(rating_tracker("unhelpful", entry_key=None))
    assert stored(env) == ([], [])


def test_a_typed_rating_brings_up_the_buttons(env: sessionmaker[Session]) -> None:
    dispatcher = CollectingDispatcher()
    assert ActionRateAnswer().run(dispatcher, rating_tracker(None), NO_DOMAIN) == []
    assert dispatcher.messages[0]["buttons"] == RATE_BUTTONS
    assert stored(env) == ([], [])
    # The button pressed afterwards rates the question, not the typed rating.
    typed = rating_tracker(None)
    pressed = rating_tracker("unhelpful")
    events = [*typed.events, {"event": "bot", "text": "?"}, pressed.events[-1]]
    t = Tracker("zalo:42", pressed.slots, pressed.latest_message, events, False, None, {}, "")
    rate(t)
    assert [q.text for q in stored(env)[1]] == ["xin đặc xá có mất tiền không, số em 09******78"]


def answer(text: str, intent: str) -> tuple[list[dict[str, Any]], list[Any]]:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    t = Tracker("web:1", {}, message, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = ActionAnswer().run(dispatcher, t, NO_DOMAIN)
    return dispatcher.messages, events


def test_an_answer_carries_the_rating_buttons_on_its_last_message_only(
    env: sessionmaker[Session],
) -> None:
    messages, events = answer("xin đặc xá có mất tiền không", "ask_fees")
    assert messages[-1]["buttons"] == RATE_BUTTONS
    assert payloads(messages[-1]) == [
        '/rate_answer{"rating":"helpful"}',
        '/rate_answer{"rating":"unhelpful"}',
    ]
    assert all(not m.get("buttons") for m in messages[:-1])
    assert SlotSet("answered_entry", KEY) in events


def payloads(message: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in message["buttons"]]


def test_no_rating_where_the_answer_has_its_own_buttons_or_no_entry(
    env: sessionmaker[Session],
) -> None:
    case, _ = answer("chồng em bị 6 năm, ở được 3 năm", "ask_conditions")
    assert payloads(case[-1]) == ["/check_eligibility"]
    feedback, _ = answer("tôi muốn khiếu nại cán bộ trại", "give_feedback")
    assert payloads(feedback[-1]) == ['/give_feedback{"feedback_send":"yes"}']
    nothing, events = answer("mai trời có mưa không", "out_of_scope")
    assert not nothing[-1].get("buttons") and SlotSet("answered_entry", None) in events


def test_the_rating_of_an_edited_entry_names_its_version(env: sessionmaker[Session]) -> None:
    with env.begin() as db:
        entry = entry_by_key(db, KEY)
        assert entry is not None
        update_entry(db, entry, {"title": entry.title + "."}, actor="bientap")
    rate(rating_tracker("helpful"))
    [rating], _ = stored(env)
    assert rating.entry_version == 2


def test_a_database_error_still_thanks_the_family(
    env: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    with env.begin() as db:
        cast(Table, AnswerRating.__table__).drop(db.connection())
    assert "cán bộ" in rate(rating_tracker("unhelpful"))
    assert "could not store a rating" in caplog.text
    assert [q.reason for q in stored_questions(env)] == ["unhelpful"]


def stored_questions(maker: sessionmaker[Session]) -> list[QueuedQuestion]:
    with maker() as db:
        return list(db.scalars(select(QueuedQuestion)))


# --- Ratings per entry on the FAQ pages --------------------------------------------------------


@pytest.fixture
def faq_settings(loaded: sessionmaker[Session], db_url: str, tmp_path: Path) -> Settings:
    return from_env({"AMNESTY_VAR_DIR": str(tmp_path / "var"), "AMNESTY_DATABASE_URL": db_url})


@pytest.fixture
def client(faq_settings: Settings) -> Iterator[TestClient]:
    app = create_app(faq_settings)
    add_account(faq_settings, "xuly", "reviewer")
    client = TestClient(app)
    assert login(client, "xuly").status_code == 303
    yield client


def add_ratings(settings: Settings, **counts: Any) -> None:
    with session_factory(settings.database_url).begin() as db:
        for rating, n in counts.items():
            for _ in range(n):
                record_rating(db, entry_key=KEY, rating=rating, channel="web")


def test_ratings_show_per_entry_on_the_list_and_the_entry(
    client: TestClient, faq_settings: Settings
) -> None:
    settings = faq_settings
    add_ratings(settings, helpful=3, unhelpful=1)
    listing = client.get("/staff/faq?topic=ask_fees").text
    row = listing[listing.index(KEY) :]
    row = row[: row.index("</tr>")]
    assert "Hữu ích 3 · Chưa hữu ích 1" in row
    assert "chưa có" in listing  # the other fees entries were never rated
    with session_factory(settings.database_url)() as db:
        entry = entry_by_key(db, KEY)
        assert entry is not None
    page = client.get(f"/staff/faq/{entry.id}").text
    assert "Hữu ích 3 · Chưa hữu ích 1" in page
    assert "hàng đợi câu hỏi" not in page  # a reviewer cannot open the queue
