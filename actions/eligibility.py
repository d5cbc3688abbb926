"""The step-by-step eligibility check: a Rasa form that asks only what it does not know yet.

The form's slots hold canonical answers ("fixed_term", months, "kha", True...) or ``UNKNOWN``
when the family does not know; ``knowledge.eligibility.evaluator`` decides which facts are
still missing and gives the verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.calendar import Calendar
from actions.check_slots import (
    BACK,
    CORRECTION,
    LENGTH_SLOTS,
    MARKS,
    NEXT_STEPS,
    OUTCOMES,
    ROUND_SLOT,
    SETTLED_BY,
    SLOT_LABELS,
    SLOTS,
    UNKNOWN,
    case_from_slots,
    read_answer,
    slot_values,
)
from actions.messages import raw_text, starting_text, stopped
from actions.router import interrupts, route
from knowledge.db import session_factory
from knowledge.eligibility.case import Verdict
from knowledge.eligibility.case_dates import round_named
from knowledge.eligibility.case_text import length_roles, read_case
from knowledge.eligibility.evaluator import evaluate
from knowledge.eligibility.round_rules import RoundRules, load_law
from knowledge.kb.answers import DISCLAIMER
from settings import get_settings
from vietnamese.text import fold

INTERRUPTED = "elig_interrupted"  # another question or an urgent message ended the check
INTERRUPTED_TEXT = (
    "Tôi đã dừng phần kiểm tra từng bước để trả lời tin nhắn trên. Muốn kiểm tra lại trường hợp "
    "của người thân, bạn bấm nút dưới đây."
)
CHECK_AGAIN = {"title": "Kiểm tra từng bước", "payload": "/check_eligibility"}


def verdict_for(slots: dict[str, Any], calendar: Calendar) -> tuple[Verdict, RoundRules]:
    rules = calendar.rules(slots.get(ROUND_SLOT))
    return evaluate(case_from_slots(slots), rules, as_of=calendar.today), rules


def still_needed(slots: dict[str, Any], calendar: Calendar) -> list[str]:
    """The slots to ask, in order: facts the verdict misses that the family was not asked."""
    missing = set(verdict_for(slots, calendar)[0].missing)
    missing |= {SETTLED_BY[m] for m in missing if m in SETTLED_BY}
    return [
        slot
        for slot, fact in SLOTS.items()
        if fact in missing and read_answer(slot, slots.get(slot)) is None
    ]


class ValidateEligibilityForm(FormValidationAction):
    """Fills the form from the first message, reads each answer, asks only what is missing.

    A message that interrupts the check is answered by the router and ends the form."""

    def name(self) -> str:
        return "validate_eligibility_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = raw_text(tracker)
        if tracker.get_slot("requested_slot") is not None and interrupts(text):
            settings = get_settings()
            with session_factory(settings.database_url)() as session:
                routed = route(
                    text, intent=None, confidence=None, session=session, settings=settings
                )
            for message in routed.messages:
                dispatcher.utter_message(text=message)
            return [SlotSet(INTERRUPTED, True), SlotSet("requested_slot", None)]
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if stopped(tracker):
            return []
        # Answered slots stay in the list (so they are validated); the form asks the first
        # needed slot that is still empty.
        if tracker.get_slot(INTERRUPTED):
            return []
        needed = still_needed(dict(tracker.slots), Calendar.now())
        named = [ROUND_SLOT] if tracker.get_slot(ROUND_SLOT) else []
        return [s for s in SLOTS if s in needed or tracker.get_slot(s) is not None] + named

    def extract_elig_kind(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """On the message that started the check, take every fact it already states.

        The kind is always asked first, so its extractor runs on that turn; it returns the
        other slots too, so none of them is asked again.
        """
        if tracker.get_slot("requested_slot") is not None:
            return {}
        text = starting_text(tracker)
        values = slot_values(read_case(text))
        named = round_named(text, Calendar.now().open_round)
        return values | ({ROUND_SLOT: named} if named else {})

    def validate_elig_round(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {ROUND_SLOT: value if value in Calendar.now().ids else None}

    def _validate(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        folded = fold(value) if isinstance(value, str) else ""
        if folded and BACK.match(folded):
            return go_back(slot, tracker, dispatcher)
        if folded and CORRECTION.search(folded):
            changes = corrections(slot, value, tracker)
            if changes:
                said = "; ".join(f"{SLOT_LABELS[s]}: {shown(s, v)}" for s, v in changes.items())
                dispatcher.utter_message(text=f"Đã sửa {said}.")
                return {slot: None, **changes}
        answer = read_answer(slot, value)
        if answer is None:
            dispatcher.utter_message(
                text='Tôi chưa hiểu câu trả lời. Bạn chọn một nút, hoặc trả lời "không biết". '
                'Gõ "quay lại" để sửa câu trước, "dừng" để dừng kiểm tra.'
            )
            return {slot: None}
        extra = {}
        if isinstance(value, str):  # "3 năm, cải tạo tốt": other facts said on the way
            found = slot_values(read_case(value))
            extra = {
                s: v
                for s, v in found.items()
                if s not in (slot, "elig_kind", *LENGTH_SLOTS) and tracker.get_slot(s) is None
            }
        return {slot: answer, **extra}


def answered(tracker: Tracker) -> list[str]:
    """The form's slots that hold an answer, in the order they were last set."""
    order: list[str] = []
    for e in tracker.events:
        if e.get("event") == "slot" and e.get("name") in SLOTS and e.get("value") is not None:
            order = [s for s in order if s != e["name"]] + [e["name"]]
    return [s for s in order if tracker.get_slot(s) is not None]


def go_back(slot: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """ "quay lại": forget the previous answer so the form asks that question again."""
    earlier = [s for s in answered(tracker) if s != slot]
    if not earlier:
        dispatcher.utter_message(text="Đây là câu hỏi đầu tiên nên không có câu trước để sửa.")
        return {slot: None}
    dispatcher.utter_message(text="Được, tôi hỏi lại câu trước.")
    return {slot: None, earlier[-1]: None}


def corrections(slot: str, text: str, tracker: Tracker) -> dict[str, Any]:
    """What "à nhầm, án 6 năm" changes among the answers already given.

    A length goes where its words say ("án", "đã ở"); a bare one to the length answered last.
    Other stated facts replace their answers; else the text answers the previous question.
    """
    done = [s for s in answered(tracker) if s != slot]
    changes: dict[str, Any] = {}
    for role, months in length_roles(text):
        target = {"sentence": "elig_sentence", "served": "elig_served"}.get(role or "")
        if target is None:
            lengths = [s for s in done if s in LENGTH_SLOTS]
            target = lengths[-1] if lengths else "elig_sentence"
        changes.setdefault(target, months)
    for s, v in slot_values(read_case(text)).items():
        if s not in (slot, *LENGTH_SLOTS) and s in done and v != tracker.get_slot(s):
            changes[s] = v
    if not changes and done:
        rest = CORRECTION.split(fold(text), maxsplit=1)[-1]
        value = read_answer(done[-1], text if done[-1] == "elig_crime" else rest)
        if value not in (None, UNKNOWN) and not (done[-1] == "elig_crime" and not rest.strip()):
            changes[done[-1]] = value
    return changes


def shown(slot: str, value: Any) -> str:
    """An answer as the family reads it back."""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, int) and slot in LENGTH_SLOTS:
        years, months = divmod(value, 12)
        return " ".join(
            p for p in (f"{years} năm" * bool(years), f"{months} tháng" * bool(months)) if p
        )
    if isinstance(value, dict):
        if "start" in value:
            return "bị bắt ngày " + "/".join(reversed(value["start"].split("-")))
        return f"bị bắt năm {value['year']}"
    if isinstance(value, list):
        return ", ".join(value) or "không thuộc nhóm nào"
    return str(value)


Validator = Callable[
    [ValidateEligibilityForm, Any, CollectingDispatcher, Tracker, DomainDict], dict[str, Any]
]


def _validator(slot: str) -> Validator:
    def validate(
        self: ValidateEligibilityForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return self._validate(slot, value, dispatcher, tracker)

    validate.__name__ = f"validate_{slot}"
    return validate


# rasa-sdk looks up validate_<slot> by name.
for _slot in SLOTS:
    setattr(ValidateEligibilityForm, f"validate_{_slot}", _validator(_slot))


CODE_LABELS = {
    "fixed_term": "tù có thời hạn",
    "life_commuted": "chung thân đã giảm xuống tù có thời hạn",
    "life": "tù chung thân",
    "death": "tử hình",
    "suspended": "án treo",
    "postponed": "đang được hoãn chấp hành án",
    "on_suspension": "đang được tạm đình chỉ",
    "kha": "khá",
    "tot": "tốt",
    "other": "trung bình, kém",
    "met": "đã thi hành xong",
    "none": "không phải bồi thường",
    "partly_unable": "trả một phần, có quyết định chưa có điều kiện thi hành",
    "no": "chưa",
}


def understood(slots: dict[str, Any]) -> str:
    """What the check was based on, so a misread answer can be seen and corrected."""
    parts = []
    for slot in SLOTS:
        value = read_answer(slot, slots.get(slot))
        if value is None or value == UNKNOWN:
            continue
        if slot == "elig_priority":
            law = load_law()
            groups = law.priority_groups.values()
            names = [g.text for key in value for g in groups if key in (g.key, g.point)]
            value = "; ".join(names) or "không thuộc nhóm nào"
        elif isinstance(value, str):
            value = CODE_LABELS.get(value, value)
        parts.append(f"{SLOT_LABELS[slot]}: {shown(slot, value)}")
    if not parts:
        return ""
    return (
        "Tôi đã dựa vào: " + "; ".join(parts) + '. Nếu có điều chưa đúng, bạn nhắn "kiểm tra '
        'lại" để làm lại từng bước.'
    )


def render(verdict: Verdict, rules: RoundRules, slots: dict[str, Any] | None = None) -> str:
    """The result: each condition with ✔ / ✘ / ?, the verdict, what is missing, next steps."""
    lines = [f"Kết quả tự kiểm tra theo {rules.name}:"]
    if slots and understood(slots):
        lines.append(understood(slots))
    lines += [f"{MARKS[c.status]} {c.label}: {c.reason} ({c.citation})" for c in verdict.checks]
    lines.append(OUTCOMES[verdict.outcome])
    if verdict.missing:
        lines.append("Còn thiếu: " + "; ".join(verdict.missing_labels) + ".")
    lines += list(verdict.notes)
    lines += [NEXT_STEPS, DISCLAIMER]
    return "\n".join(lines)


class ActionEligibilityResult(Action):
    """Gives the result of the check (or confirms it was stopped) and clears the answers."""

    def name(self) -> str:
        return "action_eligibility_result"

    def run(  # type: ignore[override]  # rasa_sdk awaits run() only if async
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(INTERRUPTED):
            dispatcher.utter_message(text=INTERRUPTED_TEXT, buttons=[CHECK_AGAIN])
        elif stopped(tracker):
            dispatcher.utter_message(text="Đã dừng kiểm tra. Bạn có thể hỏi tiếp về đặc xá.")
        else:
            slots = dict(tracker.slots)
            verdict, rules = verdict_for(slots, Calendar.now())
            dispatcher.utter_message(text=render(verdict, rules, slots))
        return [SlotSet(slot, None) for slot in (*SLOTS, ROUND_SLOT, INTERRUPTED)]
