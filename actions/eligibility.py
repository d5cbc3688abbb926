"""The step-by-step eligibility check: a Rasa form that asks only what it does not know yet.

The form's slots hold canonical answers ("fixed_term", months, "kha", True...) or ``UNKNOWN``
when the family does not know; ``knowledge.eligibility`` decides which facts are still missing
and gives the verdict.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge.answers import DISCLAIMER
from knowledge.durations import parse_duration, parse_sentence
from knowledge.eligibility import SENTENCE_KINDS, Case, Verdict, evaluate
from knowledge.round_rules import load_round
from settings import get_settings
from vietnamese.text import fold

DomainDict = dict[str, Any]
UNKNOWN = "unknown"

# Slot → the evaluator's fact, in the order the questions are asked.
SLOTS = {
    "elig_kind": "sentence_kind",
    "elig_sentence": "sentence_months",
    "elig_served": "served_months",
    "elig_crime": "crime",
    "elig_rating": "rating",
    "elig_fines": "fines_paid",
    "elig_civil": "civil",
    "elig_priors": "prior_convictions",
    "elig_amnestied": "amnestied_before",
    "elig_prosecuted": "prosecuted_other",
    "elig_priority": "priority",
}
# Slots the first message can already answer ("bị 6 năm tù tội trộm cắp...").
PREFILLED = ("elig_kind", "elig_sentence", "elig_served", "elig_crime")
# Facts that one of our questions also settles.
SETTLED_BY = {"detention_start": "served_months", "serious_crime": "crime"}

DONT_KNOW = re.compile(r"\b(khong|ko|k|chua|hong|hok) (biet|ro|nho)\b|^\s*\?+\s*$")
STOP = re.compile(
    r"^\s*(dung|dung lai|huy|thoi|ngung|stop|khong kiem tra nua|thoi khong hoi nua)\W*$"
)
YES = re.compile(r"\b(co|roi|da|dung|yes|xong)\b")
NO = re.compile(r"\b(khong|ko|k|chua|hong|hok|no)\b")
KINDS = (
    ("co thoi han", "fixed_term"),
    ("da giam", "life_commuted"),
    ("duoc giam", "life_commuted"),
    ("giam xuong", "life_commuted"),
)
RATINGS = (
    ("kha", "kha"),
    ("tot", "tot"),
    ("trung binh", "other"),
    ("kem", "other"),
    ("khac", "other"),
)
CIVIL = (
    ("khong phai", "none"),
    ("khong co", "none"),
    ("mot phan", "partly_unable"),
    ("chua co dieu kien", "partly_unable"),
    ("xong", "met"),
    ("du", "met"),
    ("chua", "no"),
)
PRIORITY = (
    ("lap cong", "great_merit"),
    ("co cong", "revolution_merit"),
    ("liet si", "revolution_merit"),
    ("benh", "serious_illness"),
    ("om", "serious_illness"),
    ("duoi 18", "under_18_at_offence"),
    ("70", "aged_70"),
    ("lao dong duy nhat", "sole_breadwinner"),
    ("kho khan", "sole_breadwinner"),
    ("thai", "pregnant_or_young_child"),
    ("con nho", "pregnant_or_young_child"),
    ("khuyet tat", "severe_disability"),
    ("khong", ""),  # none of them (checked last: "bệnh nặng không tự đi được" is illness)
)
_KIND_CODES = frozenset(SENTENCE_KINDS)
# Values already in the evaluator's terms (set by the form itself) are kept as they are.
CANONICAL = {
    "elig_kind": _KIND_CODES,
    "elig_rating": {"kha", "tot", "other"},
    "elig_civil": {"met", "none", "partly_unable", "no"},
    "elig_priority": {"", *(value for _, value in PRIORITY)},
}
MARKS = {"met": "✔", "not_met": "✘", "unknown": "?"}
OUTCOMES = {
    "may_be_considered": "Theo những gì gia đình cho biết, người thân CÓ THỂ thuộc diện được "
    "xem xét đề nghị đặc xá.",
    "does_not_meet": "Theo những gì gia đình cho biết, người thân CHƯA đáp ứng điều kiện để được "
    "đề nghị đặc xá trong đợt này.",
    "cannot_tell": "Chưa thể kết luận vì còn thiếu thông tin.",
}
NEXT_STEPS = (
    "Gia đình có thể giúp: nộp tiền phạt, án phí, bồi thường tại cơ quan thi hành án dân sự và "
    "giữ biên lai; xin xác nhận của UBND xã nếu thuộc hoàn cảnh khó khăn; gửi giấy tờ y tế nếu "
    "người thân bị bệnh nặng. Danh sách người được đề nghị được niêm yết tại trại giam: hãy hỏi "
    "trại giam nơi người thân chấp hành án."
)


def _first(text: str, table: tuple[tuple[str, str], ...]) -> str | None:
    folded = fold(text)
    return next((value for key, value in table if re.search(rf"\b{key}\b", folded)), None)


def read_answer(slot: str, value: Any) -> Any:
    """The canonical value of an answer, ``UNKNOWN``, or None when it cannot be read."""
    if value is None or value == UNKNOWN:
        return value
    if not isinstance(value, str) or value in CANONICAL.get(slot, ()):
        return value  # already canonical (months, True/False, "fixed_term"...)
    if DONT_KNOW.search(fold(value)):
        return UNKNOWN
    if slot == "elig_kind":
        return _first(value, KINDS) or parse_sentence(value).kind
    if slot in {"elig_sentence", "elig_served"}:
        return parse_duration(value)
    if slot == "elig_crime":
        return value.strip() or None
    if slot == "elig_rating":
        return _first(value, RATINGS)
    if slot == "elig_civil":
        return _first(value, CIVIL)
    if slot == "elig_priors":
        folded = fold(value)
        digits = re.search(r"\d+", folded)
        return int(digits.group()) if digits else (0 if NO.search(folded) else None)
    if slot == "elig_priority":
        found = _first(value, PRIORITY)
        return None if found is None else found
    folded = fold(value)  # yes / no questions: the first word decides, else any word
    first = folded.split()[0] if folded.split() else ""
    if YES.fullmatch(first):
        return True
    if NO.fullmatch(first) or NO.search(folded):
        return False
    return True if YES.search(folded) else None


def case_from_slots(slots: dict[str, Any]) -> Case:
    """The evaluator's case from the form's slots (``UNKNOWN`` stays unknown)."""

    def get(slot: str) -> Any:
        value = read_answer(slot, slots.get(slot))
        return None if value in (None, UNKNOWN) else value

    priority = get("elig_priority")
    return Case(
        sentence_kind=get("elig_kind"),
        sentence_months=get("elig_sentence"),
        served_months=get("elig_served"),
        crime=get("elig_crime"),
        rating=get("elig_rating"),
        fines_paid=get("elig_fines"),
        civil=get("elig_civil"),
        prior_convictions=get("elig_priors"),
        amnestied_before=get("elig_amnestied"),
        prosecuted_other=get("elig_prosecuted"),
        priority=None if priority is None else frozenset(filter(None, [priority])),
    )


def verdict_for(slots: dict[str, Any]) -> Verdict:
    return evaluate(case_from_slots(slots), load_round(get_settings().current_round))


def still_needed(slots: dict[str, Any]) -> list[str]:
    """The slots to ask, in order: facts the verdict misses that the family was not asked."""
    missing = set(verdict_for(slots).missing)
    missing |= {SETTLED_BY[m] for m in missing if m in SETTLED_BY}
    return [
        slot
        for slot, fact in SLOTS.items()
        if fact in missing and read_answer(slot, slots.get(slot)) is None
    ]


def stopped(tracker: Tracker) -> bool:
    return bool(STOP.match(fold((tracker.latest_message or {}).get("text") or "")))


class ValidateEligibilityForm(FormValidationAction):
    """Fills the form from the first message, reads each answer, asks only what is missing."""

    def name(self) -> str:
        return "validate_eligibility_form"

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
        needed = still_needed(dict(tracker.slots))
        return [s for s in SLOTS if s in needed or tracker.get_slot(s) is not None]

    def _prefill(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        """On the message that started the check, take what it already says."""
        if tracker.get_slot("requested_slot") is not None:
            return {}
        message = tracker.latest_message or {}
        text = message.get("text") or ""
        found: dict[str, list[str]] = {}
        for e in message.get("entities") or []:
            found.setdefault(e.get("entity"), []).append(str(e.get("value")))
        lengths = found.get("sentence_length", [])
        served = found.get("time_served") or lengths[1:2]  # "bị 6 năm, đã ở 4 năm"
        sentence = parse_sentence(lengths[0] if lengths else "")
        value: Any = None
        if slot == "elig_kind":
            value = _first(text, KINDS) or parse_sentence(text).kind
            if value is None and sentence.months:
                value = "fixed_term"
        elif slot == "elig_sentence":
            value = sentence.months
        elif slot == "elig_served" and served:
            value = parse_duration(served[0])
        elif slot == "elig_crime" and found.get("crime"):
            value = found["crime"][0]
        return {slot: value} if value is not None else {}

    def _validate(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        answer = read_answer(slot, value)
        if answer is None:
            dispatcher.utter_message(
                text='Tôi chưa hiểu câu trả lời. Bạn chọn một nút, hoặc trả lời "không biết". '
                'Gõ "dừng" để dừng kiểm tra.'
            )
        return {slot: answer}


def _validator(slot: str):  # type: ignore[no-untyped-def]
    def validate(
        self: ValidateEligibilityForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return self._validate(slot, value, dispatcher)

    validate.__name__ = f"validate_{slot}"
    return validate


def _extractor(slot: str):  # type: ignore[no-untyped-def]
    def extract(
        self: ValidateEligibilityForm,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return self._prefill(tracker, slot)

    extract.__name__ = f"extract_{slot}"
    return extract


# rasa-sdk looks up validate_<slot> and extract_<slot> by name.
for _slot in SLOTS:
    setattr(ValidateEligibilityForm, f"validate_{_slot}", _validator(_slot))
for _slot in PREFILLED:
    setattr(ValidateEligibilityForm, f"extract_{_slot}", _extractor(_slot))


def render(verdict: Verdict) -> str:
    """The result: each condition with ✔ / ✘ / ?, the verdict, what is missing, next steps."""
    lines = [f"Kết quả tự kiểm tra (đợt {verdict.round_id}):"]
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

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if stopped(tracker):
            dispatcher.utter_message(text="Đã dừng kiểm tra. Bạn có thể hỏi tiếp về đặc xá.")
        else:
            dispatcher.utter_message(text=render(verdict_for(dict(tracker.slots))))
        return [SlotSet(slot, None) for slot in SLOTS]
