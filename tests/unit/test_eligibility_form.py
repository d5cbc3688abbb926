"""The eligibility form: reading answers, prefilling, corrections and going back.

The form's validation action is called through ``run()`` with trackers shaped as Rasa sends them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.eligibility import (
    SLOTS,
    UNKNOWN,
    ValidateEligibilityForm,
    case_from_slots,
    read_answer,
    render,
    still_needed,
    verdict_for,
)

DOMAIN = yaml.safe_load((Path(__file__).parents[2] / "domain.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("slot", "text", "value"),
    [
        ("elig_kind", "tù có thời hạn", "fixed_term"),
        ("elig_kind", "chung thân đã được giảm", "life_commuted"),
        ("elig_kind", "tu hinh", "death"),
        ("elig_sentence", "5 năm rưỡi", 66),
        ("elig_served", "2 năm 3 tháng", 27),
        ("elig_served", "không biết", UNKNOWN),
        ("elig_served", "bị bắt ngày 2/9/2021", {"start": "2021-09-02"}),
        ("elig_served", "từ tháng 3/2020", {"year": 2020, "month": 3}),
        ("elig_rating", "khá", "kha"),
        ("elig_rating", "tot", "tot"),
        ("elig_fines", "đã nộp xong", True),
        ("elig_fines", "chưa", False),
        ("elig_civil", "mới trả một phần", "partly_unable"),
        ("elig_civil", "không phải bồi thường", "none"),
        ("elig_priors", "0", 0),
        ("elig_priors", "không có", 0),
        ("elig_priority", "bệnh nặng không tự đi được", ["serious_illness"]),
        ("elig_priority", "bệnh nặng, lại trên 70 tuổi", ["aged_70", "serious_illness"]),
        ("elig_priority", "không", []),
        ("elig_amnestied", "ờ thì", None),
    ],
)
def test_read_answer(slot: str, text: str, value: object) -> None:
    assert read_answer(slot, text) == value


def test_unread_answers_are_asked_again_and_unknown_ones_are_not() -> None:
    slots = {"elig_kind": "tù có thời hạn", "elig_sentence": "ờ", "elig_served": UNKNOWN}
    needed = still_needed(slots)
    assert "elig_sentence" in needed and "elig_served" not in needed and "elig_kind" not in needed
    assert case_from_slots(slots).served_months is None


def test_a_detention_date_and_several_groups_reach_the_case() -> None:
    case = case_from_slots(
        {"elig_served": {"year": 2020, "month": 3}, "elig_priority": ["aged_70", "serious_illness"]}
    )
    assert (case.detention_year, case.detention_month, case.served_months) == (2020, 3, None)
    assert case.priority == frozenset({"aged_70", "serious_illness"})


# --- The form's validation action, called as Rasa calls it ---------------------------------------


def user(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"text": text}}


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def validate(events: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """Run the form's validation; returns the slots after it and what the bot said."""
    slots: dict[str, Any] = {s: None for s in SLOTS} | {"requested_slot": None}
    for e in events:
        if e["event"] == "slot":
            slots[e["name"]] = e["value"]
    latest = next(e for e in reversed(events) if e["event"] == "user")
    tracker = Tracker(
        "form-test",
        dict(slots),
        {"text": latest["text"], "intent": {"name": "check_eligibility"}, "entities": []},
        list(events),
        False,
        None,
        {"name": "eligibility_form"},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateEligibilityForm().run(dispatcher, tracker, DOMAIN))
    for e in result:
        if e["event"] == "slot":
            slots[e["name"]] = e["value"]
    return slots, [m.get("text") or "" for m in dispatcher.messages]


FULL = (
    "Chồng em bị 6 năm tù tội lừa đảo chiếm đoạt tài sản, đã ở 3 năm rưỡi, cải tạo tốt, án phí "
    "nộp rồi, không phải bồi thường, chưa có tiền án, chưa được đặc xá lần nào, không bị truy "
    "cứu tội nào khác, không thuộc diện ưu tiên. Kiểm tra giúp em."
)


def test_the_first_message_fills_every_fact_it_states() -> None:
    slots, _ = validate([user(FULL)])
    assert slots["elig_sentence"] == 72 and slots["elig_served"] == 42
    assert slots["elig_priority"] == [] and slots["elig_amnestied"] is False
    assert still_needed(slots) == []


def test_a_button_press_after_a_case_question_reads_the_case_before_it() -> None:
    slots, _ = validate([user(FULL), user("/check_eligibility")])
    assert slots["elig_crime"] and slots["elig_rating"] == "tot"


def test_a_correction_changes_the_length_it_names_and_asks_the_question_again() -> None:
    history = [
        user("kiểm tra giúp em"),
        slot("elig_kind", "fixed_term"),
        user("5 năm"),
        slot("elig_sentence", 60),
        user("2 năm"),
        slot("elig_served", 24),
        user("à nhầm, án 6 năm"),
        slot("requested_slot", "elig_crime"),
        slot("elig_crime", "à nhầm, án 6 năm"),
    ]
    slots, said = validate(history)
    assert slots["elig_sentence"] == 72 and slots["elig_served"] == 24
    assert slots["elig_crime"] is None  # asked again
    assert any("Đã sửa mức án: 6 năm" in s for s in said)


def test_a_bare_correction_goes_to_the_last_length_answered() -> None:
    history = [
        user("kiểm tra giúp em"),
        slot("elig_kind", "fixed_term"),
        slot("elig_sentence", 60),
        slot("elig_served", 24),
        user("nhầm, 3 năm"),
        slot("requested_slot", "elig_crime"),
        slot("elig_crime", "nhầm, 3 năm"),
    ]
    slots, _ = validate(history)
    assert slots["elig_served"] == 36 and slots["elig_sentence"] == 60


def test_a_correction_of_the_previous_answer() -> None:
    history = [
        slot("elig_kind", "fixed_term"),
        slot("elig_rating", "tot"),
        user("à nhầm, khá thôi"),
        slot("requested_slot", "elig_fines"),
        slot("elig_fines", "à nhầm, khá thôi"),
    ]
    slots, said = validate(history)
    assert slots["elig_rating"] == "kha" and slots["elig_fines"] is None
    assert any("xếp loại" in s for s in said)


def test_going_back_clears_the_previous_answer() -> None:
    history = [
        slot("elig_kind", "fixed_term"),
        slot("elig_sentence", 60),
        user("quay lại"),
        slot("requested_slot", "elig_served"),
        slot("elig_served", "quay lại"),
    ]
    slots, said = validate(history)
    assert slots["elig_sentence"] is None and slots["elig_served"] is None
    assert slots["elig_kind"] == "fixed_term"
    assert still_needed(slots)[0] == "elig_sentence"
    assert any("hỏi lại câu trước" in s for s in said)


def test_other_facts_given_in_an_answer_are_kept() -> None:
    history = [
        slot("elig_kind", "fixed_term"),
        slot("elig_sentence", 60),
        user("3 năm, cải tạo tốt, án phí đã nộp xong"),
        slot("requested_slot", "elig_served"),
        slot("elig_served", "3 năm, cải tạo tốt, án phí đã nộp xong"),
    ]
    slots, _ = validate(history)
    assert (slots["elig_served"], slots["elig_rating"], slots["elig_fines"]) == (36, "tot", True)


def test_an_unreadable_answer_is_not_kept() -> None:
    history = [slot("elig_kind", "fixed_term"), user("ờ thì"), slot("elig_sentence", "ờ thì")]
    slots, said = validate(history)
    assert slots["elig_sentence"] is None and any("chưa hiểu" in s for s in said)


def test_the_result_says_what_it_was_based_on() -> None:
    slots, _ = validate([user(FULL)])
    text = render(verdict_for(slots), slots)
    assert "Tôi đã dựa vào: loại án: tù có thời hạn; mức án: 6 năm" in text
    assert "thời gian đã chấp hành: 3 năm 6 tháng" in text
    assert "Tội lừa đảo chiếm đoạt tài sản (Điều 174 BLHS)" in text
    assert "nhóm ưu tiên: không thuộc nhóm nào" in text
    assert "CÓ THỂ" in text
