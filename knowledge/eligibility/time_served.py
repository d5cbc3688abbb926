"""Time served for the amnesty check: months between dates, the threshold a group must reach
(the round's figure or the law's floor), and the time condition under every reading the case
leaves open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import product

from knowledge.eligibility.case import (
    ASK,
    GROUP_NAMES,
    Case,
    Check,
    Status,
)
from knowledge.eligibility.round_rules import (
    LAW_ROUND,
    Group,
    RoundRules,
    Sourced,
    Threshold,
)

# --- Time served -------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
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
    if add_months(start, months) > stop:
        months -= 1
    anchor, following = add_months(start, months), add_months(start, months + 1)
    return months + Fraction((stop - anchor).days, (following - anchor).days)


def duration_text(months: Fraction) -> str:
    whole = int(months)
    years, rest = divmod(whole, 12)
    days = -(-(months - whole) * 30 // 1)
    parts = (
        f"{years} năm" * bool(years),
        f"{rest} tháng" * bool(rest),
        f"{days} ngày" * bool(days),
    )
    return " ".join(p for p in parts if p) or "0 tháng"


def day_text(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


@dataclass(frozen=True)
class Served:
    low: Fraction
    high: Fraction
    text: str


def served_time(case: Case, rules: RoundRules, as_of: dt.date | None) -> Served | str:
    """Time served as a range of months, or the name of the missing fact."""
    end = rules.cutoff.value
    label = f"tính đến {day_text(end)}, mốc của đợt" if end else ""
    if end is None and as_of is not None:
        end = as_of
        label = f"tính đến {day_text(as_of)}" + "; mốc của đợt chưa rõ" * (
            rules.round_id != LAW_ROUND
        )
    by_date = case.sentence_kind != "on_suspension"  # time on suspension does not count
    if by_date and end and case.detention_start:
        served = months_between(case.detention_start, end)
        return Served(served, served, f"khoảng {duration_text(served)} ({label})")
    if by_date and end and case.detention_year:
        first_month, last_month = case.detention_month or 1, case.detention_month or 12
        first = dt.date(case.detention_year, first_month, 1)
        last = add_months(first, last_month - first_month + 1) - dt.timedelta(days=1)
        low, high = months_between(last, end), months_between(first, end)
        return Served(low, high, f"{duration_text(low)} đến {duration_text(high)} ({label})")
    if case.served_months is not None:
        served = Fraction(case.served_months)
        return Served(served, served, f"khoảng {duration_text(served)}")
    if by_date and (case.detention_start or case.detention_year):
        return "round_cutoff"
    return "served_months"


def needed(threshold: Threshold, case: Case) -> tuple[Sourced, Fraction | None, str]:
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
    return share, months, f"{text} ({duration_text(months)})"


def compare(served: Served, months: Fraction) -> Status:
    """Exactly at the required time counts as met."""
    if served.low >= months:
        return "met"
    return "not_met" if served.high < months else "unknown"


def time_for(group: Group, case: Case, rules: RoundRules, served: Served | str) -> Check:
    """The time rule of one group: the round's figure if verified, else the law's floor."""
    floor, floor_months, floor_text = needed(rules.law.floors[group], case)
    press, press_months, press_text = needed(rules.time[group], case)
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
        status = compare(served, floor_months)
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
    against_press = compare(served, press_months)
    if against_press == "met":
        return Check(name, "met", f"{reason} {said}, nhưng cũng đã đạt. {ASK}", cite)
    missing = ("round_time_requirement",)
    if against_press == "unknown":
        missing = ("detention_start", *missing)
    return Check(name, "unknown", f"{reason} {said} và có thể chưa đạt. {ASK}", cite, missing)


def time_check(
    case: Case, rules: RoundRules, facts: Mapping[str, bool | None], as_of: dt.date | None
) -> Check:
    """Try every reading left open by unknown facts: they agree, or the missing facts are named."""
    served = served_time(case, rules, as_of)
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
        results.setdefault(group, time_for(group, case, rules, served))
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
