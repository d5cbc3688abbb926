"""The actions, called through ``run()`` with tracker fixtures, on a real database."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions.actions import (
    ActionAnswer,
    ActionAskAffirmation,
    ActionDefaultFallback,
    ActionGreet,
    ActionHuman,
)


def tracker(
    text: str,
    intent: str,
    entities: list[dict[str, Any]] | None = None,
    ranking: list[dict[str, Any]] | None = None,
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "intent_ranking": ranking or [],
    }
    return Tracker("test-sender", {}, message, [], False, None, {}, "action_listen")


@pytest.fixture
def env(
    loaded: sessionmaker[Session], db_url: str, app_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMNESTY_DATABASE_URL", db_url)
    monkeypatch.setenv("AMNESTY_CONTACT", "gọi số đã cấu hình")


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, {})
    return dispatcher.messages, events


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def test_case_question_gets_conditions_round_note_and_reminder(env: None) -> None:
    messages, _ = run(
        ActionAnswer(),
        tracker(
            "chồng em án 6 năm tội lừa đảo, đi được 4 năm rồi, đóng đủ án phí, "
            "có được xét đặc xá không",
            "ask_conditions",
            [{"entity": "sentence_length", "value": "6 năm"}],
        ),
    )
    text = texts(messages)
    assert "30/2018/QH14" in text
    assert "457/2026/QĐ-CTN" in text  # the current round (2026) is named
    assert "Chỉ các cơ quan, hội đồng" in text


def test_money_question_carries_the_warning(env: None) -> None:
    messages, _ = run(ActionAnswer(), tracker("có người đòi 30 triệu lo đặc xá", "ask_fees"))
    text = texts(messages).lower()
    assert "thi hành án dân sự" in text and "biên lai" in text


def test_visits_get_the_pointer_and_unrelated_text_the_scope_reply(env: None) -> None:
    visits, _ = run(ActionAnswer(), tracker("mỗi tháng được thăm gặp mấy lần", "out_of_scope"))
    weather, _ = run(ActionAnswer(), tracker("mai trời có mưa không", "out_of_scope"))
    assert "Luật Thi hành án hình sự" in texts(visits) or "14/2020/TT-BCA" in texts(visits)
    assert "ngoài phạm vi" in texts(weather)


def test_case_question_offers_the_step_by_step_check(env: None) -> None:
    messages, _ = run(
        ActionAnswer(),
        tracker(
            "chồng em bị 6 năm, ở được 3 năm",
            "ask_conditions",
            [{"entity": "sentence_length", "value": "6 năm"}],
        ),
    )
    assert messages[-1]["buttons"] == [
        {"title": "Kiểm tra từng bước", "payload": "/check_eligibility"}
    ]


def test_database_failure_gives_an_apology_not_silence(
    app_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("AMNESTY_DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/none.db")
    messages, _ = run(ActionAnswer(), tracker("điều kiện đặc xá", "ask_conditions"))
    assert "Xin lỗi" in texts(messages)


def test_greeting_has_notice_and_buttons(env: None) -> None:
    messages, _ = run(ActionGreet(), tracker("chào", "greet"))
    assert "không phải quyết định" in messages[0]["text"]
    assert "họ tên" in messages[0]["text"]
    assert {b["payload"] for b in messages[0]["buttons"]} >= {"/ask_conditions", "/give_feedback"}


def test_human_uses_the_configured_contact(env: None) -> None:
    messages, _ = run(ActionHuman(), tracker("cho xin số điện thoại cán bộ", "ask_human"))
    assert "gọi số đã cấu hình" in messages[0]["text"]


def test_a_case_told_with_another_question_is_offered_the_check_too(env: None) -> None:
    messages, _ = run(
        ActionAnswer(),
        tracker("bố em bị 9 năm tội trộm cắp, đã ở 4 năm, có bị loại trừ không", "ask_exclusions"),
    )
    assert messages[-1]["buttons"] == [
        {"title": "Kiểm tra từng bước", "payload": "/check_eligibility"}
    ]
    general, _ = run(ActionAnswer(), tracker("ai không được đặc xá", "ask_exclusions"))
    assert not general[-1].get("buttons")


def test_did_you_mean_offers_the_check_for_a_case(env: None) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 1.0},
        {"name": "ask_conditions", "confidence": 0.41},
        {"name": "ask_procedure", "confidence": 0.38},
    ]
    text = "bố em án 10 năm, đã ở 3 năm 4 tháng, xếp loại tốt"
    messages, _ = run(ActionAskAffirmation(), tracker(text, "nlu_fallback", ranking=ranking))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/ask_conditions", "/check_eligibility", "/out_of_scope"]


def test_did_you_mean_offers_the_two_closest_intents(env: None) -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 1.0},
        {"name": "ask_conditions", "confidence": 0.41},
        {"name": "ask_procedure", "confidence": 0.38},
        {"name": "ask_fees", "confidence": 0.1},
    ]
    messages, _ = run(
        ActionAskAffirmation(), tracker("xét thế nào", "nlu_fallback", ranking=ranking)
    )
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/ask_conditions", "/ask_procedure", "/out_of_scope"]


def test_final_fallback_reverts_and_points_to_a_person(env: None) -> None:
    messages, events = run(ActionDefaultFallback(), tracker("??", "nlu_fallback"))
    assert "gọi số đã cấu hình" in messages[0]["text"]
    assert events == [UserUtteranceReverted()]
