"""The step-by-step check's slots: what each asks, and the family's answers read into the
evaluator's terms ("6 năm rưỡi" → 78 months, "khá" → "kha", "không biết" → unknown)."""

from __future__ import annotations

import re
from typing import Any

from knowledge.eligibility.case import SENTENCE_KINDS, Case
from knowledge.eligibility.case_text import detention_in, read_case
from knowledge.eligibility.durations import parse_duration, parse_sentence
from vietnamese.text import fold

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
