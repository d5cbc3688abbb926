"""The eligibility evaluator against the law (Luật Đặc xá 2018) and the rounds' figures.

Each row of the table names the article that decides it; the first check listed in a row is
the deciding one, and its citation must name that article.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.eligibility import round_rules
from knowledge.eligibility.case import Case
from knowledge.eligibility.evaluator import crime_codes, evaluate
from knowledge.eligibility.round_rules import RulesError, available_rounds, load_law, load_round
from knowledge.eligibility.time_served import months_between
from knowledge.kb.loader import ROUNDS_FILE

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


def row(
    id: str,
    round: str,
    case: dict[str, Any],
    outcome: str,
    checks: dict[str, str],
    article: str,
    missing: tuple[str, ...] = (),
) -> Row:
    return Row(id, round, case, outcome, checks, article, frozenset(missing))


MAY, NO, UNSURE = "may_be_considered", "does_not_meet", "cannot_tell"
TIME = "Điều 11 khoản 1 điểm b"
SERIOUS = "Điều 11 khoản 1 điểm b, đoạn 2"
PRIORITY = "Điều 11 khoản 3"
QD_2024 = "758/2024/QĐ-CTN"

TABLE = [
    # --- Ordinary case: at least 1/3 of the sentence (Điều 11.1.b) -------------------------
    row("ordinary-above-third", "law", BASE, MAY, {"time_served": "met"}, TIME),
    row(
        "ordinary-below-third",
        "law",
        {**BASE, "served_months": 35},
        NO,
        {"time_served": "not_met"},
        TIME,
    ),
    row(
        "ordinary-exactly-third",
        "law",
        {**BASE, "served_months": 36},
        MAY,
        {"time_served": "met"},
        TIME,
    ),
    row(
        "2024-exactly-half-by-date",
        "2024",
        {**BASE, "sentence_months": 72, "served_months": None, "detention_start": "2021-10-01"},
        MAY,
        {"time_served": "met"},
        QD_2024,
    ),
    row(
        "2024-one-day-short-of-press-half",
        "2024",
        {**BASE, "sentence_months": 72, "served_months": None, "detention_start": "2021-10-02"},
        UNSURE,
        {"time_served": "unknown"},
        QD_2024,
        ("round_time_requirement",),
    ),
    row(
        "2024-below-law-third",
        "2024",
        {**BASE, "sentence_months": 72, "served_months": None, "detention_start": "2023-01-01"},
        NO,
        {"time_served": "not_met"},
        TIME,
    ),
    row(
        "2025-1-counts-to-30-4-2025",
        "2025-1",
        {**BASE, "sentence_months": 36, "served_months": None, "detention_start": "01/05/2024"},
        MAY,
        {"time_served": "met"},
        TIME,
    ),
    row(
        "2025-2-counts-to-31-8-2025",
        "2025-2",
        {**BASE, "sentence_months": 36, "served_months": None, "detention_start": "2024-09-02"},
        NO,
        {"time_served": "not_met"},
        TIME,
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
    row(
        "murder-12y-exactly-half",
        "law",
        {**BASE, "crime": "Giết người", "sentence_months": 144, "served_months": 72},
        MAY,
        {"time_served": "met"},
        SERIOUS,
    ),
    row(
        "assault-8y-under-10y-is-ordinary",
        "law",
        {**BASE, "crime": "cố ý gây thương tích", "sentence_months": 96, "served_months": 33},
        MAY,
        {"time_served": "met"},
        TIME,
    ),
    row(
        "negligent-homicide-10y-is-ordinary",
        "law",
        {**BASE, "crime": "vô ý làm chết người", "sentence_months": 120, "served_months": 40},
        MAY,
        {"time_served": "met"},
        TIME,
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
    row(
        "drug-possession-7y-is-ordinary",
        "law",
        {
            **BASE,
            "crime": "tàng trữ trái phép chất ma túy",
            "sentence_months": 84,
            "served_months": 30,
        },
        MAY,
        {"time_served": "met"},
        TIME,
    ),
    row(
        "robbery-6y-under-7y-is-ordinary",
        "law",
        {**BASE, "crime": "cướp tài sản", "sentence_months": 72, "served_months": 25},
        MAY,
        {"time_served": "met"},
        TIME,
    ),
    row(
        "snatching-is-not-robbery",
        "law",
        {**BASE, "crime": "cướp giật tài sản", "sentence_months": 96, "served_months": 33},
        MAY,
        {"time_served": "met"},
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
    # --- Priority groups, Điều 11.3 a–i: no minimum in the law --------------------------------
    *[
        row(
            f"priority-{group}",
            "law",
            {**BASE, "served_months": 6, "priority": frozenset({group})},
            MAY,
            {"time_served": "met"},
            f"{PRIORITY} (",
        )
        for group in (
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
    ],
    row(
        "priority-by-point-letter",
        "law",
        {**BASE, "served_months": 6, "priority": {"đ"}},
        MAY,
        {"time_served": "met"},
        PRIORITY,
    ),
    row(
        "aged-70-from-age",
        "law",
        {**BASE, "served_months": 6, "priority": None, "age_now": 72},
        MAY,
        {"time_served": "met"},
        PRIORITY,
    ),
    row(
        "2024-priority-above-press-third",
        "2024",
        {**BASE, "sentence_months": 72, "served_months": 25, "priority": {"serious_illness"}},
        MAY,
        {"time_served": "met"},
        QD_2024,
    ),
    row(
        "2024-priority-below-press-third",
        "2024",
        {**BASE, "sentence_months": 72, "served_months": 10, "priority": {"serious_illness"}},
        UNSURE,
        {"time_served": "unknown"},
        QD_2024,
        ("round_time_requirement",),
    ),
    # --- Under 18 -----------------------------------------------------------------------------
    row(
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
        MAY,
        {"time_served": "met"},
        "Điều 11 khoản 4",
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
        {"fines": "not_met", "time_served": "met"},
        "Điều 11 khoản 1 điểm c",
    ),
    row(
        "under-18-at-offence-age-now-unknown",
        "law",
        {**BASE, "served_months": 1, "fines_paid": False, "age_at_offence": 16},
        UNSURE,
        {"fines": "unknown", "time_served": "met"},
        "Điều 11 khoản 4",
        ("age_now",),
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
    row(
        "one-prior-conviction",
        "law",
        {**BASE, "prior_convictions": 1},
        MAY,
        {"prior_convictions": "met"},
        "Điều 12 khoản 5",
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
    row(
        "corruption-all-returned",
        "law",
        {**BASE, "crime": "nhận hối lộ", "civil": "met"},
        MAY,
        {"civil": "met"},
        "Điều 11 khoản 1 điểm d",
    ),
    row(
        "partly-paid-unable-creditor-agrees",
        "law",
        {**BASE, "civil": "partly_unable", "creditor_agreed": True},
        MAY,
        {"civil": "met"},
        "Điều 11 khoản 1 điểm đ",
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
        "civil-not-paid",
        "law",
        {**BASE, "civil": "no"},
        NO,
        {"civil": "not_met"},
        "Điều 11 khoản 1 điểm đ",
    ),
    # --- Life sentence reduced to a term: 14 years (law), 15 (2024 press) -------------------
    row(
        "life-commuted-above-14",
        "law",
        {**LIFE, "served_months": 170},
        MAY,
        {"time_served": "met"},
        TIME,
    ),
    row(
        "life-commuted-exactly-14",
        "law",
        {**LIFE, "served_months": 168},
        MAY,
        {"time_served": "met"},
        TIME,
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
    ),
    row(
        "2024-life-commuted-between-14-and-15",
        "2024",
        {**LIFE, "served_months": 174},
        UNSURE,
        {"time_served": "unknown"},
        QD_2024,
        ("round_time_requirement",),
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
    row(
        "on-suspension-complied",
        "law",
        {**BASE, "sentence_kind": "on_suspension", "complied_on_suspension": True},
        MAY,
        {"suspension_conduct": "met", "rating": "met"},
        "Điều 11 khoản 2 điểm d",
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
        ("detention_start", "round_time_requirement"),
    ),
    # --- 2026: nothing verified, the law's floor applies with a warning ------------------------
    row(
        "2026-law-floor-met",
        "2026",
        {**BASE, "served_months": 40},
        MAY,
        {"time_served": "met"},
        TIME,
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


@pytest.fixture(autouse=True)
def fresh_rules() -> Iterator[None]:
    load_law.cache_clear()
    load_round.cache_clear()
    yield
    load_law.cache_clear()
    load_round.cache_clear()


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
    if r.outcome == UNSURE:
        assert verdict.missing, "a 'cannot tell' verdict must name what is missing"
    for check in verdict.checks:
        assert check.reason and check.citation.startswith(("Luật", "Quyết định"))


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
    reason = verdict.check("time_served").reason  # type: ignore[union-attr]
    assert "có thể yêu cầu cao hơn" in reason and "hỏi trại giam" in reason
    assert any("chưa được kiểm chứng với văn bản gốc" in n for n in verdict.notes)
    verdict = evaluate(Case(**BASE), load_round("2024"))
    reason = verdict.check("time_served").reason  # type: ignore[union-attr]
    assert "Theo báo chí" in reason and "1/2" in reason and "chưa kiểm chứng" in reason


def test_time_to_today_when_the_cutoff_is_unknown() -> None:
    case = Case(**{**BASE, "served_months": None, "detention_start": dt.date(2020, 1, 1)})
    verdict = evaluate(case, load_round("2026"), as_of=dt.date(2026, 6, 1))
    check = verdict.check("time_served")
    assert check is not None and check.status == "met" and "01/06/2026" in check.reason


def test_2025_2_rating_mentions_the_quarters_for_a_reduced_life_sentence() -> None:
    verdict = evaluate(Case(**{**LIFE, "served_months": 200}), load_round("2025-2"))
    assert "18 quý" in verdict.check("rating").reason  # type: ignore[union-attr]
    assert any("14 trường hợp" in n for n in verdict.notes)


def test_priority_group_is_named_in_the_notes() -> None:
    case = Case(**{**BASE, "priority": {"pregnant_or_young_child"}})
    verdict = evaluate(case, load_round("law"))
    assert verdict.group == "priority"
    assert any("con dưới 36 tháng" in n for n in verdict.notes)


def test_unknown_priority_group_is_refused() -> None:
    with pytest.raises(ValueError, match="priority"):
        evaluate(Case(**{**BASE, "priority": {"rich"}}), load_round("law"))


def test_case_reads_typed_answers() -> None:
    case = Case(rating="Khá", fines_paid="có", civil="partly", amnestied_before="không")
    assert (case.rating, case.fines_paid, case.civil, case.amnestied_before) == (
        "kha",
        True,
        "partly_unable",
        False,
    )
    assert Case(detention_start="15/03/2021").detention_start == dt.date(2021, 3, 15)
    assert Case(sentence_kind="unknown").sentence_kind is None
    with pytest.raises(ValueError):
        Case(sentence_kind="house_arrest")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Case(fines_paid="maybe")


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("trộm cắp tài sản", {"173"}),
        ("cuop giat tai san", {"171"}),
        ("Cướp tài sản", {"168"}),
        ("Điều 251", {"251"}),
        ("251", {"251"}),
        ("buôn bán ma túy và tàng trữ ma túy", {"249", "251"}),
        ("vô ý gây thương tích", {"138"}),
        ("đe dọa giết người", {"133"}),
        ("khủng bố nhằm chống chính quyền nhân dân", {"113"}),
        ("đưa hối lộ", {"364"}),
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


def test_rounds_match_the_published_round_descriptions() -> None:
    described = yaml.safe_load(ROUNDS_FILE.read_text(encoding="utf-8"))["rounds"]
    assert {r["id"] for r in described} == set(available_rounds())
    for r in described:
        rules = load_round(r["id"])
        assert rules.decision.value == r["decision"]
        cutoff = rules.cutoff.value
        assert (f"{cutoff.day}/{cutoff.month}/{cutoff.year}" if cutoff else None) == r["cutoff"]


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
    for path in sorted(round_rules.RULES_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found = list(_values(data, path.name))
        assert found, path
        for where, value in found:
            assert str(value.get("source", "")).strip(), where
            assert isinstance(value.get("verified"), bool), where
            if value["value"] is None and path.stem != "law":
                assert value["verified"] is False, where
        for item in data.get("priority_groups", []) + data.get("exclusions", []):
            assert item["source"] and isinstance(item["verified"], bool), item


def test_2024_time_figures_are_press_only() -> None:
    rules = load_round("2024")
    assert rules.time["ordinary"].share.verified is False
    assert rules.time["priority"].life_years.value == 13
    assert rules.cutoff.value == dt.date(2024, 9, 30)


@pytest.fixture
def rules_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for path in round_rules.RULES_DIR.glob("*.yml"):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(round_rules, "RULES_DIR", tmp_path)
    return tmp_path


def test_adding_a_round_is_adding_a_file(rules_copy: Path) -> None:
    data = yaml.safe_load((rules_copy / "2026.yml").read_text(encoding="utf-8"))
    data["id"] = "2030"
    data["cutoff"] = {"value": "2030-04-30", "source": "test", "verified": True}
    data["time"]["ordinary"]["share"] = {"value": "2/3", "source": "test", "verified": True}
    (rules_copy / "2030.yml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    assert "2030" in available_rounds()
    rules = load_round("2030")
    met = evaluate(Case(**{**BASE, "served_months": 72}), rules).check("time_served")
    short = evaluate(Case(**{**BASE, "served_months": 71}), rules).check("time_served")
    assert met is not None and met.status == "met" and "của đợt là 2/3" in met.reason
    assert "có thể yêu cầu cao hơn" not in met.reason
    assert short is not None and short.status == "not_met"


def test_a_round_can_add_exclusions_and_full_payment_crimes(rules_copy: Path) -> None:
    """Điều 12 khoản 6 and Điều 11 khoản 1 điểm d: 'do Chủ tịch nước quyết định'."""
    data = yaml.safe_load((rules_copy / "2026.yml").read_text(encoding="utf-8"))
    data["id"] = "2031"
    data["extra_exclusions"] = {
        "value": [{"text": "Hiếp dâm người dưới 16 tuổi: không được đề nghị.", "crimes": [142]}],
        "source": "test",
        "verified": True,
    }
    data["full_civil_crimes"] = {"value": ["174"], "source": "test", "verified": True}
    (rules_copy / "2031.yml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    rules = load_round("2031")
    excluded = evaluate(Case(**{**BASE, "crime": "hiếp dâm người dưới 16 tuổi"}), rules)
    assert excluded.outcome == NO
    assert excluded.check("round_exclusions") is not None
    fraud = Case(**{**BASE, "crime": "lừa đảo", "civil": "partly", "creditor_agreed": True})
    civil = evaluate(fraud, rules).check("civil")
    assert civil is not None and civil.status == "not_met"


def test_a_value_without_source_is_refused(rules_copy: Path) -> None:
    text = (rules_copy / "2024.yml").read_text(encoding="utf-8")
    broken = text.replace('source: "Không tìm thấy mức riêng', 'note: "Không tìm thấy mức riêng')
    (rules_copy / "2024.yml").write_text(broken, "utf-8")
    with pytest.raises(RulesError, match="source"):
        load_round("2024")


def test_unknown_round_is_refused() -> None:
    with pytest.raises(RulesError, match="unknown round"):
        load_round("1999")
