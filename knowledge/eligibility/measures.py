"""The other measures worked through for one case: sentence reduction, conditional early release
and record clearing, each a pure function of a ``Case``, the rules (``rules/measures.yml``) and
the date it is today.

Each returns an :class:`Assessment`: met / not met / unknown per condition (with the fact that
would settle an unknown one and the article), and the arithmetic a family can check — months
served, the share of the sentence, the date a period ends. A fact the family did not give stays
unknown; a rule whose text was not read is "chưa kiểm chứng", never ✔.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.eligibility.case import MISSING_LABELS, Case, Check, Status
from knowledge.eligibility.evaluator import crime_codes
from knowledge.eligibility.round_rules import load_law
from knowledge.eligibility.time_served import add_months, day_text, duration_text, months_between

RULES_FILE = Path(__file__).resolve().parent / "rules" / "measures.yml"
UNVERIFIED = "chưa kiểm chứng"


@cache
def measure_rules() -> Mapping[str, Any]:
    return yaml.load(RULES_FILE.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def cite(source: Mapping[str, Any]) -> str:
    where = " ".join(str(source[k]) for k in ("article", "clause") if source.get(k))
    return f"{source['document']}, {where}" if where else str(source["document"])


@dataclass(frozen=True)
class Assessment:
    measure: str
    facts: tuple[str, ...]  # what the assessment read from the family's words
    checks: tuple[Check, ...]
    outcome: Status  # all met / one not met / some unknown

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m for c in self.checks for m in c.missing))

    @property
    def missing_labels(self) -> tuple[str, ...]:
        return tuple(MISSING_LABELS.get(m, m) for m in self.missing)


def _outcome(checks: list[Check]) -> Status:
    statuses = {c.status for c in checks}
    return "not_met" if "not_met" in statuses else "unknown" if "unknown" in statuses else "met"


def _share_text(share: Fraction) -> str:
    return f"{share.numerator}/{share.denominator}"


# --- Time served now -----------------------------------------------------------------------------


DISAGREE_MONTHS = 6  # the arrest date and the time told differ by more: neither is taken


def served_now(case: Case, today: dt.date) -> Fraction | None:
    """Months served up to ``today``: from the arrest date, or as the family said. The date does
    not count on a suspension, nor past the sentence (a misreading, or a stop the family told):
    then the time the family said, or nothing (asked, never ticked). When the date and the time
    told disagree, neither is taken: the time is asked."""
    said = None if case.served_months is None else Fraction(case.served_months)
    by_date = _since_arrest(case, case.suspended_on or today)
    if case.sentence_kind == "on_suspension" and case.suspended_on is None:
        by_date = None  # time on suspension does not count, and when it began is not told
    if by_date is not None and said is not None and abs(by_date - said) > DISAGREE_MONTHS:
        return None  # "bắt từ 6/2022 ... đã chấp hành 3 tháng": written long ago, or misread
    if by_date is not None and case.sentence_months and by_date > case.sentence_months:
        return said
    return said if by_date is None else by_date


def _since_arrest(case: Case, today: dt.date) -> Fraction | None:
    if case.detention_start is not None and case.detention_start <= today:
        return months_between(case.detention_start, today)
    if case.detention_year is not None and case.detention_month is not None:
        start = dt.date(case.detention_year, case.detention_month, 1)
        if start <= today:
            return months_between(start, today)
    return None


def _sentence_facts(case: Case, served: Fraction | None, today: dt.date | None = None) -> list[str]:
    facts = []
    if case.sentence_kind in ("life", "life_commuted"):
        facts.append(
            "án tù chung thân" + (" đã được giảm" if case.sentence_kind == "life_commuted" else "")
        )
    elif case.sentence_months:
        suspended = " cho hưởng án treo" if case.sentence_kind == "suspended" else ""
        facts.append(
            f"án {duration_text(Fraction(case.sentence_months))} tù ({case.sentence_months} "
            f"tháng){suspended}"
        )
    if served is not None:
        share = (
            f", bằng {float(served / case.sentence_months):.0%} mức án"
            if case.sentence_months
            else ""
        )
        dated = case.detention_start or case.detention_year
        until = (
            " đến ngày tạm đình chỉ"
            if case.suspended_on
            else f" tính đến {day_text(today)}"
            if dated and today and case.served_months is None
            else ""
        )
        facts.append(
            f"đã chấp hành khoảng {duration_text(served)}{until} ({int(served)} tháng{share})"
        )
    return facts


def _time_check(
    name: str,
    label: str,
    case: Case,
    served: Fraction | None,
    share: Fraction | None,
    life_years: int | None,
    source: str,
    today: dt.date,
) -> Check:
    """The time condition: met, not met with when it will be, or what is missing."""
    if case.sentence_kind in ("life", "life_commuted"):
        if life_years is None:
            return Check(name, "unknown", f"{label}: mức cho án chung thân {UNVERIFIED}.", source)
        need = Fraction(life_years * 12)
        what = f"{life_years} năm"
    elif case.sentence_months:
        if share is None:
            return Check(name, "unknown", f"{label}: mức thời gian {UNVERIFIED}.", source)
        need = share * case.sentence_months
        what = f"{_share_text(share)} mức án = {duration_text(need)}"
    else:
        return Check(name, "unknown", f"{label}: cần biết mức án.", source, ("sentence_months",))
    if served is None:
        return Check(
            name,
            "unknown",
            f"{label}: cần {what}; cần biết đã chấp hành bao lâu.",
            source,
            ("served_months",),
        )
    if served >= need:
        return Check(name, "met", f"{label}: cần {what}; người thân đã qua mốc này.", source)
    left = need - served
    when = add_months(today, int(left) + (left > int(left)))
    return Check(
        name,
        "not_met",
        f"{label}: cần {what}; còn thiếu khoảng {duration_text(left)} (khoảng tháng "
        f"{when.month}/{when.year}).",
        source,
    )


def _minor(case: Case) -> bool | None:
    """Whether the crime was committed under 18 (someone under 18 now was under 18 then)."""
    if case.age_at_offence is not None:
        return case.age_at_offence < 18
    if case.age_now is not None and case.age_now < 18:
        return True
    return None


# --- Sentence reduction (BLHS Điều 63) -----------------------------------------------------------


def assess_reduction(case: Case, today: dt.date) -> Assessment:
    rules = measure_rules()["reduction"]
    source = cite(rules["source"])
    served = served_now(case, today)
    minors = rules["minors"]
    if _minor(case) and today >= minors["from"]:
        share, floor, life = Fraction(minors["first_share"]), Fraction(minors["floor_share"]), None
        source = cite(minors["source"])
        label = "Mốc xét giảm lần đầu (người phạm tội khi chưa đủ 18 tuổi)"
    else:
        share, floor = Fraction(rules["first_share"]), Fraction(rules["floor_share"])
        life = rules["first_life_years"]
        label = "Mốc xét giảm lần đầu"
    checks = [_time_check("time_served", label, case, served, share, life, source, today)]
    checks.append(
        _progress(
            case,
            "Cải tạo tiến bộ, đã bồi thường được một phần nghĩa vụ dân sự và được trại đề nghị: "
            "trại xét theo hồ sơ",
            "gia đình hỏi trại về xếp loại của người thân.",
            source,
        )
    )
    facts = _sentence_facts(case, served, today)
    if case.sentence_months:
        facts.append(
            f"dù giảm nhiều lần vẫn phải ở tù thực tế ít nhất {_share_text(floor)} mức án "
            f"= {duration_text(floor * case.sentence_months)}"
        )
    return Assessment("reduction", tuple(facts), tuple(checks), _outcome(checks))


# --- Conditional early release (BLHS Điều 66, 106) -----------------------------------------------


def _excluded_crime(case: Case, rules: Mapping[str, Any]) -> Check:
    source = cite(rules["source"]) + " khoản 2"
    codes = crime_codes(case.crime, load_law())
    if not codes:
        return Check(
            "excluded_crime",
            "unknown",
            "Tội danh: cần biết để xem có thuộc diện không được tha trước thời hạn không.",
            source,
            ("crime",),
        )
    ex = rules["excluded"]
    months = case.sentence_months or 0
    hits, by_length = [], []
    for code in sorted(codes):
        number = int(code[:3])
        if any(a <= number <= b for a, b in ex["chapters"]) or code in ex["articles"]:
            hits.append(code)
        elif (
            ex["persons_chapter"][0] <= number <= ex["persons_chapter"][1]
            and code not in ex["negligent"]
            and months >= ex["persons_min_months"]
        ) or (code in ex["property_drugs"] and months >= ex["property_min_months"]):
            by_length.append(code)
    if len(codes) > 1 and by_length and not hits:
        # The threshold is the sentence for that one crime, not the total (BLHS Điều 66 khoản 2).
        names = ", ".join(f"Điều {c}" for c in by_length)
        return Check(
            "excluded_crime",
            "unknown",
            f"Với nhiều tội, ngưỡng loại trừ tính theo mức án của riêng tội ({names}), không "
            "theo tổng hình phạt: cần biết mức án của tội đó.",
            source,
            ("sentence_months",),
        )
    hits += by_length
    if hits:
        names = ", ".join(f"Điều {c}" for c in hits)
        return Check(
            "excluded_crime",
            "not_met",
            f"Tội ({names}) với mức án này thuộc diện "
            "không được tha tù trước thời hạn có điều kiện.",
            source,
        )
    return Check("excluded_crime", "met", "Tội danh đã kể không thuộc diện bị loại trừ.", source)


def assess_early_release(case: Case, today: dt.date) -> Assessment:
    rules = measure_rules()["early_release"]
    source = cite(rules["source"])
    served = served_now(case, today)
    groups = set(case.priority or ()) & set(rules["priority_groups"])
    if case.age_now is not None and case.age_now >= 70:
        groups.add("age_70")
    minors = rules["minors"]
    if _minor(case):
        if today <= minors["until"]:
            share, life, src = Fraction(minors["share"]), None, cite(minors["source"])
        else:
            share, life, src = None, None, cite(minors["after_source"])
        label = "Thời gian đã chấp hành (người dưới 18 tuổi)"
    elif groups:
        share, life = Fraction(rules["priority_share"]), rules["priority_life_years"]
        src, label = source, "Thời gian đã chấp hành (nhóm được áp dụng mức 1/3)"
    else:
        share, life, src = Fraction(rules["share"]), rules["life_years"], source
        label = "Thời gian đã chấp hành"
    checks = [_time_check("time_served", label, case, served, share, life, src, today)]
    checks.append(_excluded_crime(case, rules))
    first = (
        case.first_offence
        if case.first_offence is not None
        else (None if case.prior_convictions is None else case.prior_convictions == 0)
    )
    checks.append(
        Check(
            "first_offence",
            "unknown" if first is None else "met" if first else "not_met",
            "Phạm tội lần đầu" + ("" if first is not False else ": người thân đã có tiền án"),
            source,
            () if first is not None else ("first_offence",),
        )
    )
    if not _minor(case) and (case.sentence_months or 0) > rules["reduction_first_over_months"]:
        reduced = case.reduced_before
        checks.append(
            Check(
                "reduced_before",
                "unknown" if reduced is None else "met" if reduced else "not_met",
                "Tội từ nghiêm trọng trở lên: phải đã được giảm thời hạn chấp hành án ít nhất "
                "một lần",
                source,
                () if reduced is not None else ("reduced_before",),
            )
        )
    if not _minor(case):
        paid = case.fines_paid
        checks.append(
            Check(
                "payments",
                "unknown" if paid is None else "met" if paid else "not_met",
                "Đã nộp xong tiền phạt, án phí và bồi thường",
                source,
                () if paid is not None else ("fines_paid",),
            )
        )
    checks.append(
        _progress(
            case,
            "Cải tạo tốt (đủ số quý liên tục xếp loại khá trở lên theo mức án) và có nơi cư trú "
            "rõ ràng",
            "gia đình hỏi trại.",
            source,
        )
    )
    return Assessment(
        "early_release",
        tuple(_sentence_facts(case, served, today)),
        tuple(checks),
        _outcome(checks),
    )


# --- Record clearing (BLHS Điều 69–73, 107) ------------------------------------------------------


def _period(table: Mapping[str, int], case: Case) -> int | None:
    if case.sentence_kind in ("suspended",):
        return table["non_custodial"]
    if case.sentence_kind in ("life", "life_commuted", "death"):
        return table["longer"]
    if not case.sentence_months:
        return None
    if case.sentence_months <= 60:
        return table["up_to_5_years"]
    return table["up_to_15_years"] if case.sentence_months <= 180 else table["longer"]


def assess_record(case: Case, today: dt.date) -> Assessment:
    rules = measure_rules()["record_clearing"]
    codes = crime_codes(case.crime, load_law()) or frozenset()
    by_court = any(a <= int(c[:3]) <= b for c in codes for a, b in rules["court_chapters"])
    minors = rules["minors"]
    finished = case.finished_on or (
        dt.date(case.finished_year, 12, 31) if case.finished_year else None
    )
    if _minor(case) and finished is not None and finished <= minors["until"]:
        table, source = minors["automatic"], cite(minors["source"])
    elif by_court:
        table, source = rules["by_court"], cite(rules["court_source"])
    else:
        table, source = rules["automatic"], cite(rules["source"])
    assumed = case.sentence_months is None and case.served_months is not None
    if assumed:  # "đi tù 18 tháng, ra tù năm 2008": the time served, taken as the sentence
        case = replace(case, sentence_months=case.served_months, sentence_kind="fixed_term")
    period = _period(table, case)
    facts = _sentence_facts(case, None)
    if assumed:
        facts.append(
            "tính như thể mức án Tòa tuyên đúng bằng thời gian đã ở tù; nếu mức tuyên "
            "khác (ví dụ đã được giảm án, đặc xá), thời hạn tính theo mức tuyên"
        )
    if finished is not None:
        when = f"ngày {day_text(finished)}" if case.finished_on else f"năm {case.finished_year}"
        if case.finished_at_latest:
            when = f"chậm nhất năm {case.finished_year} (năm bắt đầu ở tù bạn kể, cộng mức án)"
        if case.sentence_kind == "suspended":
            facts.append(f"hết thời gian thử thách {when}")
        else:
            facts.append(f"chấp hành xong hình phạt chính {when}")
    checks: list[Check] = []
    if period is None:
        checks.append(
            Check(
                "period",
                "unknown",
                "Thời hạn: cần biết mức án Tòa đã tuyên (không phải số năm thực tế ở tù).",
                source,
                ("sentence_months",),
            )
        )
    elif finished is None:
        checks.append(
            Check(
                "period",
                "unknown",
                f"Thời hạn {duration_text(Fraction(period))} kể "
                "từ khi chấp hành xong hình phạt chính: cần biết ngày ra tù.",
                source,
                ("finished_on",),
            )
        )
    else:
        # A year only: the period surely ended if it ended counting from 31/12 of that year.
        ends = add_months(finished, period)
        done = ends <= today
        when = day_text(ends) if case.finished_on else f"năm {ends.year}"
        checks.append(
            Check(
                "period",
                "met" if done else "not_met",
                f"Thời hạn {duration_text(Fraction(period))} kể từ khi chấp hành xong hình phạt "
                "chính: " + (f"đã đủ (từ {when})." if done else f"chưa đủ, đến {when} mới đủ."),
                source + "; " + cite(rules["count_source"]),
            )
        )
    new = case.new_crime
    checks.append(
        Check(
            "no_new_crime",
            "unknown" if new is None else "not_met" if new else "met",
            "Không phạm tội mới trong thời hạn đó",
            source,
            () if new is not None else ("new_crime",),
        )
    )
    paid = case.fines_paid
    checks.append(
        Check(
            "judgment_done",
            "unknown" if paid is None else "met" if paid else "not_met",
            "Đã chấp hành xong hình phạt bổ sung và các quyết định khác của bản án "
            "(án phí, tiền phạt, bồi thường)",
            source,
            () if paid is not None else ("fines_paid",),
        )
    )
    if by_court:
        checks.append(
            Check(
                "by_court",
                "unknown",
                "Tội thuộc Chương XIII hoặc XXVI: chỉ được xóa án "
                "tích theo quyết định của Tòa án đã xét xử sơ thẩm (làm đơn).",
                cite(rules["court_source"]),
            )
        )
    return Assessment("record_clearing", tuple(facts), tuple(checks), _outcome(checks))


CALCULATORS = {
    "reduction": assess_reduction,
    "early_release": assess_early_release,
    "record_clearing": assess_record,
}


RATING_SAID = {"kha": "khá", "tot": "tốt"}


def _progress(case: Case, rule: str, ask: str, source: str) -> Check:
    """The camp judges progress; a rating the family told is repeated, not asked again."""
    said = RATING_SAID.get(case.rating or "")
    if said:
        told = f"bạn cho biết người thân được xếp loại {said}, trại xác nhận theo hồ sơ."
        return Check("progress", "unknown", f"{rule}: {told}", source)
    return Check("progress", "unknown", f"{rule}: {ask}", source, ("rating",))
