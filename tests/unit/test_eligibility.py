"""The eligibility evaluator against the law (Luật Đặc xá 2018) and the rounds' figures.

Each row of the table names the article that decides it; the first check listed in a row is
the deciding one, and its citation must name that article.

The time rule (legal review 2026-12, H2 and WEAK 15): a round whose own figure is unknown never
gives ✔ for the time served. Below the law's floor is ✘; at or above it (or where the law sets
no floor) the check is "?" with ``round_time_requirement`` missing, and its reason gives the
law's floor and, for reference, the level the last rounds used. The 2024 figures are known from
the press only: they are compared, ✔ with "chưa kiểm chứng", "?" below them.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.eligibility import round_rules
from knowledge.eligibility.case import MISSING_LABELS, Case
from knowledge.eligibility.evaluator import crime_codes, evaluate
from knowledge.eligibility.round_rules import (
    RulesError,
    available_rounds,
    load_law,
    load_round,
)
from knowledge.eligibility.time_served import months_between
from knowledge.kb.loader import read_rounds
from knowledge.kb.rounds import RoundFacts, rules_for

# A person who meets everything except what a row changes: 9-year sentence for theft
# (BLHS Điều 173), 4 years served, rated "tốt", everything paid, no exclusion, no priority.
BASE: dict[str, Any] = {
    "sentence_kind": "fixed_term",
    "sentence_months": 108,
    "served_months": 48,
    "rating": "tot",
    "fines_paid": True,
    "civil": "met",
    "crime": "trộm cắp tài sản",
    "prior_convictions": 0,
    "amnestied_before": False,
    "prosecuted_other": False,
    "priority": frozenset(),
}
LIFE = {**BASE, "sentence_kind": "life_commuted", "sentence_months": 360}


@dataclass(frozen=True)
class Row:
    id: str
    round: str
    case: dict[str, Any]
    outcome: str
    checks: dict[str, str]  # first entry: the deciding check
    article: str
    missing: frozenset[str] = field(default_factory=frozenset)
    exact: bool = False  # the verdict misses exactly ``missing``, nothing else
    says: tuple[str, ...] = ()  # words the deciding check's reason must contain


def row(
    id: str,
    round: str,
    case: dict[str, Any],
    outcome: str,
    checks: dict[str, str],
    article: str,
    missing: tuple[str, ...] = (),
    *,
    exact: bool = False,
    says: tuple[str, ...] = (),
) -> Row:
    return Row(id, round, case, outcome, checks, article, frozenset(missing), exact, says)


MAY, NO, UNSURE = "may_be_considered", "does_not_meet", "cannot_tell"
TIME = "Điều 11 khoản 1 điểm b"
SERIOUS = "Điều 11 khoản 1 điểm b, đoạn 2"
PRIORITY = "Điều 11 khoản 3"
JUVENILE = "Điều 11 khoản 4"
QD_2024 = "758/2024/QĐ-CTN"
ROUND_FIGURE = "round_time_requirement"
# What a reason says when the round's own figure is unknown.
NOT_KNOWN = "chưa biết nên chưa thể nói đã đủ"
FLOOR_MET = "(đã đạt)"
NO_FLOOR = "Luật không đặt mức tối thiểu cho nhóm này"
PRESS = "(theo báo chí)"
REF_ORDINARY = "Đặc xá năm 2024 yêu cầu 1/2 mức án"
REF_PRIORITY = "Đặc xá năm 2024 yêu cầu 1/3 mức án"
REF_LIFE = "Đặc xá năm 2024 yêu cầu 15 năm"


def floor_only(
    id: str,
    round: str,
    case: dict[str, Any],
    article: str,
    checks: dict[str, str] | None = None,
    says: tuple[str, ...] = (),
) -> Row:
    """The law's floor is met (or there is none) and everything else is met, but the round's
    own figure is unknown: "?" and the round's figure is the only thing missing."""
    checks = {**(checks or {}), "time_served": "unknown"}
    return row(
        id,
        round,
        case,
        UNSURE,
        checks,
        article,
        (ROUND_FIGURE,),
        exact=True,
        says=(*says, NOT_KNOWN),
    )


PRIORITY_GROUPS = (
    "great_merit",
    "revolution_merit",
    "serious_illness",
    "under_18_at_offence",
    "aged_70",
    "sole_breadwinner",
    "pregnant_or_young_child",
    "severe_disability",
    "president_other",
)
H2_CASE = {**BASE, "sentence_months": 120, "served_months": 1, "priority": None, "age_now": 72}
TWO_CRIMES = "trộm cắp tài sản và cố ý gây thương tích"

TABLE = [
    # --- Ordinary case: at least 1/3 of the sentence (Điều 11.1.b) -------------------------
    floor_only(
        "ordinary-above-third",
        "law",
        BASE,
        TIME,
        says=("mức tối thiểu theo Luật là 1/3 mức án", FLOOR_MET, REF_ORDINARY, PRESS),
    ),
    row(
        "ordinary-below-third",
        "law",
        {**BASE, "served_months": 35},
        NO,
        {"time_served": "not_met"},
        TIME,
        says=("1/3 mức án", "Chưa đủ thời gian: còn thiếu khoảng 1 tháng"),
    ),
    floor_only(
        "ordinary-exactly-third",
        "law",
        {**BASE, "served_months": 36},
        TIME,
        says=(FLOOR_MET,),
    ),
    row(
        "2024-exactly-half-by-date",
        "2024",
        {**BASE, "sentence_months": 72, "served_months": None, "detention_start": "2021-10-01"},
        MAY,
        {"time_served": "met"},
        QD_2024,
        says=("Đặc xá năm 2024 yêu cầu ít nhất 1/2", "chưa kiểm chứng", "đã đạt"),
    ),
    row(
        "2024-one-day-short-of-press-half",
        "2024",
        {**BASE, "sentence_months": 72, "served_months": None, "detention_start": "2021-10-02"},
        UNSURE,
        {"time_served": "unknown"},
        QD_2024,
        (ROUND_FIGURE,),
        exact=True,
        says=("theo báo chí", "có thể chưa đạt"),
    ),
    row(
        "2024-below-law-third",
        "2024",
        {**BASE, "sentence_months": 72, "served_months": None, "detention_start": "2023-01-01"},
        NO,
        {"time_served": "not_met"},
        TIME,
    ),
    floor_only(
        "2025-1-counts-to-30-4-2025",
        "2025-1",
        {**BASE, "sentence_months": 36, "served_months": None, "detention_start": "01/05/2024"},
        TIME,
        says=("30/04/2025", FLOOR_MET),
    ),
    row(
        "2025-2-counts-to-31-8-2025",
        "2025-2",
        {**BASE, "sentence_months": 36, "served_months": None, "detention_start": "2024-09-02"},
        NO,
        {"time_served": "not_met"},
        TIME,
        says=("31/08/2025",),
    ),
    # --- Serious-crime group: at least 1/2 (Điều 11.1.b, đoạn 2) ---------------------------
    row(
        "murder-12y-below-half",
        "law",
        {**BASE, "crime": "giết người", "sentence_months": 144, "served_months": 60},
        NO,
        {"time_served": "not_met"},
        SERIOUS,
    ),
    floor_only(
        "murder-12y-exactly-half",
        "law",
        {**BASE, "crime": "Giết người", "sentence_months": 144, "served_months": 72},
        SERIOUS,
        says=("1/2 mức án", FLOOR_MET),
    ),
    floor_only(
        "assault-8y-under-10y-is-ordinary",
        "law",
        {**BASE, "crime": "cố ý gây thương tích", "sentence_months": 96, "served_months": 33},
        TIME,
        says=("1/3 mức án",),
    ),
    floor_only(
        "negligent-homicide-10y-is-ordinary",
        "law",
        {**BASE, "crime": "vô ý làm chết người", "sentence_months": 120, "served_months": 40},
        TIME,
        says=("1/3 mức án",),
    ),
    row(
        "drug-dealing-7y-needs-half",
        "law",
        {
            **BASE,
            "crime": "mua bán trái phép chất ma túy",
            "sentence_months": 84,
            "served_months": 30,
        },
        NO,
        {"time_served": "not_met"},
        SERIOUS,
    ),
    floor_only(
        "drug-possession-7y-is-ordinary",
        "law",
        {
            **BASE,
            "crime": "tàng trữ trái phép chất ma túy",
            "sentence_months": 84,
            "served_months": 30,
        },
        TIME,
    ),
    floor_only(
        "robbery-6y-under-7y-is-ordinary",
        "law",
        {**BASE, "crime": "cướp tài sản", "sentence_months": 72, "served_months": 25},
        TIME,
    ),
    floor_only(
        "snatching-is-not-robbery",
        "law",
        {**BASE, "crime": "cướp giật tài sản", "sentence_months": 96, "served_months": 33},
        TIME,
    ),
    row(
        "solidarity-policy-any-length",
        "law",
        {**BASE, "crime": "Điều 116", "sentence_months": 36, "served_months": 13},
        NO,
        {"time_served": "not_met"},
        SERIOUS,
    ),
    row(
        "murder-length-unknown",
        "law",
        {**BASE, "crime": "giết người", "sentence_months": None, "served_months": 50},
        UNSURE,
        {"time_served": "unknown"},
        TIME,
        ("sentence_months",),
    ),
    # Review W1: the 1/2 group looks at the sentence for the qualifying crime. With several
    # crimes only the total is known: a total at or above 10 years may or may not contain 10
    # years for the assault, so both readings are tried; a total under it settles "no".
    row(
        "w1-two-crimes-total-over-10y-is-not-a-sure-half",
        "law",
        {**BASE, "crime": TWO_CRIMES, "sentence_months": 132, "served_months": 50},
        UNSURE,
        {"time_served": "unknown"},
        SERIOUS,
        ("serious_crime", ROUND_FIGURE),
        says=("Còn tùy trường hợp", "Nếu là trường hợp thông thường", FLOOR_MET),
    ),
    floor_only(
        "w1-two-crimes-total-under-10y-is-ordinary",
        "law",
        {**BASE, "crime": TWO_CRIMES, "sentence_months": 108, "served_months": 40},
        TIME,
        says=("1/3 mức án", FLOOR_MET),
    ),
    row(
        "w1-two-crimes-below-both-floors",
        "law",
        {**BASE, "crime": TWO_CRIMES, "sentence_months": 132, "served_months": 40},
        NO,
        {"time_served": "not_met"},
        TIME,
    ),
    # --- Weak 15: the law's 1/3 met, the round's figure unknown: "?", not ✔ ------------------
    floor_only(
        "weak15-theft-6y-25-months-law",
        "law",
        {**BASE, "sentence_months": 72, "served_months": 25},
        TIME,
        says=("1/3 mức án (2 năm) (đã đạt)", "Đặc xá năm 2024 yêu cầu 1/2 mức án (3 năm)", PRESS),
    ),
    floor_only(
        "weak15-theft-6y-25-months-2026",
        "2026",
        {**BASE, "sentence_months": 72, "served_months": 25},
        TIME,
        says=("Mức thời gian của Đặc xá năm 2026", REF_ORDINARY, "chưa đạt"),
    ),
    # --- Priority groups, Điều 11.3 a–i: no minimum in the law, so never ✔ without a round ----
    *[
        floor_only(
            f"priority-{group}",
            "law",
            {**BASE, "served_months": 6, "priority": frozenset({group})},
            f"{PRIORITY} (",
            says=(NO_FLOOR, REF_PRIORITY, PRESS, "chưa đạt"),
        )
        for group in PRIORITY_GROUPS
    ],
    floor_only(
        "priority-by-point-letter",
        "law",
        {**BASE, "served_months": 6, "priority": {"đ"}},
        PRIORITY,
        says=(NO_FLOOR,),
    ),
    floor_only(
        "aged-70-from-age",
        "law",
        {**BASE, "served_months": 6, "priority": None, "age_now": 72},
        PRIORITY,
        says=(NO_FLOOR,),
    ),
    row(
        "2024-priority-above-press-third",
        "2024",
        {**BASE, "sentence_months": 72, "served_months": 25, "priority": {"serious_illness"}},
        MAY,
        {"time_served": "met"},
        QD_2024,
        says=("Đặc xá năm 2024 yêu cầu ít nhất 1/3", "chưa kiểm chứng"),
    ),
    row(
        "2024-priority-below-press-third",
        "2024",
        {**BASE, "sentence_months": 72, "served_months": 10, "priority": {"serious_illness"}},
        UNSURE,
        {"time_served": "unknown"},
        QD_2024,
        (ROUND_FIGURE,),
        exact=True,
    ),
    # Review H2: aged 72, 10 years, 1 month served was "CÓ THỂ" in every round without a
    # figure. Now "?" everywhere, naming the law's missing floor and the 2024 level.
    *[
        floor_only(
            f"h2-aged-72-one-month-of-10y-{round_id}",
            round_id,
            H2_CASE,
            PRIORITY,
            says=(
                NO_FLOOR,
                f"{REF_PRIORITY} (3 năm 4 tháng) (người không thuộc nhóm ưu tiên: 1/2 mức án "
                f"(5 năm)) {PRESS} — chưa đạt",
            ),
        )
        for round_id in ("law", "2026", "2025-2", "2025-1")
    ],
    row(
        "h2-aged-72-one-month-of-10y-2024",
        "2024",
        H2_CASE,
        UNSURE,
        {"time_served": "unknown"},
        QD_2024,
        (ROUND_FIGURE,),
        exact=True,
        says=(NO_FLOOR, "Đặc xá năm 2024 yêu cầu ít nhất 1/3", "có thể chưa đạt"),
    ),
    # --- Under 18 -----------------------------------------------------------------------------
    floor_only(
        "under-18-now-only-a-and-g",
        "law",
        {
            **BASE,
            "served_months": 1,
            "fines_paid": False,
            "civil": "no",
            "age_at_offence": 16,
            "age_now": 17,
        },
        JUVENILE,
        says=(NO_FLOOR,),
    ),
    floor_only(
        "under-18-now-one-month-2026",
        "2026",
        {**BASE, "served_months": 1, "age_at_offence": 16, "age_now": 17},
        JUVENILE,
        says=(NO_FLOOR, "Mức thời gian của Đặc xá năm 2026"),
    ),
    row(
        "under-18-now-but-excluded",
        "law",
        {**BASE, "age_at_offence": 16, "age_now": 17, "amnestied_before": True},
        NO,
        {"amnestied_before": "not_met"},
        "Điều 12 khoản 4",
    ),
    row(
        "under-18-at-offence-now-adult-must-pay",
        "law",
        {**BASE, "served_months": 1, "fines_paid": False, "age_at_offence": 16, "age_now": 20},
        NO,
        {"fines": "not_met", "time_served": "unknown"},
        "Điều 11 khoản 1 điểm c",
    ),
    row(
        "under-18-at-offence-age-now-unknown",
        "law",
        {**BASE, "served_months": 1, "fines_paid": False, "age_at_offence": 16},
        UNSURE,
        {"fines": "unknown", "time_served": "unknown"},
        JUVENILE,
        ("age_now", ROUND_FIGURE),
    ),
    # --- Điều 12: exclusions ------------------------------------------------------------------
    row(
        "treason",
        "law",
        {**BASE, "crime": "phản bội Tổ quốc"},
        NO,
        {"excluded_crime": "not_met"},
        "Điều 12 khoản 1",
    ),
    row(
        "terrorism",
        "law",
        {**BASE, "crime": "khủng bố"},
        NO,
        {"excluded_crime": "not_met"},
        "Điều 12 khoản 1",
    ),
    row(
        "war-crimes-chapter",
        "law",
        {**BASE, "crime": "tội phạm chiến tranh"},
        NO,
        {"excluded_crime": "not_met"},
        "Điều 12 khoản 1",
    ),
    row(
        "anti-state-propaganda-by-article",
        "2024",
        {**BASE, "crime": "Điều 117 BLHS"},
        NO,
        {"excluded_crime": "not_met"},
        "Điều 12 khoản 1",
    ),
    row(
        "under-protest",
        "law",
        {**BASE, "under_protest": True},
        NO,
        {"under_protest": "not_met"},
        "Điều 12 khoản 2",
    ),
    row(
        "prosecuted-for-another-crime",
        "law",
        {**BASE, "prosecuted_other": True},
        NO,
        {"prosecuted_other": "not_met"},
        "Điều 12 khoản 3",
    ),
    row(
        "amnestied-before",
        "law",
        {**BASE, "amnestied_before": True},
        NO,
        {"amnestied_before": "not_met"},
        "Điều 12 khoản 4",
    ),
    row(
        "two-prior-convictions",
        "law",
        {**BASE, "prior_convictions": 2},
        NO,
        {"prior_convictions": "not_met"},
        "Điều 12 khoản 5",
    ),
    floor_only(
        "one-prior-conviction",
        "law",
        {**BASE, "prior_convictions": 1},
        "Điều 12 khoản 5",
        {"prior_convictions": "met"},
    ),
    # --- Điều 11.1 a, c, d, đ -----------------------------------------------------------------
    row(
        "rating-average",
        "law",
        {**BASE, "rating": "trung bình"},
        NO,
        {"rating": "not_met"},
        "Điều 11 khoản 1 điểm a",
    ),
    row(
        "fines-unpaid",
        "law",
        {**BASE, "fines_paid": False},
        NO,
        {"fines": "not_met"},
        "Điều 11 khoản 1 điểm c",
    ),
    row(
        "corruption-assets-not-returned",
        "2024",
        {**BASE, "crime": "tham ô tài sản", "civil": "partly_unable", "creditor_agreed": True},
        NO,
        {"civil": "not_met"},
        "Điều 11 khoản 1 điểm d",
    ),
    floor_only(
        "corruption-all-returned",
        "law",
        {**BASE, "crime": "nhận hối lộ", "civil": "met"},
        "Điều 11 khoản 1 điểm d",
        {"civil": "met"},
    ),
    floor_only(
        "partly-paid-unable-creditor-agrees",
        "law",
        {**BASE, "civil": "partly_unable", "creditor_agreed": True},
        "Điều 11 khoản 1 điểm đ",
        {"civil": "met"},
    ),
    row(
        "partly-paid-unable-creditor-not-asked",
        "law",
        {**BASE, "civil": "partly_unable"},
        UNSURE,
        {"civil": "unknown"},
        "Điều 11 khoản 1 điểm đ",
        ("creditor_agreed",),
    ),
    row(
        "partly-paid-unable-creditor-refuses",
        "law",
        {**BASE, "civil": "partly_unable", "creditor_agreed": False},
        NO,
        {"civil": "not_met"},
        "Điều 11 khoản 1 điểm đ",
    ),
    row(
        "partly-paid-no-decision-told",
        "law",
        {**BASE, "civil": "partly_paid"},
        UNSURE,
        {"civil": "unknown"},
        "Điều 11 khoản 1 điểm đ",
        ("civil_decision",),
    ),
    row(
        "corruption-partly-paid",
        "law",
        {**BASE, "crime": "tham ô tài sản", "civil": "partly_paid"},
        NO,
        {"civil": "not_met"},
        "Điều 11 khoản 1 điểm d",
    ),
    row(
        "civil-not-paid",
        "law",
        {**BASE, "civil": "no"},
        NO,
        {"civil": "not_met"},
        "Điều 11 khoản 1 điểm đ",
    ),
    # --- Life sentence reduced to a term: 14 years (law), 15 (2024 press) -------------------
    floor_only(
        "life-commuted-above-14",
        "law",
        {**LIFE, "served_months": 170},
        TIME,
        says=("14 năm", FLOOR_MET, REF_LIFE, "chưa đạt"),
    ),
    floor_only(
        "life-commuted-exactly-14",
        "law",
        {**LIFE, "served_months": 168},
        TIME,
        says=("14 năm", FLOOR_MET),
    ),
    row(
        "life-commuted-below-14",
        "law",
        {**LIFE, "served_months": 167},
        NO,
        {"time_served": "not_met"},
        TIME,
    ),
    row(
        "2024-life-commuted-above-15",
        "2024",
        {**LIFE, "served_months": 180},
        MAY,
        {"time_served": "met"},
        QD_2024,
        says=("15 năm", "chưa kiểm chứng"),
    ),
    row(
        "2024-life-commuted-between-14-and-15",
        "2024",
        {**LIFE, "served_months": 174},
        UNSURE,
        {"time_served": "unknown"},
        QD_2024,
        (ROUND_FIGURE,),
        exact=True,
    ),
    row(
        "2024-life-commuted-below-14",
        "2024",
        {**LIFE, "served_months": 160},
        NO,
        {"time_served": "not_met"},
        TIME,
    ),
    row(
        "life-commuted-murder-needs-17",
        "law",
        {**LIFE, "crime": "giết người", "served_months": 192},
        NO,
        {"time_served": "not_met"},
        SERIOUS,
    ),
    # --- Sentences an ordinary round does not cover -------------------------------------------
    row("death", "2024", {"sentence_kind": "death"}, NO, {"sentence_kind": "not_met"}, "Điều 367"),
    row("life", "2024", {"sentence_kind": "life"}, NO, {"sentence_kind": "not_met"}, "Điều 22"),
    row(
        "suspended",
        "2024",
        {**BASE, "sentence_kind": "suspended"},
        NO,
        {"sentence_kind": "not_met"},
        "Điều 11 khoản 1, 2",
    ),
    row(
        "postponed",
        "2025-2",
        {"sentence_kind": "postponed"},
        NO,
        {"sentence_kind": "not_met"},
        "Điều 22",
    ),
    # --- On suspension (Điều 11.2) ------------------------------------------------------------
    floor_only(
        "on-suspension-complied",
        "law",
        {**BASE, "sentence_kind": "on_suspension", "complied_on_suspension": True},
        "Điều 11 khoản 2 điểm d",
        {"suspension_conduct": "met", "rating": "met"},
    ),
    row(
        "on-suspension-date-is-not-enough",
        "2024",
        {
            **BASE,
            "sentence_kind": "on_suspension",
            "served_months": None,
            "detention_start": "2020-01-01",
            "complied_on_suspension": True,
        },
        UNSURE,
        {"time_served": "unknown"},
        TIME,
        ("served_months",),
    ),
    # --- Unknown answers ----------------------------------------------------------------------
    row(
        "nothing-known",
        "2024",
        {},
        UNSURE,
        {"sentence_kind": "unknown", "rating": "unknown", "fines": "unknown"},
        "Điều 11 khoản 1, 2",
        (
            "sentence_kind",
            "rating",
            "fines_paid",
            "civil",
            "crime",
            "prosecuted_other",
            "amnestied_before",
            "prior_convictions",
        ),
    ),
    row(
        "typed-dont-know",
        "law",
        {**BASE, "rating": "không biết", "fines_paid": "chưa biết"},
        UNSURE,
        {"rating": "unknown", "fines": "unknown"},
        "Điều 11 khoản 1 điểm a",
        ("rating", "fines_paid"),
    ),
    row(
        "crime-not-recognised",
        "law",
        {**BASE, "crime": "tội gì đó"},
        UNSURE,
        {"excluded_crime": "unknown"},
        "Điều 12 khoản 1",
        ("crime", "serious_crime"),
    ),
    row(
        "priority-not-asked-and-below-third",
        "law",
        {**BASE, "served_months": 20, "priority": None},
        UNSURE,
        {"time_served": "unknown"},
        TIME,
        ("priority",),
    ),
    row(
        "only-year-of-arrest-nothing-to-count-to",
        "law",
        {**BASE, "served_months": None, "detention_year": 2020},
        UNSURE,
        {"time_served": "unknown"},
        TIME,
        ("round_cutoff",),
    ),
    row(
        "only-year-of-arrest-2024",
        "2024",
        {**BASE, "sentence_months": 72, "served_months": None, "detention_year": 2021},
        UNSURE,
        {"time_served": "unknown"},
        QD_2024,
        ("detention_start",),  # 2y9m–3y9m: the press 1/2 (3 years) depends on the day
        says=("theo báo chí",),
    ),
    # --- 2026: nothing known of the round; the law's floor decides only ✘ -----------------------
    floor_only(
        "2026-law-floor-met",
        "2026",
        {**BASE, "served_months": 40},
        TIME,
        says=(FLOOR_MET, "Mức thời gian của Đặc xá năm 2026", REF_ORDINARY),
    ),
    row(
        "2026-law-floor-not-met",
        "2026",
        {**BASE, "served_months": 30},
        NO,
        {"time_served": "not_met"},
        TIME,
    ),
    row(
        "2026-date-without-cutoff",
        "2026",
        {**BASE, "served_months": None, "detention_start": "2020-01-01"},
        UNSURE,
        {"time_served": "unknown"},
        TIME,
        ("round_cutoff",),
    ),
]


def clear_caches() -> None:
    load_law.cache_clear()
    round_rules._default_rounds.cache_clear()
    load_round.cache_clear()


@pytest.fixture(autouse=True)
def fresh_rules() -> Iterator[None]:
    clear_caches()
    yield
    clear_caches()


def test_the_table_is_large_enough() -> None:
    assert len(TABLE) >= 40
    assert len({r.id for r in TABLE}) == len(TABLE)


@pytest.mark.parametrize("r", TABLE, ids=[r.id for r in TABLE])
def test_case_table(r: Row) -> None:
    verdict = evaluate(Case(**r.case), load_round(r.round))
    assert verdict.outcome == r.outcome, [(c.name, c.status, c.reason) for c in verdict.checks]
    for name, status in r.checks.items():
        check = verdict.check(name)
        assert check is not None, f"no check {name}"
        assert check.status == status, check.reason
    deciding = verdict.check(next(iter(r.checks)))
    assert deciding is not None and r.article in deciding.citation, deciding
    assert r.missing <= set(verdict.missing), verdict.missing
    if r.exact:
        assert set(verdict.missing) == r.missing, verdict.missing
    reason = verdict.check("time_served") if r.says and "time_served" in r.checks else deciding
    for words in r.says:
        assert reason is not None and words in reason.reason, (words, reason)
    if r.outcome == UNSURE:
        assert verdict.missing, "a 'cannot tell' verdict must name what is missing"
    for check in verdict.checks:
        assert check.reason and check.citation.startswith(("Luật", "Quyết định"))


ROUNDS_WITHOUT_FIGURES = ("law", "2025-1", "2025-2", "2026")


@pytest.mark.parametrize("round_id", ROUNDS_WITHOUT_FIGURES)
def test_no_round_figure_never_gives_a_tick_for_the_time(round_id: str) -> None:
    """Review H2 / WEAK 15, for every case of the table: a round with no time figure (or the
    law alone) never says the time is met, so never "CÓ THỂ"."""
    rules = load_round(round_id)
    for r in TABLE:
        verdict = evaluate(Case(**r.case), rules)
        time = verdict.check("time_served")
        assert time is None or time.status != "met", (r.id, time)
        assert verdict.outcome != MAY, r.id
        if time is not None and time.status == "unknown" and ROUND_FIGURE in time.missing:
            assert NOT_KNOWN in time.reason, (r.id, time.reason)


def test_h2_the_aged_person_with_one_month_is_never_told_may_be_considered() -> None:
    for round_id in ("law", "2026", "2025-2", "2025-1", "2024"):
        verdict = evaluate(Case(**H2_CASE), load_round(round_id))
        time = verdict.check("time_served")
        assert verdict.outcome != MAY and time is not None and time.status != "met"
        assert NO_FLOOR in time.reason and "theo báo chí" in time.reason.lower()
        assert "1/3 mức án" in time.reason
        assert verdict.group == "priority"


def test_w1_asks_for_the_crime_group_when_only_the_total_is_known() -> None:
    case = Case(**{**BASE, "crime": TWO_CRIMES, "sentence_months": 132, "served_months": 50})
    verdict = evaluate(case, load_round("law"))
    time = verdict.check("time_served")
    assert time is not None and time.status == "unknown"  # not ✘ "Chưa đủ thời gian"
    assert "serious_crime" in verdict.missing and verdict.group is None
    assert MISSING_LABELS["serious_crime"] in verdict.missing_labels
    # The same total for one crime of the group is the 1/2 group for sure.
    single = Case(**{**BASE, "crime": "cố ý gây thương tích", "sentence_months": 132})
    assert evaluate(single, load_round("law")).group == "serious"
    # Told the assault part is under 10 years: the ordinary 1/3.
    told = replace(case, serious_crime=False)
    assert evaluate(told, load_round("law")).group == "ordinary"


def test_the_reference_levels_are_the_latest_round_with_a_figure() -> None:
    law = load_round("law").references
    assert set(law) == {"ordinary", "priority"}  # no round gave the serious or juvenile figure
    assert law["ordinary"][1] == "Đặc xá năm 2024"
    assert str(law["ordinary"][0].share.value) == "1/2"
    assert law["priority"][0].life_years.value == 13
    assert load_round("2026").references == law
    assert load_round("2024").references == {}  # no earlier round in the calendar


def test_not_covered_sentences_are_answered_at_once_with_the_reason() -> None:
    rules = load_round("2024")
    for kind, words in {
        "death": "ân giảm",
        "life": "trường hợp đặc biệt",
        "suspended": "Án treo",
        "postponed": "hoãn",
    }.items():
        verdict = evaluate(Case(**{**BASE, "sentence_kind": kind}), rules)
        assert verdict.outcome == NO
        assert [c.name for c in verdict.checks] == ["sentence_kind"]
        assert words in verdict.checks[0].reason


def test_unverified_round_says_so_and_points_to_the_facility() -> None:
    verdict = evaluate(Case(**{**BASE, "served_months": 40}), load_round("2026"))
    check = verdict.check("time_served")
    assert check is not None
    reason = check.reason
    assert "Mức thời gian của Đặc xá năm 2026 chưa biết" in reason and "hỏi trại giam" in reason
    assert any("chưa được kiểm chứng với văn bản gốc" in n for n in verdict.notes)
    verdict = evaluate(Case(**BASE), load_round("2024"))
    check = verdict.check("time_served")
    assert check is not None
    reason = check.reason
    assert "theo báo chí" in reason and "1/2" in reason and "chưa kiểm chứng" in reason


def test_time_to_today_when_the_cutoff_is_unknown() -> None:
    case = Case(**{**BASE, "served_months": None, "detention_start": dt.date(2020, 1, 1)})
    verdict = evaluate(case, load_round("2026"), as_of=dt.date(2026, 6, 1))
    check = verdict.check("time_served")
    assert check is not None and check.status == "unknown"
    assert "01/06/2026" in check.reason and "mốc của đợt chưa rõ" in check.reason
    assert "khoảng 6 năm 5 tháng 1 ngày, tức 77 tháng" in check.reason  # both counts
    assert set(check.missing) == {ROUND_FIGURE}
    law = evaluate(case, load_round("law"), as_of=dt.date(2026, 12, 10)).check("time_served")
    assert law is not None and "10/12/2026" in law.reason and "mốc của đợt" not in law.reason
    short = Case(**{**BASE, "served_months": None, "detention_start": dt.date(2025, 1, 1)})
    check = evaluate(short, load_round("2026"), as_of=dt.date(2026, 6, 1)).check("time_served")
    assert check is not None and check.status == "not_met"  # 17 months of 108: below 1/3


def test_2025_2_rating_mentions_the_quarters_for_a_reduced_life_sentence() -> None:
    verdict = evaluate(Case(**{**LIFE, "served_months": 200}), load_round("2025-2"))
    check = verdict.check("rating")
    assert check is not None and "18 quý" in check.reason


def test_w3_the_14_cases_of_2025_2_are_not_all_khoan_6() -> None:
    """Review W3: the round's 14 cases include the law's own Điều 12 khoản 1–5."""
    verdict = evaluate(Case(**BASE), load_round("2025-2"))
    (note,) = [n for n in verdict.notes if "14 trường hợp" in n]
    assert "Điều 12 khoản 1–5" in note and "Điều 12 khoản 6" in note
    assert "14 trường hợp không được đề nghị đặc xá (Điều 12 khoản 6)" not in note
    assert note.index("khoản 1–5") < note.index("khoản 6")
    assert "chưa được kiểm chứng" in note
    verdict = evaluate(Case(**BASE), load_round("2026"))  # no count known
    (note,) = [n for n in verdict.notes if "không được đề nghị" in n and "khoản 6" in n]
    assert "có thể có thêm trường hợp" in note and "khoản 1–5" not in note
    assert not any("khoản 6" in n for n in evaluate(Case(**BASE), load_round("law")).notes)


def test_priority_group_is_named_in_the_notes() -> None:
    case = Case(**{**BASE, "priority": {"pregnant_or_young_child"}})
    verdict = evaluate(case, load_round("law"))
    assert verdict.group == "priority"
    assert any("con dưới 36 tháng" in n for n in verdict.notes)


def test_unknown_priority_group_is_refused() -> None:
    with pytest.raises(ValueError, match="priority"):
        evaluate(Case(**{**BASE, "priority": {"rich"}}), load_round("law"))


def test_case_reads_typed_answers() -> None:
    # Raw answers, as a form or a typed message gives them: Case reads them into its types.
    case = Case(rating="Khá", fines_paid="có", civil="partly", amnestied_before="không")  # type: ignore[arg-type]
    assert (case.rating, case.fines_paid, case.civil, case.amnestied_before) == (
        "kha",
        True,
        "partly_unable",
        False,
    )
    assert Case(detention_start="15/03/2021").detention_start == dt.date(2021, 3, 15)  # type: ignore[arg-type]
    assert Case(sentence_kind="unknown").sentence_kind is None  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Case(sentence_kind="house_arrest")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Case(fines_paid="maybe")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("trộm cắp tài sản", {"173"}),
        ("cuop giat tai san", {"171"}),
        ("Cướp tài sản", {"168"}),
        ("Điều 251", {"251"}),
        ("251", {"251"}),
        ("buôn bán ma túy và tàng trữ ma túy", {"249", "251"}),
        ("sử dụng trái phép chất ma túy", {"256a"}),  # added by Luật 86/2025 (WEAK 17)
        ("chứa chấp việc sử dụng trái phép chất ma túy", {"256"}),
        ("vô ý gây thương tích", {"138"}),
        ("đe dọa giết người", {"133"}),
        ("khủng bố nhằm chống chính quyền nhân dân", {"113"}),
        ("đưa hối lộ", {"364"}),
        (TWO_CRIMES, {"173", "134"}),
        ("không biết", None),
        (None, None),
    ],
)
def test_crime_codes(text: str | None, codes: set[str] | None) -> None:
    found = crime_codes(text, load_law())
    assert found == (None if codes is None else frozenset(codes))


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (dt.date(2021, 10, 1), dt.date(2024, 9, 30), 36),
        (dt.date(2024, 1, 31), dt.date(2024, 2, 28), 1),
        (dt.date(2024, 9, 30), dt.date(2024, 9, 30), 0),
        (dt.date(2025, 1, 1), dt.date(2024, 1, 1), 0),
    ],
)
def test_months_between_counts_both_days(start: dt.date, end: dt.date, months: int) -> None:
    assert int(months_between(start, end)) == months


# --- The rounds' rules: one calendar file (knowledge/kb/rounds.yml), then the database ----------


def round_facts(rounds: list[dict[str, Any]] | None = None) -> list[RoundFacts]:
    """The calendar as the assistant reads it from the database, made from ``rounds.yml``."""
    facts = []
    for r in read_rounds() if rounds is None else rounds:
        results = r["results"]
        facts.append(
            RoundFacts(
                id=r["id"],
                name=r["name"],
                occasion=r["occasion"],
                status=r["status"],
                decision=r["decision"],
                decision_date=r["decision_date"],
                cutoff_date=r["cutoff_date"],
                release_date=r["release_date"],
                people=results.get("people"),
                results=results.get("value"),
                results_source=results.get("source"),
                note=r["note"],
                rules=r["rules"],
                sources=r["sources"],
            )
        )
    return facts


def test_the_calendar_and_the_rules_agree_on_decision_and_cutoff() -> None:
    described = read_rounds()
    assert [r["id"] for r in described] == list(available_rounds())
    for r in described:
        rules = load_round(r["id"])
        assert rules.name == r["name"]
        assert rules.decision.value == r["decision"]
        assert rules.cutoff.value == r["cutoff_date"]
        assert rules.decision.verified is False and rules.cutoff.verified is False


def test_the_assistant_reads_the_same_rules_from_the_calendar_rows() -> None:
    """``rules_for`` (what the assistant applies, from the database rows) and ``load_round``
    (the reviewable file) give the same rules, references included."""
    facts = round_facts()
    for round_id in available_rounds():
        assert rules_for(facts, round_id) == load_round(round_id), round_id
    assert rules_for(facts, None) == load_round("law")
    assert rules_for(facts, "1999") == load_round("law")  # an unknown id: the law alone


def _values(data: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(data, dict):
        if "value" in data:
            yield where, data
        for key, value in data.items():
            yield from _values(value, f"{where}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _values(value, f"{where}[{i}]")


def test_every_rules_value_has_a_source_and_a_flag() -> None:
    law = yaml.load(
        (round_rules.RULES_DIR / "law.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
    )
    found = list(_values(law, "law.yml"))
    assert found
    for where, value in found:
        assert str(value.get("source", "")).strip(), where
        assert isinstance(value.get("verified"), bool), where
    for item in law.get("priority_groups", []) + law.get("exclusions", []):
        assert item["source"] and isinstance(item["verified"], bool), item
    rounds = yaml.load(
        round_rules.ROUNDS_FILE.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
    )["rounds"]
    for r in rounds:
        found = list(_values(r["rules"], f"rounds.yml {r['id']}.rules"))
        assert len(found) >= 11, r["id"]  # 4 groups × 2, full payment, exclusions, rating
        for where, value in found:
            assert str(value.get("source", "")).strip(), where
            # No round decision was read in full: nothing in a round is verified.
            assert value.get("verified") is False, where


def test_2024_time_figures_are_press_only() -> None:
    rules = load_round("2024")
    assert rules.time["ordinary"].share.verified is False
    assert rules.time["priority"].life_years.value == 13
    assert rules.cutoff.value == dt.date(2024, 9, 30)


@pytest.fixture
def rounds_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of ``rounds.yml`` that ``load_round`` reads instead."""
    path = tmp_path / "rounds.yml"
    shutil.copy(round_rules.ROUNDS_FILE, path)
    monkeypatch.setattr(round_rules, "ROUNDS_FILE", path)
    clear_caches()
    return path


def edit_rounds(path: Path, change: Callable[[list[dict[str, Any]]], None]) -> None:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    change(data["rounds"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    clear_caches()


def _round(rounds: list[dict[str, Any]], round_id: str) -> dict[str, Any]:
    return next(r for r in rounds if str(r["id"]) == round_id)


def test_adding_a_round_is_adding_an_entry_to_the_calendar(rounds_copy: Path) -> None:
    def add(rounds: list[dict[str, Any]]) -> None:
        new = copy.deepcopy(_round(rounds, "2026"))
        new |= {"id": "2030", "name": "Đặc xá năm 2030"}
        new["cutoff"] = {"value": "2030-04-30", "source": "test", "kind": "press"}
        new["rules"]["time"]["ordinary"]["share"] = {
            "value": "2/3",
            "source": "test",
            "verified": False,
        }
        rounds.append(new)

    edit_rounds(rounds_copy, add)
    assert "2030" in available_rounds()
    rules = load_round("2030")
    assert rules.cutoff.value == dt.date(2030, 4, 30)
    met = evaluate(Case(**{**BASE, "served_months": 72}), rules).check("time_served")
    short = evaluate(Case(**{**BASE, "served_months": 71}), rules).check("time_served")
    assert met is not None and met.status == "met"
    assert "Đặc xá năm 2030 yêu cầu ít nhất 2/3 mức án" in met.reason
    assert "chưa kiểm chứng" in met.reason
    # A figure known from the press is not a sure ✘: above the law's floor it is "?".
    assert short is not None and short.status == "unknown" and ROUND_FIGURE in short.missing
    # The law alone now refers to the newest level.
    law = load_round("law")
    assert law.references["ordinary"][1] == "Đặc xá năm 2030"
    check = evaluate(Case(**BASE), law).check("time_served")
    assert check is not None
    reason = check.reason
    assert "Đặc xá năm 2030 yêu cầu 2/3 mức án" in reason


def test_a_round_can_add_exclusions_and_full_payment_crimes(rounds_copy: Path) -> None:
    """Điều 12 khoản 6 and Điều 11 khoản 1 điểm d: 'do Chủ tịch nước quyết định'."""

    def add(rounds: list[dict[str, Any]]) -> None:
        rules = _round(rounds, "2026")["rules"]
        rules["extra_exclusions"] = {
            "value": [
                {"text": "Hiếp dâm người dưới 16 tuổi: không được đề nghị.", "crimes": [142]}
            ],
            "count": None,
            "source": "test",
            "verified": False,
        }
        rules["full_civil_crimes"] = {"value": ["174"], "source": "test", "verified": False}

    edit_rounds(rounds_copy, add)
    rules = load_round("2026")
    excluded = evaluate(Case(**{**BASE, "crime": "hiếp dâm người dưới 16 tuổi"}), rules)
    assert excluded.outcome == NO
    check = excluded.check("round_exclusions")
    assert check is not None and check.citation.startswith("Quyết định số 457/2026/QĐ-CTN")
    fraud = Case(**{**BASE, "crime": "lừa đảo", "civil": "partly", "creditor_agreed": True})
    civil = evaluate(fraud, rules).check("civil")
    assert civil is not None and civil.status == "not_met"
    # The list is known, so no "có thể có thêm trường hợp" note.
    assert not any("có thể có thêm trường hợp" in n for n in excluded.notes)


def test_a_value_without_source_is_refused(rounds_copy: Path) -> None:
    text = rounds_copy.read_text(encoding="utf-8")
    broken = text.replace('source: "Không tìm thấy mức riêng', 'note: "Không tìm thấy mức riêng')
    assert broken != text
    rounds_copy.write_text(broken, "utf-8")
    clear_caches()
    with pytest.raises(RulesError, match="source"):
        load_round("2024")


def test_an_unknown_round_value_cannot_be_verified(rounds_copy: Path) -> None:
    def verify(rounds: list[dict[str, Any]]) -> None:
        _round(rounds, "2026")["rules"]["time"]["priority"]["share"]["verified"] = True

    edit_rounds(rounds_copy, verify)
    with pytest.raises(RulesError, match="cannot be verified"):
        load_round("2026")


def test_unknown_round_is_refused() -> None:
    with pytest.raises(RulesError, match="unknown round"):
        load_round("1999")
