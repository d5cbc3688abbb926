"""Whether one person's case may be proposed for amnesty, checked condition by condition.

The rules are data: ``rules/law.yml`` (floors and lists of the Luật Đặc xá 2018) plus one file
per round (``rules/<round>.yml``); adding a round is adding a file. ``evaluate`` is a pure
function of a ``Case`` and the rules: an unknown answer stays unknown and is reported as a
missing fact, never guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from itertools import product
from types import MappingProxyType
from typing import Any, Literal, get_args

from knowledge.round_rules import (
    LAW_ROUND,
    Group,
    Item,
    Law,
    RoundRules,
    Sourced,
    Threshold,
    folded_words,
)
from vietnamese.text import fold

SentenceKind = Literal[
    "fixed_term", "life_commuted", "life", "death", "suspended", "postponed", "on_suspension"
]
Rating = Literal["kha", "tot", "other"]
Civil = Literal["met", "none", "partly_unable", "no"]
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
        "creditor_agreed": "người được bồi thường có đồng ý hoãn hoặc không yêu cầu thi hành không",
        "crime": "tội danh (tên tội hoặc điều luật)",
        "serious_crime": "tội có thuộc nhóm phải chấp hành ít nhất 1/2 thời gian không",
        "prior_convictions": "số tiền án trước đây",
        "amnestied_before": "trước đây đã từng được đặc xá chưa",
        "prosecuted_other": "có đang bị truy cứu về một tội khác không",
        "priority": "có thuộc nhóm ưu tiên không (bệnh nặng, từ 70 tuổi, có con nhỏ...)",
        "age_now": "tuổi hiện nay",
        "complied_on_suspension": "có chấp hành nghiêm pháp luật khi được tạm đình chỉ không",
        "round_cutoff": "mốc tính thời gian của đợt đặc xá (hỏi trại giam)",
        "round_time_requirement": "mức thời gian chính thức của đợt (hỏi trại giam)",
    }
)

GROUP_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "ordinary": "trường hợp thông thường",
        "serious": "nhóm tội phải chấp hành ít nhất 1/2 (Điều 11 khoản 1 điểm b)",
        "priority": "nhóm ưu tiên (Điều 11 khoản 3)",
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
)


def _answer(name: str, value: Any) -> Any:
    """Read True/False/None, a choice, or a typed answer ("có", "không", "không biết")."""
    if value is None or (isinstance(value, bool) and name in _YES_NO):
        return value
    key = fold(str(value)).strip().replace("-", "_")
    if key in _UNKNOWN:
        return None
    choices = _CHOICES.get(name) or {**dict.fromkeys(_YES, True), **dict.fromkeys(_NO, False)}
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

    def __post_init__(self) -> None:
        fixed = {name: _answer(name, getattr(self, name)) for name in (*_CHOICES, *_YES_NO)}
        fixed["detention_start"] = _date(self.detention_start)
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


# --- Facts derived from the case ---------------------------------------------------------------


@cache
def _alias_patterns(
    aliases: tuple[tuple[str, str], ...],
) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each crime alias as a whole-word pattern, compiled once."""
    return tuple((re.compile(rf"(?<!\w){re.escape(a)}(?!\w)"), code) for a, code in aliases)


def crime_codes(text: str | None, law: Law) -> frozenset[str] | None:
    """The BLHS articles a crime answer names ("Điều 173", "trộm cắp"); None if none is found."""
    if not text:
        return None
    words = folded_words(text)
    codes = set(re.findall(r"\bdieu (\d{3}[a-z]?)\b", words))
    if re.fullmatch(r"\d{3}[a-z]?", words):
        codes.add(words)
    taken: list[tuple[int, int]] = []
    for pattern, code in _alias_patterns(law.aliases):  # longest first: "cướp giật tài sản"
        for m in pattern.finditer(words):
            if all(m.end() <= a or m.start() >= b for a, b in taken):
                taken.append(m.span())
                codes.add(code)
    return frozenset(codes) or None


def _serious(case: Case, codes: frozenset[str] | None, law: Law) -> bool | None:
    """Điều 11 khoản 1 điểm b, đoạn 2: the group that must serve 1/2 or 17 years."""
    if case.serious_crime is not None or codes is None:
        return case.serious_crime
    first, last = law.persons_chapter
    answers: list[bool | None] = []
    for code in codes:
        number = int(re.sub(r"\D", "", code))
        if code in law.serious_any:
            answers.append(True)
            continue
        if first <= number <= last and code not in law.negligent:
            years = law.persons_min_years
        elif code in law.property_drugs:
            years = law.property_min_years
        else:
            answers.append(False)
            continue
        if case.sentence_kind == "life_commuted":
            answers.append(True)
        else:
            months = case.sentence_months
            answers.append(None if months is None else months >= years * 12)
    if True in answers:
        return True
    return None if None in answers else False


def _priority(case: Case, law: Law) -> tuple[bool | None, tuple[Item, ...]]:
    """Điều 11 khoản 3: the groups stated or implied by the ages."""
    by_name = {name: i for i in law.priority_groups.values() for name in (i.key, i.point)}
    groups = []
    for name in sorted(case.priority or ()):
        if name not in by_name:
            raise ValueError(f"priority: unknown group {name!r}; use one of {sorted(by_name)}")
        groups.append(by_name[name])
    if case.age_at_offence is not None and case.age_at_offence < 18:
        groups.append(law.priority_groups["under_18_at_offence"])
    if case.age_now is not None and case.age_now >= 70:
        groups.append(law.priority_groups["aged_70"])
    if groups:
        return True, tuple(dict.fromkeys(groups))
    return (None if case.priority is None else False), ()


def _juvenile_now(case: Case) -> bool | None:
    """Điều 11 khoản 4 is for a person under 18 while serving, not only at the offence."""
    if case.age_now is not None:
        return case.age_now < 18
    return None if case.age_at_offence is not None and case.age_at_offence < 18 else False


# --- Time served -------------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def months_between(start: dt.date, end: dt.date) -> Fraction:
    """Calendar months from ``start`` to ``end``, both days counted.

    A part month counts as its share of the days of that month (so 2/9 to 31/8 is short of 12).
    """
    stop = end + dt.timedelta(days=1)
    if stop <= start:
        return Fraction(0)
    months = (stop.year - start.year) * 12 + stop.month - start.month
    if _add_months(start, months) > stop:
        months -= 1
    anchor, following = _add_months(start, months), _add_months(start, months + 1)
    return months + Fraction((stop - anchor).days, (following - anchor).days)


def _duration_text(months: Fraction) -> str:
    whole = int(months)
    years, rest = divmod(whole, 12)
    days = -(-(months - whole) * 30 // 1)
    parts = (
        f"{years} năm" * bool(years),
        f"{rest} tháng" * bool(rest),
        f"{days} ngày" * bool(days),
    )
    return " ".join(p for p in parts if p) or "0 tháng"


def _day(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


@dataclass(frozen=True)
class _Served:
    low: Fraction
    high: Fraction
    text: str


def _served(case: Case, rules: RoundRules, as_of: dt.date | None) -> _Served | str:
    """Time served as a range of months, or the name of the missing fact."""
    end = rules.cutoff.value
    label = f"tính đến {_day(end)}, mốc của đợt" if end else ""
    if end is None and as_of is not None:
        end = as_of
        label = f"tính đến {_day(as_of)}" + "; mốc của đợt chưa rõ" * (rules.round_id != LAW_ROUND)
    by_date = case.sentence_kind != "on_suspension"  # time on suspension does not count
    if by_date and end and case.detention_start:
        served = months_between(case.detention_start, end)
        return _Served(served, served, f"khoảng {_duration_text(served)} ({label})")
    if by_date and end and case.detention_year:
        first_month, last_month = case.detention_month or 1, case.detention_month or 12
        first = dt.date(case.detention_year, first_month, 1)
        last = _add_months(first, last_month - first_month + 1) - dt.timedelta(days=1)
        low, high = months_between(last, end), months_between(first, end)
        return _Served(low, high, f"{_duration_text(low)} đến {_duration_text(high)} ({label})")
    if case.served_months is not None:
        served = Fraction(case.served_months)
        return _Served(served, served, f"khoảng {_duration_text(served)}")
    if by_date and (case.detention_start or case.detention_year):
        return "round_cutoff"
    return "served_months"


def _need(threshold: Threshold, case: Case) -> tuple[Sourced, Fraction | None, str]:
    """The value that applies, the months it means (None: not known) and how to say it."""
    if case.sentence_kind == "life_commuted":
        years = threshold.life_years
        months = None if years.value is None else Fraction(years.value * 12)
        return years, months, f"{years.value} năm"
    share = threshold.share
    if share.value is None:
        return share, None, ""
    text = f"{share.value.numerator}/{share.value.denominator} mức án"
    if case.sentence_months is None:
        return share, None, text
    months = share.value * case.sentence_months
    return share, months, f"{text} ({_duration_text(months)})"


def _compare(served: _Served, months: Fraction) -> Status:
    """Exactly at the required time counts as met."""
    if served.low >= months:
        return "met"
    return "not_met" if served.high < months else "unknown"


def _time_for(group: Group, case: Case, rules: RoundRules, served: _Served | str) -> Check:
    """The time rule of one group: the round's figure if verified, else the law's floor."""
    floor, floor_months, floor_text = _need(rules.law.floors[group], case)
    press, press_months, press_text = _need(rules.time[group], case)
    cite = floor.source
    if press.value is not None:
        cite += f"; {press.source}"
    trusted = press.value is not None and press.verified
    if trusted:
        floor, floor_months, floor_text = press, press_months, press_text
    name = "time_served"
    if floor.value is None:
        reason = "Luật không đặt mức thời gian tối thiểu cho nhóm này; Chủ tịch nước quyết định."
        status: Status = "met"
    elif floor_months is None:
        return Check(name, "unknown", "Cần biết mức án để tính.", cite, ("sentence_months",))
    elif isinstance(served, str):
        reason = f"Cần biết thời gian đã chấp hành; phải đạt ít nhất {floor_text}."
        return Check(name, "unknown", reason, cite, (served,))
    else:
        status = _compare(served, floor_months)
        whose = "của đợt" if trusted else "theo Luật"
        reason = f"Đã chấp hành {served.text}; mức tối thiểu {whose} là {floor_text}."
        if status == "not_met":
            return Check(name, status, f"{reason} Chưa đủ thời gian.", cite)
        if status == "unknown":
            reason += " Cần ngày bị bắt cụ thể để biết đã đủ hay chưa."
            return Check(name, status, reason, cite, ("detention_start",))
    if trusted:
        return Check(name, status, reason, cite)
    if press.value is None:
        more = f"Mức của {rules.name} chưa được kiểm chứng; đợt này có thể yêu cầu cao hơn."
        if rules.round_id == LAW_ROUND:
            more = "Mỗi đợt đặc xá có thể yêu cầu cao hơn mức này."
        return Check(name, status, f"{reason} {more} {ASK}", cite)
    said = f"Theo báo chí, {rules.name} yêu cầu ít nhất {press_text}; mức này chưa kiểm chứng"
    if press_months is None or isinstance(served, str):
        missing = ("sentence_months",) if press_months is None else (served,)
        return Check(name, "unknown", f"{reason} {said}. {ASK}", cite, missing)
    against_press = _compare(served, press_months)
    if against_press == "met":
        return Check(name, "met", f"{reason} {said}, nhưng cũng đã đạt. {ASK}", cite)
    missing = ("round_time_requirement",)
    if against_press == "unknown":
        missing = ("detention_start", *missing)
    return Check(name, "unknown", f"{reason} {said} và có thể chưa đạt. {ASK}", cite, missing)


def _time_check(
    case: Case, rules: RoundRules, facts: Mapping[str, bool | None], as_of: dt.date | None
) -> Check:
    """Try every reading left open by unknown facts: they agree, or the missing facts are named."""
    served = _served(case, rules, as_of)
    # Strictest first: adult, no priority group, serious-crime group.
    tries = {"juvenile": [False, True], "priority": [False, True], "serious": [True, False]}
    options = [tries[n] if facts[n] is None else [facts[n]] for n in tries]
    results: dict[Group, Check] = {}
    for juvenile, priority, serious in product(*options):
        group: Group = "ordinary"
        if juvenile:
            group = "juvenile"
        elif priority:
            group = "priority"
        elif serious:
            group = "serious"
        results.setdefault(group, _time_for(group, case, rules, served))
    checks = list(results.values())
    statuses = {c.status for c in checks}
    if len(statuses) == 1:  # all readings agree: show the strictest met, the mildest not met
        return checks[-1] if statuses == {"not_met"} else checks[0]
    asks = {"juvenile": "age_now", "priority": "priority", "serious": "serious_crime"}
    if case.crime is None:
        asks["serious"] = "crime"
    missing = [asks[n] for n in tries if facts[n] is None]
    missing += [m for c in checks for m in c.missing]
    readings = " ".join(f"Nếu là {GROUP_NAMES[g]}: {c.reason}" for g, c in results.items())
    reason = f"Còn tùy trường hợp. {readings}"
    return Check(
        "time_served", "unknown", reason, checks[0].citation, tuple(dict.fromkeys(missing))
    )


# --- The other conditions ----------------------------------------------------------------------


def _kind(case: Case, law: Law) -> Check:
    if case.sentence_kind is None:
        reason = "Chưa biết loại án (tù có thời hạn, chung thân đã giảm, tạm đình chỉ...)."
        cite = f"{LAW}, Điều 11 khoản 1, 2"
        return Check("sentence_kind", "unknown", reason, cite, ("sentence_kind",))
    kind = law.kinds[case.sentence_kind]
    if kind["covered"]:
        return Check(
            "sentence_kind", "met", f"Thuộc diện được xét: {kind['text']}.", kind["source"]
        )
    return Check("sentence_kind", "not_met", kind["text"], kind["source"])


def _rating(case: Case, rules: RoundRules) -> Check:
    suspended = case.sentence_kind == "on_suspension"
    cite = f"{LAW}, Điều 11 khoản {'2' if suspended else '1'} điểm a; "
    cite += "Nghị định 52/2019/NĐ-CP, Điều 4 khoản 1"
    when = " trong thời gian chấp hành án trước khi tạm đình chỉ" * suspended
    extra = ""
    if rules.rating.value:
        extra = f" {rules.rating.value}" + " Thông tin này chưa kiểm chứng." * (
            not rules.rating.verified
        )
    if case.rating in ("kha", "tot"):
        word = {"kha": "khá", "tot": "tốt"}[case.rating]
        reason = f"Được xếp loại {word}{when}: đạt, nếu mọi quý đã xếp loại đều khá hoặc tốt."
        return Check("rating", "met", reason + extra, cite)
    if case.rating == "other":
        reason = (
            f"Phải được xếp loại chấp hành án khá hoặc tốt{when}; loại trung bình, kém là chưa đạt."
        )
        return Check("rating", "not_met", reason, cite)
    reason = f"Chưa biết xếp loại chấp hành án{when}; cần loại khá hoặc tốt.{extra}"
    return Check("rating", "unknown", reason, cite, ("rating",))


def _fines(case: Case) -> Check:
    cite = f"{LAW}, Điều 11 khoản 1 điểm c; Điều 14 khoản 3"
    if case.fines_paid:
        return Check("fines", "met", "Đã nộp xong tiền phạt (nếu có) và án phí.", cite)
    if case.fines_paid is False:
        reason = (
            "Phải nộp xong tiền phạt và án phí (hoặc có quyết định miễn của Tòa án) mới được "
            "đề nghị đặc xá. Nộp tại cơ quan thi hành án dân sự và giữ biên lai."
        )
        return Check("fines", "not_met", reason, cite)
    reason = "Chưa biết đã nộp xong tiền phạt và án phí chưa."
    return Check("fines", "unknown", reason, cite, ("fines_paid",))


def _civil(case: Case, rules: RoundRules, codes: frozenset[str] | None) -> Check:
    """Điều 11 khoản 1 điểm d (corruption: all paid) and điểm đ (others: partly may do)."""
    full = rules.law.corruption | (rules.full_civil_crimes.value or frozenset())
    corrupt = None if codes is None else bool(codes & full)
    cite = f"{LAW}, Điều 11 khoản 1 điểm d, đ"
    if case.civil in ("met", "none"):
        done = "Không phải bồi thường" if case.civil == "none" else "Đã thi hành xong"
        return Check("civil", "met", f"{done} nghĩa vụ trả lại tài sản, bồi thường.", cite)
    if case.civil is None:
        reason = "Chưa biết đã bồi thường, trả lại tài sản chưa."
        return Check("civil", "unknown", reason, cite, ("civil",))
    if corrupt:
        reason = (
            "Người bị kết án về tội tham nhũng phải thi hành xong toàn bộ nghĩa vụ trả lại tài "
            "sản, bồi thường; trả một phần là chưa đủ."
        )
        return Check("civil", "not_met", reason, f"{LAW}, Điều 11 khoản 1 điểm d")
    cite = f"{LAW}, Điều 11 khoản 1 điểm đ; Nghị định 52/2019/NĐ-CP, Điều 4 khoản 3"
    if case.civil == "no":
        reason = (
            "Phải thi hành xong, hoặc đã thi hành một phần và có quyết định 'chưa có điều kiện "
            "thi hành' của cơ quan thi hành án dân sự."
        )
        return Check("civil", "not_met", reason, cite)
    if corrupt is None:  # partly paid: enough, except for corruption
        reason = (
            "Trả một phần và có quyết định 'chưa có điều kiện thi hành' là đủ, trừ tội tham "
            "nhũng (phải trả hết). Cần biết tội danh."
        )
        return Check("civil", "unknown", reason, cite, ("crime",))
    reason = "Đã thi hành một phần, phần còn lại thuộc diện 'chưa có điều kiện thi hành'"
    if case.creditor_agreed:
        reason += "; người được bồi thường đã đồng ý (hoặc đó là tài sản Nhà nước)."
        return Check("civil", "met", reason, cite)
    reason += (
        "; nếu phần còn lại là tài sản không thuộc Nhà nước thì người được bồi thường phải "
        "đồng ý hoãn hoặc không yêu cầu thi hành"
    )
    if case.creditor_agreed is False:
        return Check("civil", "not_met", f"{reason}, mà họ chưa đồng ý.", cite)
    return Check("civil", "unknown", f"{reason}.", cite, ("creditor_agreed",))


def _not_needed_if_minor(check: Check) -> Check:
    """Age now unknown but under 18 at the offence: khoản 4 would drop this condition."""
    if check.status != "not_met":
        return check
    reason = f"{check.reason} Nếu hiện nay người đó vẫn dưới 18 tuổi thì không cần điều kiện này."
    cite = f"{check.citation}; {LAW}, Điều 11 khoản 4"
    return Check(check.name, "unknown", reason, cite, ("age_now",))


def _suspension(case: Case) -> Check:
    cite = f"{LAW}, Điều 11 khoản 2 điểm d; Điều 14 khoản 5"
    name = "suspension_conduct"
    if case.complied_on_suspension:
        return Check(name, "met", "Chấp hành nghiêm pháp luật khi được tạm đình chỉ.", cite)
    if case.complied_on_suspension is False:
        return Check(
            name, "not_met", "Phải chấp hành nghiêm pháp luật khi được tạm đình chỉ.", cite
        )
    reason = "Cần nhận xét của Ủy ban nhân dân cấp xã về việc chấp hành pháp luật khi tạm đình chỉ."
    return Check(name, "unknown", reason, cite, ("complied_on_suspension",))


def _exclusions(case: Case, rules: RoundRules, codes: frozenset[str] | None) -> list[Check]:
    """Điều 12: never proposed, whatever else is met."""
    law = rules.law
    cite = f"{LAW}, Điều 12 khoản 1"
    if codes is None:
        said = "Chưa rõ tội danh" if case.crime is None else "Chưa nhận ra tội danh"
        reason = f"{said}; cần tên tội hoặc điều luật."
        checks = [Check("excluded_crime", "unknown", reason, cite, ("crime",))]
    elif hit := sorted(codes & law.exclusions["excluded_crime"].crimes):
        names = "; ".join(law.crimes.get(c, f"Điều {c} BLHS") for c in hit)
        reason = f"{names}: thuộc các tội không được đề nghị đặc xá."
        checks = [Check("excluded_crime", "not_met", reason, cite)]
    else:
        reason = "Tội danh không thuộc danh sách bị loại trừ của Luật."
        checks = [Check("excluded_crime", "met", reason, cite)]
    count = case.prior_convictions
    # Khoản 2–5: (the answer, what it means when true, when false).
    flags = {
        "under_protest": (
            case.under_protest,
            "Bản án đang bị kháng nghị giám đốc thẩm, tái thẩm theo hướng tăng nặng.",
            "Bản án không bị kháng nghị theo hướng tăng nặng.",
        ),
        "prosecuted_other": (
            case.prosecuted_other,
            "Đang bị truy cứu trách nhiệm hình sự về tội khác.",
            "Không bị truy cứu về tội khác.",
        ),
        "amnestied_before": (
            case.amnestied_before,
            "Trước đây đã được đặc xá; mỗi người chỉ được đặc xá một lần.",
            "Chưa từng được đặc xá.",
        ),
        "prior_convictions": (
            None if count is None else count >= law.prior_limit,
            f"Có {count} tiền án (từ 02 tiền án trở lên).",
            "Không có tiền án." if count == 0 else f"Có {count} tiền án, dưới mức 02 tiền án.",
        ),
    }
    for name, (value, yes, no) in flags.items():
        item = law.exclusions[name]
        cite = f"{LAW}, Điều 12 khoản {item.point}"
        if value:
            checks.append(Check(name, "not_met", f"{yes} Không được đề nghị đặc xá.", cite))
        elif value is False:
            checks.append(Check(name, "met", no, cite))
        elif name != "under_protest":  # rarely known to families: a note says it instead
            checks.append(Check(name, "unknown", f"Chưa biết: {item.text}.", cite, (name,)))
    for extra in rules.extra_exclusions.value or ():
        if codes and codes & frozenset(map(str, extra.get("crimes", ()))):
            cite = f"{rules.decision.value} ({rules.extra_exclusions.source})"
            checks.append(Check("round_exclusions", "not_met", extra["text"], cite))
    return checks


# --- Evaluate ----------------------------------------------------------------------------------


def evaluate(case: Case, rules: RoundRules, *, as_of: dt.date | None = None) -> Verdict:
    """Check ``case`` against ``rules``, condition by condition.

    ``as_of`` is the day to count time served to when the round's cut-off date is unknown.
    """
    law = rules.law
    kind = _kind(case, law)
    if kind.status == "not_met":  # death, life, suspended, postponed: not covered at all
        return Verdict(rules.round_id, "does_not_meet", (kind,), ())
    codes = crime_codes(case.crime, law)
    priority, groups = _priority(case, law)
    juvenile = _juvenile_now(case)
    facts = {"juvenile": juvenile, "priority": priority, "serious": _serious(case, codes, law)}
    notes = []

    checks = [kind, _rating(case, rules), _time_check(case, rules, facts, as_of)]
    if juvenile:
        notes.append(
            "Người dưới 18 tuổi đang chấp hành án chỉ cần cải tạo tốt (điểm a) và không thuộc "
            "trường hợp bị loại trừ (điểm g); không xét tiền phạt, bồi thường, và thời gian "
            f"phải chấp hành do Chủ tịch nước quyết định ngắn hơn ({LAW}, Điều 11 khoản 4)."
        )
    else:
        money = [_fines(case), _civil(case, rules, codes)]
        checks += [_not_needed_if_minor(c) for c in money] if juvenile is None else money
    if case.sentence_kind == "on_suspension":
        checks.append(_suspension(case))
    checks += _exclusions(case, rules, codes)

    if groups:
        listed = "; ".join(f"{g.point}) {g.text}" for g in groups)
        notes.append(f"Nhóm ưu tiên ({LAW}, Điều 11 khoản 3): {listed}.")
    notes += _notes(case, rules)
    statuses = {c.status for c in checks}
    outcome: Outcome = "may_be_considered"
    if "not_met" in statuses:
        outcome = "does_not_meet"
    elif "unknown" in statuses:
        outcome = "cannot_tell"
    missing = tuple(dict.fromkeys(m for c in checks for m in c.missing))
    return Verdict(rules.round_id, outcome, tuple(checks), missing, tuple(notes), _group(facts))


def _group(facts: Mapping[str, bool | None]) -> Group | None:
    if facts["juvenile"]:
        return "juvenile"
    if facts["priority"]:
        return "priority"
    if None in (facts["juvenile"], facts["priority"], facts["serious"]):
        return None
    return "serious" if facts["serious"] else "ordinary"


def _notes(case: Case, rules: RoundRules) -> list[str]:
    notes = [
        "Điều kiện 'khi được đặc xá không ảnh hưởng xấu đến an ninh, trật tự' (Điều 11 khoản 1 "
        "điểm e) do trại giam và các cơ quan có thẩm quyền đánh giá."
    ]
    if case.under_protest is None:
        notes.append(
            "Nếu bản án đang bị kháng nghị giám đốc thẩm, tái thẩm theo hướng tăng nặng thì "
            "không được đề nghị đặc xá (Điều 12 khoản 2)."
        )
    for rule in rules.law.counting:
        notes.append(rule.value + " (Chưa kiểm chứng cho mọi đợt.)" * (not rule.verified))
    if rules.round_id == LAW_ROUND:
        return notes
    if not rules.extra_exclusions.value:
        count = rules.extra_exclusion_count
        what = f"có {count} trường hợp" if count else "có thể có thêm trường hợp"
        notes.append(
            f"{rules.name} {what} không được đề nghị đặc xá (Điều 12 khoản 6); danh sách chưa "
            f"được kiểm chứng. {ASK}"
        )
    if rules.cutoff.value is None:
        notes.append(f"Mốc tính thời gian đã chấp hành của {rules.name} chưa được kiểm chứng.")
    if not rules.decision.verified:
        notes.append(f"Thông tin về {rules.name} chưa được kiểm chứng với văn bản gốc. {ASK}")
    return notes
