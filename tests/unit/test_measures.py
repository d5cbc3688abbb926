"""The other measures' calculators (knowledge/eligibility/measures.py): case tables with the
arithmetic a family can check, and the "chưa kiểm chứng" path where a rule was not read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from knowledge.eligibility.case import Case
from knowledge.eligibility.case_text import read_case
from knowledge.eligibility.measures import assess_early_release, assess_record, assess_reduction

TODAY = dt.date(2026, 12, 6)


def status(assessment: Any, name: str) -> str:
    return next(c.status for c in assessment.checks if c.name == name)


def reason(assessment: Any, name: str) -> str:
    return next(c.reason for c in assessment.checks if c.name == name)


@pytest.mark.parametrize(
    ("case", "time_status", "in_reason"),
    [
        (Case(sentence_months=84, served_months=36), "met", "1/3 mức án = 2 năm 4 tháng"),
        (Case(sentence_months=84, served_months=20), "not_met", "còn thiếu khoảng 8 tháng"),
        (Case(sentence_kind="life", served_months=150), "met", "12 năm"),
        (Case(sentence_kind="life", served_months=100), "not_met", "12 năm"),
        (Case(sentence_months=84), "unknown", "đã chấp hành bao lâu"),
        (Case(served_months=30), "unknown", "mức án"),
        # a minor under Luật 59/2024 Điều 123 (from 01/01/2026): 1/4
        (
            Case(sentence_months=48, served_months=13, age_at_offence=16),
            "met",
            "1/4 mức án = 1 năm",
        ),
        (Case(sentence_months=48, served_months=11, age_now=17), "not_met", "1/4"),
    ],
)
def test_reduction_first_time(case: Case, time_status: str, in_reason: str) -> None:
    result = assess_reduction(case, TODAY)
    assert status(result, "time_served") == time_status
    assert in_reason in reason(result, "time_served")
    assert status(result, "progress") == "unknown"  # the camp's rating: never guessed
    assert result.outcome != "met"


@pytest.mark.parametrize("assess", [assess_reduction, assess_early_release])
def test_a_rating_the_family_told_is_repeated_not_asked_again(assess: Any) -> None:
    told = next(
        c
        for c in assess(Case(sentence_months=84, rating="tot"), TODAY).checks
        if c.name == "progress"
    )
    untold = next(c for c in assess(Case(sentence_months=84), TODAY).checks if c.name == "progress")
    assert told.status == untold.status == "unknown"  # the camp still decides
    assert "xếp loại tốt" in told.reason and "rating" not in told.missing
    assert "rating" in untold.missing


def test_reduction_counts_from_the_arrest_date_to_today() -> None:
    result = assess_reduction(Case(sentence_months=60, detention_start=dt.date(2025, 1, 6)), TODAY)
    assert "đã chấp hành khoảng 1 năm 11 tháng" in " ".join(result.facts)
    assert status(result, "time_served") == "met"
    assert "ít nhất 1/2 mức án = 2 năm 6 tháng" in " ".join(result.facts)


def test_time_served_stops_on_the_day_a_suspension_began() -> None:
    """Time on suspension does not count: from the arrest to the day it began, when told."""
    facts = read_case(
        "Em gái tôi bị bắt ngày 3/2/2023, bị xử 4 năm tù. Từ ngày 20/9/2024 được Tòa cho tạm "
        "đình chỉ về nhà nuôi con."
    )
    assert facts["suspended_on"] == "2024-09-20"
    case = Case(**{k: v for k, v in facts.items() if k != "crime"})
    assert "đã chấp hành khoảng 1 năm 7 tháng" in " ".join(assess_reduction(case, TODAY).facts)
    undated = Case(
        sentence_kind="on_suspension", sentence_months=48, detention_start=dt.date(2023, 2, 3)
    )
    assert "đã chấp hành" not in " ".join(assess_reduction(undated, TODAY).facts)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (Case(sentence_months=60, served_months=31, crime="trộm cắp", first_offence=True), "met"),
        (Case(sentence_months=60, served_months=20, crime="trộm cắp"), "not_met"),
        # 1/3 for someone aged 70 or more
        (Case(sentence_months=60, served_months=21, crime="trộm cắp", age_now=71), "met"),
    ],
)
def test_early_release_time(case: Case, expected: str) -> None:
    assert status(assess_early_release(case, TODAY), "time_served") == expected


@pytest.mark.parametrize(
    ("crime", "months", "excluded"),
    [
        ("cướp tài sản", 96, "not_met"),  # Điều 168, 7 years or more
        ("cướp tài sản", 60, "met"),
        ("giết người", 144, "not_met"),  # Chương XIV, intentional, 10 years or more
        ("vô ý làm chết người", 144, "met"),  # negligent: not excluded
        ("khủng bố", 36, "not_met"),
        ("trộm cắp", 60, "met"),
    ],
)
def test_early_release_excluded_crimes(crime: str, months: int, excluded: str) -> None:
    result = assess_early_release(Case(sentence_months=months, crime=crime), TODAY)
    assert status(result, "excluded_crime") == excluded


def test_with_several_crimes_the_length_threshold_is_the_one_crime_s_sentence() -> None:
    """11 years in total for theft and intentional injury: the 10-year threshold of Chương XIV is
    about the injury's own sentence, which is not told (review N4)."""
    case = Case(sentence_months=132, crime="trộm cắp tài sản và cố ý gây thương tích")
    result = assess_early_release(case, TODAY)
    assert status(result, "excluded_crime") == "unknown"
    assert "không theo tổng hình phạt" in reason(result, "excluded_crime")
    alone = assess_early_release(Case(sentence_months=132, crime="cố ý gây thương tích"), TODAY)
    assert status(alone, "excluded_crime") == "not_met"


def test_early_release_for_a_minor_after_2025_is_unverified_never_met() -> None:
    case = Case(sentence_months=60, served_months=30, crime="cố ý gây thương tích", age_now=16)
    result = assess_early_release(case, TODAY)
    assert status(result, "time_served") == "unknown"
    assert "chưa kiểm chứng" in reason(result, "time_served")
    before = assess_early_release(case, dt.date(2025, 6, 1))  # BLHS Điều 106 then: 1/3
    assert status(before, "time_served") == "met"


def test_early_release_needs_a_reduction_first_for_serious_crimes_only() -> None:
    long = assess_early_release(Case(sentence_months=60, crime="trộm cắp"), TODAY)
    short = assess_early_release(Case(sentence_months=24, crime="trộm cắp"), TODAY)
    assert "reduced_before" in [c.name for c in long.checks]
    assert "reduced_before" not in [c.name for c in short.checks]


@pytest.mark.parametrize(
    ("case", "period"),
    [
        (Case(sentence_months=32, finished_on=dt.date(2016, 3, 26)), ("met", "đủ (từ 26/03/2018)")),
        (Case(sentence_months=78, finished_on=dt.date(2024, 6, 1)), ("not_met", "đến 01/06/2027")),
        (Case(sentence_months=200, finished_year=2015), ("met", "5 năm")),
        (
            Case(sentence_kind="suspended", sentence_months=24, finished_on=dt.date(2026, 1, 1)),
            ("not_met", "1 năm"),
        ),
        (Case(sentence_months=60, finished_year=2007), ("met", "2 năm")),
        (Case(sentence_months=60), ("unknown", "ngày ra tù")),
        (Case(finished_year=2010), ("unknown", "mức án Tòa đã tuyên")),
    ],
)
def test_record_clearing_period(case: Case, period: tuple[str, str]) -> None:
    result = assess_record(case, TODAY)
    assert status(result, "period") == period[0]
    assert period[1] in reason(result, "period")


def test_a_suspended_sentence_clears_a_year_after_the_probation_ends() -> None:
    case = Case(sentence_kind="suspended", sentence_months=12, finished_on=dt.date(2024, 5, 5))
    found = assess_record(case, TODAY)
    assert "hết thời gian thử thách ngày 05/05/2024" in found.facts
    assert any("đã đủ (từ 05/05/2025)" in c.reason for c in found.checks)


def test_record_clearing_counts_from_the_sentence_as_pronounced_and_says_what_is_missing() -> None:
    result = assess_record(Case(sentence_months=60, finished_year=2007), TODAY)
    assert result.outcome == "unknown"  # a new crime? all of the judgment done?
    assert set(result.missing) == {"new_crime", "fines_paid"}
    cleared = assess_record(
        Case(sentence_months=60, finished_year=2007, new_crime=False, fines_paid=True), TODAY
    )
    assert cleared.outcome == "met"


def test_record_clearing_for_national_security_crimes_goes_through_a_court() -> None:
    result = assess_record(Case(sentence_months=48, crime="Điều 117", finished_year=2015), TODAY)
    assert "3 năm" in reason(result, "period")  # Điều 71: 3 years, not 2
    assert any(c.name == "by_court" for c in result.checks)


def test_record_clearing_of_a_minor_before_2026_uses_the_shorter_periods() -> None:
    case = Case(sentence_months=24, finished_on=dt.date(2025, 3, 1), age_at_offence=16)
    assert "1 năm" in reason(assess_record(case, TODAY), "period")


def test_a_released_person_s_time_in_prison_stands_for_the_sentence_with_a_caveat() -> None:
    facts = read_case("bố em đi tù 18 tháng, ra tù năm 2008")
    result = assess_record(Case(**facts), TODAY)
    assert status(result, "period") == "met"
    assert any("mức tuyên" in f for f in result.facts)


def test_time_from_the_arrest_date_never_runs_past_the_sentence_nor_through_a_suspension() -> None:
    def case(**more: Any) -> Case:
        return Case(detention_year=2022, detention_month=7, sentence_months=48, **more)

    def time(c: Case) -> str:
        return status(assess_early_release(c, TODAY), "time_served")

    # on a suspension after 3 months: the 3 months the family told, not 4 years since the arrest
    assert time(case(served_months=3, sentence_kind="on_suspension")) == "not_met"
    # the date runs past the sentence and disagrees with the 3 months told (a message written
    # long ago, or a misreading): neither is taken, the time is asked
    assert time(case(served_months=3)) == "unknown"
    # the date and the time told agree: the date counts to today
    near = Case(detention_year=2024, detention_month=1, sentence_months=120, served_months=35)
    assert time(near) == "not_met"  # about 35 months of 120: under 1/2
    assert time(case()) == "unknown"  # nothing stated: asked, never ticked
