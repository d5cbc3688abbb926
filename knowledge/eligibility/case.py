"""One person's case as the amnesty check sees it, and the shape of its verdict: the fact names,
the labels shown to families, and the answers parsed from the form's slots or the case reader."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, get_args

from knowledge.eligibility.round_rules import (
    Group,
)
from vietnamese.text import fold

SentenceKind = Literal[
    "fixed_term", "life_commuted", "life", "death", "suspended", "postponed", "on_suspension"
]
Rating = Literal["kha", "tot", "other"]
Civil = Literal["met", "none", "partly_unable", "partly_paid", "no"]  # partly_paid: no decision
Status = Literal["met", "not_met", "unknown"]
Outcome = Literal["may_be_considered", "does_not_meet", "cannot_tell"]
SENTENCE_KINDS: tuple[str, ...] = get_args(SentenceKind)

LAW = "Luật Đặc xá 2018"
ASK = "Gia đình nên hỏi trại giam nơi người thân chấp hành án để biết chính xác."

# What to ask the family for each missing fact (Case fields, and two facts about the round).
MISSING_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "sentence_kind": "loại án (tù có thời hạn, chung thân đã giảm, tạm đình chỉ...)",
        "sentence_months": "mức án tù (bao nhiêu năm, tháng)",
        "served_months": "thời gian đã chấp hành (hoặc ngày bị bắt, tạm giam)",
        "detention_start": "ngày, tháng bị bắt hoặc tạm giam",
        "rating": "xếp loại chấp hành án (khá, tốt hay loại khác)",
        "fines_paid": "đã nộp xong tiền phạt và án phí chưa",
        "civil": "đã thi hành nghĩa vụ bồi thường, trả lại tài sản chưa",
        "civil_decision": "đã có quyết định 'chưa có điều kiện thi hành' phần còn lại chưa",
        "creditor_agreed": "người được bồi thường có đồng ý hoãn hoặc không yêu cầu thi hành không",
        "crime": "tội danh (tên tội hoặc điều luật)",
        "serious_crime": "mức án riêng của từng tội (khi bị xử nhiều tội)",
        "prior_convictions": "số tiền án trước đây",
        "amnestied_before": "trước đây đã từng được đặc xá chưa",
        "prosecuted_other": "có đang bị truy cứu về một tội khác không",
        "priority": "có thuộc nhóm ưu tiên không (bệnh nặng, từ 70 tuổi, có con nhỏ...)",
        "age_now": "tuổi hiện nay",
        "complied_on_suspension": "có chấp hành nghiêm pháp luật khi được tạm đình chỉ không",
        "round_cutoff": "mốc tính thời gian của đợt đặc xá (hỏi trại giam)",
        "round_time_requirement": "mức thời gian chính thức của đợt (hỏi trại giam)",
        "finished_on": "ngày chấp hành xong án (ngày ra tù)",
        "new_crime": "từ khi ra tù có phạm tội mới không",
        "first_offence": "có phải phạm tội lần đầu không",
        "reduced_before": "đã được giảm án lần nào chưa",
        "illness": "bệnh gì, đã có kết luận của bệnh viện cấp tỉnh trở lên chưa",
    }
)

GROUP_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "ordinary": "trường hợp thông thường",
        "serious": "nhóm tội phải chấp hành ít nhất 1/2 (Điều 11 khoản 1 điểm b)",
        "priority": "nhóm ưu tiên (Điều 11 khoản 3: bệnh nặng, từ 70 tuổi, con nhỏ…)",
        "juvenile": "người dưới 18 tuổi đang chấp hành án (Điều 11 khoản 4)",
    }
)

CHECK_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "sentence_kind": "Loại án",
        "rating": "Xếp loại cải tạo",
        "time_served": "Thời gian đã chấp hành",
        "fines": "Tiền phạt và án phí",
        "civil": "Bồi thường, nghĩa vụ dân sự",
        "suspension_conduct": "Chấp hành pháp luật khi tạm đình chỉ",
        "excluded_crime": "Tội không được xét đặc xá",
        "under_protest": "Bản án bị kháng nghị",
        "prosecuted_other": "Đang bị truy cứu tội khác",
        "amnestied_before": "Đã được đặc xá trước đây",
        "prior_convictions": "Số tiền án",
        "round_exclusions": "Trường hợp loại trừ riêng của đợt",
    }
)


# --- The case ----------------------------------------------------------------------------------

_YES = {"yes", "true", "co", "roi", "da"}
_NO = {"no", "false", "khong", "chua"}
_UNKNOWN = {"", "unknown", "khong biet", "chua biet", "chua ro", "khong ro"}
_CHOICES: Mapping[str, Mapping[str, str]] = {
    "rating": {"kha": "kha", "tot": "tot", "other": "other", "trung binh": "other", "kem": "other"},
    "civil": {
        **{k: k for k in get_args(Civil)},
        **{"yes": "met", "partly": "partly_unable"},
    },
    "sentence_kind": {k: k for k in SENTENCE_KINDS},
}
_YES_NO = (
    "fines_paid",
    "creditor_agreed",
    "serious_crime",
    "amnestied_before",
    "prosecuted_other",
    "under_protest",
    "complied_on_suspension",
    "first_offence",
    "new_crime",
    "reduced_before",
)


def _answer(name: str, value: Any) -> Any:
    """Read True/False/None, a choice, or a typed answer ("có", "không", "không biết")."""
    if value is None or (isinstance(value, bool) and name in _YES_NO):
        return value
    key = fold(str(value)).strip().replace("-", "_")
    if key in _UNKNOWN:
        return None
    choices: Mapping[str, str | bool] = _CHOICES.get(name) or {
        **dict.fromkeys(_YES, True),
        **dict.fromkeys(_NO, False),
    }
    if key not in choices:
        raise ValueError(f"{name}: cannot read {value!r}")
    return choices[key]


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", str(value).strip())
    if found:
        day, month, year = map(int, found.groups())
        return dt.date(year, month, day)
    return dt.date.fromisoformat(str(value).strip())


@dataclass(frozen=True)
class Case:
    """What the family told us; every field is optional and None means "not known".

    ``served_months`` is the time actually spent in custody and prison (sentence reductions do
    not count). With ``detention_start`` (or only ``detention_year``, and ``detention_month``)
    the time is counted to the round's cut-off date instead. ``crime`` is free text or a BLHS
    2015 article ("173"). ``priority`` holds keys or points of Điều 11 khoản 3
    ("serious_illness", "đ"): an empty set means "none of them", None means not asked.
    ``creditor_agreed`` is also True when the rest is owed to the State (no consent needed).
    Typed answers ("có", "khá") are accepted.
    """

    sentence_kind: SentenceKind | None = None
    sentence_months: int | None = None
    served_months: int | None = None
    detention_start: dt.date | None = None
    detention_year: int | None = None
    detention_month: int | None = None  # with detention_year, when only the month is known
    rating: Rating | None = None
    fines_paid: bool | None = None
    civil: Civil | None = None
    creditor_agreed: bool | None = None
    crime: str | None = None
    serious_crime: bool | None = None
    prior_convictions: int | None = None
    amnestied_before: bool | None = None
    prosecuted_other: bool | None = None
    under_protest: bool | None = None
    priority: frozenset[str] | None = None
    age_at_offence: int | None = None
    age_now: int | None = None
    complied_on_suspension: bool | None = None
    suspended_on: dt.date | None = None  # the suspension began: time served stops there
    # For the other measures (reduction, early release, record clearing):
    finished_on: dt.date | None = None  # the principal penalty served in full on this day
    finished_year: int | None = None  # ... or in this year
    finished_month: int | None = None  # ... and month
    released_months_ago: int | None = None  # "ra tù được gần 4 năm"
    went_in_years_ago: int | None = None  # "cách đây 15 năm bố em đi tù"
    detention_years_ago: int | None = None  # "bị bắt tháng 3 năm ngoái": 1 (with the month)
    illness: str | None = None  # a serious illness of the suspension list, as the reply names it
    finished_at_latest: bool = False  # finished_year is the latest it can be, not the year told
    first_offence: bool | None = None
    new_crime: bool | None = None  # a new crime since release (record clearing)
    reduced_before: bool | None = None  # a sentence reduction already granted

    def __post_init__(self) -> None:
        fixed = {name: _answer(name, getattr(self, name)) for name in (*_CHOICES, *_YES_NO)}
        fixed["detention_start"] = _date(self.detention_start)
        fixed["finished_on"] = _date(self.finished_on)
        fixed["suspended_on"] = _date(self.suspended_on)
        fixed["crime"] = None if self.crime is None else (str(self.crime).strip() or None)
        if self.priority is not None:
            values = [self.priority] if isinstance(self.priority, str) else self.priority
            fixed["priority"] = frozenset(str(p).strip().lower() for p in values)
        for name, value in fixed.items():
            object.__setattr__(self, name, value)


# --- The verdict -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One condition: its status, a plain-Vietnamese reason and the article that decides it.

    ``missing`` names the facts that would settle an unknown status.
    """

    name: str
    status: Status
    reason: str
    citation: str
    missing: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return CHECK_LABELS.get(self.name, self.name)


@dataclass(frozen=True)
class Verdict:
    round_id: str
    outcome: Outcome
    checks: tuple[Check, ...]
    missing: tuple[str, ...]
    notes: tuple[str, ...] = ()
    group: Group | None = None  # which time rule applied; None when it depends on a missing fact

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def missing_labels(self) -> tuple[str, ...]:
        return tuple(MISSING_LABELS.get(m, m) for m in self.missing)
