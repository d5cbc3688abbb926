"""The actions, called through ``run()`` with tracker fixtures, on a real database."""

from __future__ import annotations

from typing import Any, cast

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from actions.actions import RATE_BUTTONS, ActionAnswer, ActionGreet, ActionHuman
from knowledge.models import QueuedQuestion
from settings import get_settings


def tracker(
    text: str,
    intent: str,
    entities: list[dict[str, Any]] | None = None,
    ranking: list[dict[str, Any]] | None = None,
    *,
    confidence: float = 0.9,
    sender: str = "test-sender",
    original: str | None = None,
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "intent_ranking": ranking or [],
    }
    if original is not None:
        message["text_original"] = original
    return Tracker(sender, {}, message, [], False, None, {}, "action_listen")


@pytest.fixture
def env(
    loaded: sessionmaker[Session], db_url: str, app_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMNESTY_DATABASE_URL", db_url)
    monkeypatch.setenv("AMNESTY_CONTACT", "gọi số đã cấu hình")
    monkeypatch.setenv("AMNESTY_TODAY", "2026-12-06")
    get_settings.cache_clear()


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, {})
    return dispatcher.messages, events


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def test_a_case_question_is_worked_through_with_the_calendar_and_the_reminder(env: None) -> None:
    messages, events = run(
        ActionAnswer(),
        tracker(
            "chồng em án 6 năm tội lừa đảo, đi được 4 năm rồi, đóng đủ án phí, "
            "có được xét đặc xá không",
            "ask_conditions",
        ),
    )
    text = texts(messages)
    assert "30/2018/QH14" in text
    assert "457/2026/QĐ-CTN" in text  # the calendar names the latest round, marked unverified
    assert "chưa có thông tin công khai về đợt đặc xá nào đang được xét" in text
    assert "Với trường hợp bạn kể" in text and "48 tháng" in text
    assert "Chỉ các cơ quan, hội đồng" in text
    assert SlotSet("last_question", events[1]["value"]) in events


def test_money_demanded_takes_the_safety_path_first(env: None) -> None:
    messages, _ = run(ActionAnswer(), tracker("có người đòi 30 triệu lo đặc xá", "ask_fees"))
    text = texts(messages)
    assert text.startswith("Không đưa, không chuyển thêm tiền")
    assert '/give_feedback{"feedback_send":"yes"}' in [
        b["payload"] for b in messages[-1]["buttons"]
    ]


def test_visits_get_the_prison_rules_and_unrelated_text_a_kind_decline(env: None) -> None:
    visits, _ = run(ActionAnswer(), tracker("mỗi tháng được thăm gặp mấy lần", "out_of_scope"))
    weather, _ = run(ActionAnswer(), tracker("mai trời có mưa không", "out_of_scope"))
    assert "127/2025/QH15" in texts(visits)
    assert "ngoài phạm vi" in texts(weather) and "thăm gặp" not in texts(weather).split(":")[0]


def test_case_question_offers_the_step_by_step_check(env: None) -> None:
    messages, _ = run(ActionAnswer(), tracker("chồng em bị 6 năm, ở được 3 năm", "ask_conditions"))
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


def test_a_general_question_gets_the_rating_buttons_not_the_check(env: None) -> None:
    general, _ = run(ActionAnswer(), tracker("ai không được đặc xá", "ask_exclusions"))
    assert general[-1]["buttons"] == RATE_BUTTONS


def test_nothing_understood_gets_did_you_mean_with_the_closest_topics(env: None) -> None:
    messages, _ = run(ActionAnswer(), tracker("xét thế nào", "nlu_fallback", confidence=0.3))
    assert messages[0]["text"].startswith("Xin lỗi, tôi chưa chắc hiểu đúng")
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[-1] == "/out_of_scope" and len(payloads) <= 3


def test_a_button_after_did_you_mean_answers_the_question_that_was_asked(env: None) -> None:
    t = tracker("/ask_other_measures", "ask_other_measures", confidence=1.0)
    t.slots["last_question"] = "mỗi năm được mấy lần"
    t.events.append({"event": "bot", "text": "Xin lỗi, tôi chưa chắc hiểu đúng. Có phải..."})
    messages, _ = run(ActionAnswer(), t)
    assert "giảm" in texts(messages).lower()


def test_a_menu_button_after_an_answer_asks_about_its_topic(env: None) -> None:
    t = tracker("/ask_fees", "ask_fees", confidence=1.0)
    t.slots["last_question"] = "hồ sơ đề nghị đặc xá gồm những giấy tờ gì"
    t.events.append({"event": "bot", "text": "Hồ sơ gồm: đơn đề nghị đặc xá và bản cam kết"})
    messages, events = run(ActionAnswer(), t)
    assert "biên lai" in texts(messages)  # the topic's first entry: fees_free_of_charge
    assert SlotSet("answered_entry", "documents_file_contents") not in events
    assert next(e for e in events if e["name"] == "answered_entry")["value"].startswith("fees")


def test_a_follow_up_that_adds_facts_continues_the_previous_question(env: None) -> None:
    t = tracker("bố em 72 tuổi rồi ạ", "affirm", confidence=0.6)
    t.slots["last_question"] = "Bố em án 8 năm, đã ở 3 năm, có được đặc xá không?"
    messages, _ = run(ActionAnswer(), t)
    text = texts(messages)
    assert "Với trường hợp bạn kể" in text and "72 tuổi" in text
    assert "từ đủ 70 tuổi" in text


def test_a_bare_yes_asks_what_else(env: None) -> None:
    messages, _ = run(ActionAnswer(), tracker("vâng", "affirm", confidence=0.95))
    assert "Bạn muốn hỏi thêm điều gì" in texts(messages)


# --- Recording for the staff's queue of unanswered questions -----------------------------------


def queued(maker: sessionmaker[Session]) -> list[QueuedQuestion]:
    with maker() as session:
        return list(session.scalars(select(QueuedQuestion).order_by(QueuedQuestion.id)))


def test_a_question_no_entry_matches_is_queued_masked_without_the_sender(
    env: None, loaded: sessionmaker[Session]
) -> None:
    text = "mai trời có mưa không, 0912 345 678"
    messages, _ = run(
        ActionAnswer(), tracker(text, "out_of_scope", sender="zalo:84912345678", confidence=0.95)
    )
    assert "ngoài phạm vi" in texts(messages)
    [question] = queued(loaded)
    assert (question.reason, question.channel, question.intent) == (
        "no_match",
        "zalo",
        "out_of_scope",
    )
    assert question.confidence == pytest.approx(0.95)
    assert question.text == "mai trời có mưa không, 09******78"
    assert question.entry_key is None and question.status == "open"
    assert question.family and "84912345678" not in question.family
    assert len(question.family) == 32


def test_a_confident_answer_is_not_queued_and_a_doubtful_one_is_with_its_entry(
    env: None, loaded: sessionmaker[Session]
) -> None:
    run(ActionAnswer(), tracker("điều kiện đặc xá là gì", "ask_conditions", confidence=0.92))
    assert queued(loaded) == []
    run(
        ActionAnswer(),
        tracker("xét thế nào ạ", "ask_procedure", confidence=0.5, sender="web:abc"),
    )
    [question] = queued(loaded)
    assert (question.reason, question.channel, question.intent) == (
        "low_confidence",
        "web",
        "ask_procedure",
    )
    assert question.entry_key and question.entry_key.startswith("procedure")
    assert question.entry_version is None  # as loaded from the YAML: no staff version yet


def test_the_family_s_own_words_are_recorded_not_the_normalised_text(
    env: None, loaded: sessionmaker[Session]
) -> None:
    run(
        ActionAnswer(),
        tracker("xét như thế nào", "ask_procedure", confidence=0.3, original="xet ntn  vay"),
    )
    assert [q.text for q in queued(loaded)] == ["xet ntn vay"]


def test_the_threshold_is_a_setting(
    env: None, loaded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMNESTY_QUEUE_MIN_CONFIDENCE", "0.95")
    get_settings.cache_clear()
    run(ActionAnswer(), tracker("điều kiện đặc xá là gì", "ask_conditions", confidence=0.92))
    assert [q.reason for q in queued(loaded)] == ["low_confidence"]


def test_did_you_mean_is_queued_masked(env: None, loaded: sessionmaker[Session]) -> None:
    nlu = tracker("số 001234567890 thì sao", "nlu_fallback", confidence=0.3, sender="telegram:5")
    run(ActionAnswer(), nlu)
    [first] = queued(loaded)
    assert (first.reason, first.channel, first.intent) == (
        "did_you_mean",
        "telegram",
        "nlu_fallback",
    )
    assert first.text == "số *********890 thì sao"


def test_a_database_error_while_recording_still_sends_the_answer(
    env: None, loaded: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    with loaded.begin() as session:
        cast(Table, QueuedQuestion.__table__).drop(session.connection())
    messages, _ = run(ActionAnswer(), tracker("mai trời có mưa không", "out_of_scope"))
    assert "ngoài phạm vi" in texts(messages)
    assert "could not queue" in caplog.text


def test_a_case_told_as_a_complaint_is_offered_both_the_check_and_sending(env: None) -> None:
    messages, _ = run(
        ActionAnswer(),
        tracker("chồng em bị 9 năm, đã ở 4 năm mà không có tên trong danh sách", "give_feedback"),
    )
    payloads = [b["payload"] for b in messages[-1]["buttons"]]
    assert payloads == ["/check_eligibility", '/give_feedback{"feedback_send":"yes"}']
