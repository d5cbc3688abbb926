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


def served_text(months: Fraction) -> str:
    """ "khoảng 3 năm 8 tháng 27 ngày, tức 44 tháng": the whole months too, as rules count them."""
    whole = f", tức {int(months)} tháng" * (months >= 12)
    return f"khoảng {duration_text(months)}{whole}"


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
    if not by_date and case.suspended_on and case.detention_start:
        served = months_between(case.detention_start, case.suspended_on)
        return Served(served, served, f"{served_text(served)} (đến ngày tạm đình chỉ)")
    if by_date and end and case.detention_start:
        served = months_between(case.detention_start, end)
        return Served(served, served, f"{served_text(served)} ({label})")
    if by_date and end and case.detention_year:
        first_month, last_month = case.detention_month or 1, case.detention_month or 12
        first = dt.date(case.detention_year, first_month, 1)
        last = add_months(first, last_month - first_month + 1) - dt.timedelta(days=1)
        low, high = months_between(last, end), months_between(first, end)
        return Served(low, high, f"{duration_text(low)} đến {duration_text(high)} ({label})")
    if case.served_months is not None:
        served = Fraction(case.served_months)
        return Served(served, served, served_text(served))
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
    """The time rule of one group. Below the law's floor is ✘ for sure; against the round's own
    figure (known from the press only) the check compares and says so; when the round's figure
    is unknown the answer is "unknown", never ✔, with the law's floor and, for reference, the
    level the last rounds used."""
    floor, floor_months, floor_text = needed(rules.law.floors[group], case)
    round_, round_months, round_text = needed(rules.time[group], case)
    cite = floor.source + (f"; {round_.source}" if round_.value is not None else "")
    name = "time_served"
    floor_says = (
        f"mức tối thiểu theo Luật là {floor_text}"
        if floor.value is not None
        else "Luật không đặt mức tối thiểu cho nhóm này (mỗi đợt do Chủ tịch nước quyết định)"
    )
    if isinstance(served, str):
        sentence_first = (
            ("sentence_months",)
            if case.sentence_months is None and case.sentence_kind != "life_commuted"
            else ()
        )
        return Check(
            name,
            "unknown",
            f"Cần biết thời gian đã chấp hành; {floor_says}.",
            cite,
            (*sentence_first, served),
        )
    if (floor.value is not None and floor_months is None) or (
        round_.value is not None and round_months is None
    ):
        return Check(name, "unknown", "Cần biết mức án để tính.", cite, ("sentence_months",))
    done = f"Đã chấp hành {served.text}"
    if floor_months is not None and compare(served, floor_months) == "not_met":
        short = f"còn thiếu{' ít nhất' * (served.low != served.high)} khoảng " + duration_text(
            floor_months - served.high
        )
        return Check(name, "not_met", f"{done}; {floor_says}. Chưa đủ thời gian: {short}.", cite)
    if floor_months is not None and compare(served, floor_months) == "unknown":
        return Check(
            name,
            "unknown",
            f"{done}; {floor_says}. Cần ngày bị bắt cụ thể để biết đã đủ hay chưa.",
            cite,
            ("detention_start",),
        )
    if round_months is not None:
        said = f"{rules.name} yêu cầu ít nhất {round_text}" + (
            "" if round_.verified else " (theo báo chí, chưa kiểm chứng)"
        )
        status = compare(served, round_months)
        if status == "met":
            return Check(name, "met", f"{done}; {said}: đã đạt. {ASK}", cite)
        missing = ("detention_start",) if status == "unknown" else ("round_time_requirement",)
        return Check(
            name,
            "unknown",
            f"{done}; {floor_says}; {said} và có thể chưa đạt. {ASK}",
            cite,
            missing,
        )
    which = "đợt xét" if rules.round_id == LAW_ROUND else rules.name
    parts = [f"{done}; {floor_says}" + (" (đã đạt)." if floor.value is not None else ".")]
    reference = rules.references.get(group)
    if reference is not None:
        level, label = reference
        _, ref_months, ref_text = needed(level, case)
        if ref_months is not None:
            reached = {"met": "đã đạt", "not_met": "chưa đạt", "unknown": "chưa rõ đã đạt"}
            usual = rules.references.get("ordinary") if group == "priority" else None
            _, _, usual_text = needed(usual[0], case) if usual else (None, None, "")
            also = f" (người không thuộc nhóm ưu tiên: {usual_text})" if usual_text else ""
            parts.append(
                f"Để tham khảo: {label} yêu cầu {ref_text}{also} (theo báo chí) — "
                f"{reached[compare(served, ref_months)]}."
            )
            cite += f"; {level.share.source}"
    parts.append(f"Mức thời gian của {which} chưa biết nên chưa thể nói đã đủ. {ASK}")
    return Check(name, "unknown", " ".join(parts), cite, ("round_time_requirement",))


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
    readings = " ".join(_reading(g, c, facts) for g, c in results.items())
    reason = f"Còn tùy trường hợp. {readings}"
    return Check(
        "time_served", "unknown", reason, checks[0].citation, tuple(dict.fromkeys(missing))
    )


def _reading(group: Group, check: Check, facts: Mapping[str, bool | None]) -> str:
    """One reading of the time rule, worded so the usual case reads first and the priority
    group as the exception it is."""
    if group == "priority":
        return f"Chỉ khi người thân thuộc {GROUP_NAMES[group]}: {check.reason}"
    if group == "serious" and facts["serious"]:
        return f"Tội này thuộc {GROUP_NAMES[group]}: {check.reason}"
    return f"Nếu là {GROUP_NAMES[group]}: {check.reason}"
