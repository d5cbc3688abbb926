"""The eligibility form: reading answers, prefilling, corrections and going back, the round it
checks against, and a message that interrupts it.

The form's validation action is called through ``run()`` with trackers shaped as Rasa sends them.
The calendar is the one in ``knowledge/kb/rounds.yml`` on 10/12/2026 (no round open, so the law
alone applies), except where a test loads a database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions.calendar import Calendar
from actions.check_slots import ROUND_SLOT, SLOTS, UNKNOWN, case_from_slots, read_answer
from actions.eligibility import (
    CHECK_AGAIN,
    INTERRUPTED,
    INTERRUPTED_TEXT,
    ActionEligibilityResult,
    ValidateEligibilityForm,
    render,
    still_needed,
    verdict_for,
)
from actions.router import Routed, interrupts, route
from benchmarks import eligibility as bench
from knowledge.db import session_factory
from knowledge.eligibility.round_rules import available_rounds, load_round
from settings import get_settings
from tests.unit.test_eligibility import TABLE, round_facts

DOMAIN = yaml.load(
    (Path(__file__).parents[2] / "domain.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
)
DECEMBER_2026 = dt.date(2026, 12, 10)
CALENDAR = Calendar(round_facts(), DECEMBER_2026)


def calendar_with_2026_open() -> Calendar:
    """The same calendar as if staff had marked the 2026 round as being considered."""
    rounds = [
        dataclasses.replace(r, status="considering") if r.id == "2026" else r
        for r in CALENDAR.rounds
    ]
    return Calendar(rounds, dt.date(2026, 5, 1))


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
    slots = {
        "elig_kind": "tù có thời hạn",
        "elig_sentence": "ờ",
        "elig_served": 24,
        "elig_rating": UNKNOWN,
    }
    needed = still_needed(slots, CALENDAR)
    assert "elig_sentence" in needed and "elig_kind" not in needed and "elig_served" not in needed
    assert "elig_rating" not in needed  # "không biết" is an answer: not asked again
    assert case_from_slots(slots).rating is None
    assert case_from_slots({**slots, "elig_served": UNKNOWN}).served_months is None


def test_the_sentence_is_asked_first_and_even_when_the_time_served_is_not_known() -> None:
    assert still_needed({"elig_kind": "fixed_term"}, CALENDAR)[0] == "elig_sentence"
    assert "elig_sentence" in still_needed(
        {"elig_kind": "fixed_term", "elig_served": UNKNOWN}, CALENDAR
    )


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


def form_tracker(events: list[dict[str, Any]]) -> Tracker:
    slots: dict[str, Any] = {s: None for s in SLOTS} | {
        "requested_slot": None,
        ROUND_SLOT: None,
        INTERRUPTED: None,
    }
    for e in events:
        if e["event"] == "slot":
            slots[e["name"]] = e["value"]
    latest = next(e for e in reversed(events) if e["event"] == "user")
    return Tracker(
        "form-test",
        slots,
        {"text": latest["text"], "intent": {"name": "check_eligibility"}, "entities": []},
        list(events),
        False,
        None,
        {"name": "eligibility_form"},
        "action_listen",
    )


def run_form(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The form's validation as Rasa calls it: the events it returns and the messages sent."""
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateEligibilityForm().run(dispatcher, form_tracker(events), DOMAIN))
    return result, dispatcher.messages


def validate(
    events: list[dict[str, Any]], calendar: Calendar = CALENDAR
) -> tuple[dict[str, Any], list[str]]:
    """Run the form's validation on ``calendar``; returns the slots after it and what the bot
    said."""
    slots = dict(form_tracker(events).slots)
    with mock.patch.object(Calendar, "now", return_value=calendar):
        result, messages = run_form(events)
    for e in result:
        if e["event"] == "slot":
            slots[e["name"]] = e["value"]
    return slots, [m.get("text") or "" for m in messages]


def result_of(slots: dict[str, Any], calendar: Calendar = CALENDAR) -> list[dict[str, Any]]:
    """What ActionEligibilityResult says at the end of the form."""
    tracker = form_tracker([user("xong"), *(slot(k, v) for k, v in slots.items())])
    dispatcher = CollectingDispatcher()
    with mock.patch.object(Calendar, "now", return_value=calendar):
        events = ActionEligibilityResult().run(dispatcher, tracker, DOMAIN)
    assert SlotSet(INTERRUPTED, None) in events and SlotSet(ROUND_SLOT, None) in events
    return dispatcher.messages


FULL = (
    "Chồng em bị 6 năm tù tội lừa đảo chiếm đoạt tài sản, đã ở 3 năm rưỡi, cải tạo tốt, án phí "
    "nộp rồi, không phải bồi thường, chưa có tiền án, chưa được đặc xá lần nào, không bị truy "
    "cứu tội nào khác, không thuộc diện ưu tiên. Kiểm tra giúp em."
)


def test_the_first_message_fills_every_fact_it_states() -> None:
    slots, _ = validate([user(FULL)])
    assert slots["elig_sentence"] == 72 and slots["elig_served"] == 42
    assert slots["elig_priority"] == [] and slots["elig_amnestied"] is False
    assert still_needed(slots, CALENDAR) == []


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
    assert "elig_sentence" in still_needed({**slots, "elig_served": 24}, CALENDAR)
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
    verdict, rules = verdict_for(slots, CALENDAR)
    text = render(verdict, rules, slots)
    assert "Tôi đã dựa vào: loại án: tù có thời hạn; mức án: 6 năm" in text
    assert "thời gian đã chấp hành: 3 năm 6 tháng" in text
    assert "Tội lừa đảo chiếm đoạt tài sản (Điều 174 BLHS)" in text
    assert "nhóm ưu tiên: không thuộc nhóm nào" in text


# --- The round: the one the message names, else the one being considered, else the law alone ----


def test_with_no_round_open_the_check_is_against_the_law_and_never_says_may() -> None:
    """December 2026: no round is being considered, so the law alone, with the last rounds'
    level for reference; the time is "?" (legal review H2, WEAK 15), not "CÓ THỂ"."""
    assert CALENDAR.open_round is None
    slots, _ = validate([user(FULL)])
    assert slots[ROUND_SLOT] is None
    verdict, rules = verdict_for(slots, CALENDAR)
    assert rules == load_round("law") and verdict.outcome == "cannot_tell"
    assert verdict.missing == ("round_time_requirement",)
    (text,) = [m["text"] for m in result_of(slots)]
    assert text.startswith("Kết quả tự kiểm tra theo Luật Đặc xá 2018 (không theo đợt cụ thể):")
    assert "Chưa thể kết luận" in text and "CÓ THỂ" not in text
    assert "\n? Thời gian đã chấp hành: " in text and "\n✔ Thời gian" not in text
    assert "Đặc xá năm 2024 yêu cầu 1/2 mức án (3 năm) (theo báo chí) — đã đạt" in text
    assert "mức thời gian chính thức của đợt (hỏi trại giam)" in text


def test_the_round_the_first_message_names_is_used() -> None:
    slots, _ = validate([user(FULL.replace("Kiểm tra giúp em.", "Xét theo đợt đặc xá năm 2024."))])
    assert slots[ROUND_SLOT] == "2024"
    verdict, rules = verdict_for(slots, CALENDAR)
    assert rules == load_round("2024")
    assert verdict.outcome == "may_be_considered"  # 42 months of 72: the press 1/2 is reached
    (text,) = [m["text"] for m in result_of(slots)]
    assert text.startswith("Kết quả tự kiểm tra theo Đặc xá năm 2024:")
    assert "CÓ THỂ" in text and "chưa kiểm chứng" in text


def test_the_round_being_considered_is_the_default_and_this_round() -> None:
    open_2026 = calendar_with_2026_open()
    assert open_2026.open_round == "2026"
    assert open_2026.rules(None) == load_round("2026")
    assert open_2026.rules("2024") == load_round("2024")
    assert open_2026.rules("1999") == load_round("2026")  # not a round of the calendar
    slots, _ = validate(
        [user(FULL.replace("Kiểm tra giúp em.", "Đợt này có được không?"))], open_2026
    )
    assert slots[ROUND_SLOT] == "2026"
    slots, _ = validate([user(FULL)], open_2026)
    verdict, rules = verdict_for(slots, open_2026)
    assert rules.round_id == "2026" and verdict.outcome == "cannot_tell"
    # With no round open, "đợt này" names nothing: the law alone.
    slots, _ = validate([user(FULL.replace("Kiểm tra giúp em.", "Đợt này có được không?"))])
    assert slots[ROUND_SLOT] is None


def test_the_time_is_counted_to_today_when_the_round_has_no_cutoff() -> None:
    slots = {"elig_kind": "fixed_term", "elig_sentence": 72, "elig_served": {"start": "2020-01-01"}}
    verdict, _ = verdict_for(slots, CALENDAR)
    time = verdict.check("time_served")
    assert time is not None and "10/12/2026" in time.reason


# --- A message that interrupts the form -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "interrupting"),
    [
        ("có người đòi 30 triệu lo đặc xá cho chồng em", True),
        ("bố em bị đánh trong trại, đang nguy kịch", True),
        ("thế còn giảm án thì sao?", True),
        ("còn tha tù trước thời hạn thì thế nào?", True),
        ("5 năm", False),
        ("không biết", False),
        ("khá", False),
        ("đã nộp xong", False),
        ("bệnh nặng không tự đi được", False),  # an answer, though it names an illness
        ("/check_eligibility", False),
        ("", False),
    ],
)
def test_what_interrupts_the_form(text: str, interrupting: bool) -> None:
    assert interrupts(text) is interrupting


@pytest.fixture
def env(
    loaded: sessionmaker[Session], db_url: str, app_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The action server's settings on a loaded database, on 06/12/2026."""
    monkeypatch.setenv("AMNESTY_DATABASE_URL", db_url)
    monkeypatch.setenv("AMNESTY_TODAY", "2026-12-06")
    get_settings.cache_clear()


def routed(text: str) -> Routed:
    settings = get_settings()
    with session_factory(settings.database_url)() as session:
        return route(text, intent=None, confidence=None, session=session, settings=settings)


MID_FORM = [
    user("kiểm tra giúp em"),
    slot("elig_kind", "fixed_term"),
    user("5 năm"),
    slot("elig_sentence", 60),
]


@pytest.mark.parametrize(
    ("text", "kind", "says"),
    [
        ("có người đòi 30 triệu lo đặc xá cho chồng em", "safety", "tiền"),
        ("thế còn giảm án thì sao?", "answer", "giảm"),
    ],
)
def test_an_interrupting_message_ends_the_form_with_the_routers_answer(
    env: None, text: str, kind: str, says: str
) -> None:
    events, messages = run_form([*MID_FORM, user(text), slot("requested_slot", "elig_served")])
    assert SlotSet(INTERRUPTED, True) in events and SlotSet("requested_slot", None) in events
    assert not [e for e in events if e.get("name") in SLOTS]  # no answer was taken from it
    said = [m["text"] for m in messages]
    reply = routed(text)
    assert said and said == reply.messages and reply.kind == kind
    assert says in "\n".join(said).lower()
    # Then the form ends: the result action says it stopped and offers the check again.
    slots = {"elig_kind": "fixed_term", "elig_sentence": 60, INTERRUPTED: True}
    (stopped,) = result_of(slots)
    assert stopped["text"] == INTERRUPTED_TEXT and stopped["buttons"] == [CHECK_AGAIN]
    assert "Kết quả tự kiểm tra" not in stopped["text"]


def test_the_first_message_is_not_an_interruption(env: None) -> None:
    """The message that starts the check (no question asked yet) is read, not routed."""
    text = "chồng em bị 6 năm tội trộm cắp, đã ở 4 năm, thế còn giảm án thì sao?"
    with mock.patch.object(Calendar, "now", return_value=CALENDAR):
        events, _ = run_form([user(text)])
    assert SlotSet(INTERRUPTED, True) not in events
    assert SlotSet("elig_sentence", 72) in events


def test_the_calendar_is_read_from_the_database(env: None) -> None:
    calendar = Calendar.now()
    assert calendar.today == dt.date(2026, 12, 6)
    assert calendar.ids == list(available_rounds())
    assert calendar.open_round is None
    assert calendar.rules(None) == load_round("law")
    for round_id in calendar.ids:
        assert calendar.rules(round_id) == load_round(round_id)


# --- The eligibility benchmark's pure parts (benchmarks/eligibility.py) -------------------------


def test_every_blind_message_names_a_row_of_the_case_table() -> None:
    ids = {r.id for r in TABLE}
    for path in bench.MESSAGES:
        for item in yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)[
            "messages"
        ]:
            assert item["case"] in ids, (path.name, item["case"])


def test_the_benchmark_expects_the_round_the_conversation_uses() -> None:
    # December 2026, no round named: the law alone; only the round's own figure is missing,
    # which the family cannot tell, so the case counts as settled by its facts.
    assert bench.expected_outcome("ordinary-above-third", "chồng em bị 9 năm", CALENDAR) == (
        "cannot_tell",
        True,
    )
    assert bench.expected_outcome("ordinary-below-third", "con tôi 9 năm", CALENDAR) == (
        "does_not_meet",
        True,
    )
    # The message names 2024: the press figures of 2024 decide.
    said_2024 = "Dạ em hỏi về đợt đặc xá năm 2024 ạ."
    assert bench.expected_outcome("2024-exactly-half-by-date", said_2024, CALENDAR) == (
        "may_be_considered",
        True,
    )
    # A 2024 row whose message the reader does not place is still expected under 2024.
    assert bench.expected_outcome("2024-exactly-half-by-date", "bố em", CALENDAR)[0] == (
        "may_be_considered"
    )
    # A fact the family could tell is missing: not settled.
    assert bench.expected_outcome("typed-dont-know", "", CALENDAR) == ("cannot_tell", False)
    # With the 2026 round open, a law row is checked against 2026.
    open_2026 = calendar_with_2026_open()
    assert bench.expected_outcome("2026-law-floor-met", "đợt này", open_2026) == (
        "cannot_tell",
        True,
    )


def test_the_benchmark_reads_the_verdict_the_form_shows() -> None:
    for slots, calendar in (
        ({**dict.fromkeys(SLOTS), "elig_kind": "death"}, CALENDAR),
        ({"elig_kind": "fixed_term", "elig_sentence": 72, "elig_served": 42}, CALENDAR),
    ):
        verdict, rules = verdict_for(slots, calendar)
        assert bench.shown_outcome(render(verdict, rules, slots)) == verdict.outcome
    slots, _ = validate([user(FULL.replace("Kiểm tra giúp em.", "Đợt đặc xá năm 2024."))])
    verdict, rules = verdict_for(slots, CALENDAR)
    assert bench.shown_outcome(render(verdict, rules, slots)) == "may_be_considered"
    assert bench.shown_outcome("Bạn muốn hỏi thêm điều gì?") is None


def test_the_benchmark_reads_the_calendar_as_the_actions_do(env: None) -> None:
    assert bench.calendar_of(get_settings()) == Calendar.now()
