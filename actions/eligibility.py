"""The step-by-step eligibility check: a Rasa form that asks only what it does not know yet.

The form's slots hold canonical answers ("fixed_term", months, "kha", True...) or ``UNKNOWN``
when the family does not know; ``knowledge.eligibility.evaluator`` decides which facts are
still missing and gives the verdict.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.messages import starting_text, stopped
from knowledge.eligibility.case import SENTENCE_KINDS, Case, Verdict
from knowledge.eligibility.case_text import detention_in, length_roles, read_case, round_named
from knowledge.eligibility.durations import parse_duration, parse_sentence
from knowledge.eligibility.evaluator import evaluate
from knowledge.eligibility.round_rules import available_rounds, load_law, load_round
from knowledge.kb.answers import DISCLAIMER
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
    "elig_creditor": "creditor_agreed",
    "elig_complied": "complied_on_suspension",
    "elig_priors": "prior_convictions",
    "elig_amnestied": "amnestied_before",
    "elig_prosecuted": "prosecuted_other",
    "elig_protest": "under_protest",
    "elig_priority": "priority",
    "elig_age": "age_now",
}
FACT_SLOT = {fact: slot for slot, fact in SLOTS.items()}
ROUND_SLOT = "elig_round"  # the round the first message names; else the current round
LENGTH_SLOTS = ("elig_sentence", "elig_served")
# Facts that one of our questions also settles.
SETTLED_BY = {"detention_start": "served_months", "serious_crime": "crime"}

DONT_KNOW = re.compile(r"\b(khong|ko|k|chua|hong|hok) (biet|ro|nho)\b|^\s*\?+\s*$")
BACK = re.compile(r"^\W*(quay lai|tro lai|lui lai|cau truoc|sua cau truoc|hoi lai cau truoc)\b")
CORRECTION = re.compile(r"\b(nham|sua lai|xin sua|ghi lai|noi lai|ghi nham|go nham)\b")
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
}
SLOT_LABELS = {
    "elig_kind": "loại án",
    "elig_sentence": "mức án",
    "elig_served": "thời gian đã chấp hành",
    "elig_crime": "tội danh",
    "elig_rating": "xếp loại chấp hành án",
    "elig_fines": "tiền phạt, án phí",
    "elig_civil": "bồi thường",
    "elig_creditor": "người được bồi thường đồng ý",
    "elig_complied": "chấp hành pháp luật khi tạm đình chỉ",
    "elig_protest": "bản án bị kháng nghị",
    "elig_age": "tuổi hiện nay",
    "elig_priors": "số tiền án",
    "elig_amnestied": "đã từng được đặc xá",
    "elig_prosecuted": "đang bị truy cứu tội khác",
    "elig_priority": "nhóm ưu tiên",
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


def _priority_groups(text: str) -> list[str] | None:
    """Every priority group an answer names ("bệnh nặng, lại 72 tuổi"); [] for none."""
    folded = fold(text)
    groups = {value for key, value in PRIORITY if value and re.search(rf"\b{key}\b", folded)}
    groups |= read_case(text).get("priority", frozenset())
    if groups:
        return sorted(groups)
    return [] if re.search(r"\bkhong\b", folded) else None


def read_answer(slot: str, value: Any) -> Any:
    """The canonical value of an answer, ``UNKNOWN``, or None when it cannot be read.

    Canonical values: months (int) or a detention date ({"start": ISO date} or {"year": ...,
    "month": ...}) for the time served, a list of group keys for the priority groups, the
    evaluator's codes and True/False for the rest.
    """
    if value is None or value == UNKNOWN or not isinstance(value, str):
        return value  # canonical already (months, True/False, a list, a date...)
    if value in CANONICAL.get(slot, ()):
        return value
    if DONT_KNOW.search(fold(value)):
        return UNKNOWN
    if slot == "elig_kind":
        return _first(value, KINDS) or parse_sentence(value).kind
    if slot == "elig_sentence":
        return parse_duration(value)
    if slot == "elig_served":
        return parse_duration(value) or _detention_value(detention_in(value))
    if slot == "elig_crime":
        return value.strip() or None
    if slot == "elig_rating":
        return _first(value, RATINGS)
    if slot == "elig_civil":
        return _first(value, CIVIL)
    if slot == "elig_age":
        digits = re.search(r"\d{1,3}", value)
        return int(digits.group()) if digits and 0 < int(digits.group()) < 120 else None
    if slot == "elig_priors":
        folded = fold(value)
        digits = re.search(r"\d+", folded)
        return int(digits.group()) if digits else (0 if NO.search(folded) else None)
    if slot == "elig_priority":
        return _priority_groups(value)
    folded = fold(value)  # yes / no questions: the first word decides, else any word
    first = folded.split()[0] if folded.split() else ""
    if YES.fullmatch(first):
        return True
    if NO.fullmatch(first) or NO.search(folded):
        return False
    return True if YES.search(folded) else None


def _detention_value(found: dict[str, Any]) -> dict[str, Any] | None:
    if "detention_start" in found:
        return {"start": found["detention_start"]}
    if "detention_year" in found:
        return {"year": found["detention_year"], "month": found.get("detention_month")}
    return None


def slot_values(facts: dict[str, Any]) -> dict[str, Any]:
    """The form's slots from the facts ``read_case`` found in a message."""
    values = {FACT_SLOT[f]: v for f, v in facts.items() if f in FACT_SLOT}
    if "elig_served" not in values:
        detention = _detention_value(facts)
        if detention is not None:
            values["elig_served"] = detention
    if "elig_priority" in values:
        values["elig_priority"] = sorted(values["elig_priority"])
    return values


def case_from_slots(slots: dict[str, Any]) -> Case:
    """The evaluator's case from the form's slots (``UNKNOWN`` stays unknown)."""

    def get(slot: str) -> Any:
        value = read_answer(slot, slots.get(slot))
        return None if value in (None, UNKNOWN) else value

    served = get("elig_served")
    detention = served if isinstance(served, dict) else {}
    priority = get("elig_priority")
    under_18 = priority is not None and "under_18_at_offence" in priority
    return Case(
        sentence_kind=get("elig_kind"),
        sentence_months=get("elig_sentence"),
        served_months=served if isinstance(served, int) else None,
        detention_start=detention.get("start"),
        detention_year=detention.get("year"),
        detention_month=detention.get("month"),
        crime=get("elig_crime"),
        rating=get("elig_rating"),
        fines_paid=get("elig_fines"),
        civil=get("elig_civil"),
        creditor_agreed=get("elig_creditor"),
        complied_on_suspension=get("elig_complied"),
        prior_convictions=get("elig_priors"),
        amnestied_before=get("elig_amnestied"),
        prosecuted_other=get("elig_prosecuted"),
        under_protest=get("elig_protest"),
        priority=None if priority is None else frozenset(priority),
        age_at_offence=17 if under_18 else None,  # "under 18 at the offence" is all we know
        age_now=get("elig_age"),
    )


def verdict_for(slots: dict[str, Any]) -> Verdict:
    named = slots.get(ROUND_SLOT)
    round_id = named if named in available_rounds() else get_settings().current_round
    return evaluate(case_from_slots(slots), load_round(round_id))


def still_needed(slots: dict[str, Any]) -> list[str]:
    """The slots to ask, in order: facts the verdict misses that the family was not asked."""
    missing = set(verdict_for(slots).missing)
    missing |= {SETTLED_BY[m] for m in missing if m in SETTLED_BY}
    return [
        slot
        for slot, fact in SLOTS.items()
        if fact in missing and read_answer(slot, slots.get(slot)) is None
    ]


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
        named = round_named(text, get_settings().current_round)
        return values | ({ROUND_SLOT: named} if named else {})

    def validate_elig_round(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {ROUND_SLOT: value if value in available_rounds() else None}

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


def _validator(slot: str):  # type: ignore[no-untyped-def]
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


def render(verdict: Verdict, slots: dict[str, Any] | None = None) -> str:
    """The result: each condition with ✔ / ✘ / ?, the verdict, what is missing, next steps."""
    lines = [f"Kết quả tự kiểm tra theo {load_round(verdict.round_id).name}:"]
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

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if stopped(tracker):
            dispatcher.utter_message(text="Đã dừng kiểm tra. Bạn có thể hỏi tiếp về đặc xá.")
        else:
            slots = dict(tracker.slots)
            dispatcher.utter_message(text=render(verdict_for(slots), slots))
        return [SlotSet(slot, None) for slot in (*SLOTS, ROUND_SLOT)]
