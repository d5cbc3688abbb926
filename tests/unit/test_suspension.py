"""Temporary suspension for a serious illness: the illness named, read and checked."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.eligibility.case import Case
from knowledge.eligibility.case_text import read_case
from knowledge.eligibility.suspension import assess_suspension

TODAY = dt.date(2026, 12, 6)


@pytest.mark.parametrize(
    ("text", "illness"),
    [
        ("bố tôi bị suy tim độ III", "suy tim độ III trở lên"),
        ("ck e bi suy than giai doan 5, tuan chay than 3 lan", "suy thận độ IV trở lên"),
        ("mẹ em ung thư gan giai đoạn cuối", "ung thư giai đoạn cuối"),
        ("anh tôi bị xơ gan cổ chướng", "xơ gan cổ chướng"),
        ("bố em bị suy tim độ 2", None),
        ("chồng em bị tiểu đường, cao huyết áp", None),
        ("ung thư giai đoạn đầu", None),
    ],
)
def test_the_listed_illness_is_read(text: str, illness: str | None) -> None:
    assert read_case(text).get("illness") == illness


@pytest.mark.parametrize(
    ("case", "outcome", "says"),
    [
        (Case(illness="suy tim độ III trở lên"), "met", "có trong danh sách bệnh nặng"),
        (Case(sentence_months=96), "unknown", "Bệnh phải là bệnh nặng"),
    ],
)
def test_the_suspension_reading(case: Case, outcome: str, says: str) -> None:
    assessment = assess_suspension(case, TODAY)
    assert assessment.outcome == outcome
    assert says in assessment.checks[0].reason
    assert "không tính vào thời hạn tù" in assessment.checks[-1].reason
    assert assessment.missing == (() if outcome == "met" else ("illness",))
