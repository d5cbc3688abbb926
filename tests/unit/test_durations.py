"""Sentence lengths and years as families type them."""

from __future__ import annotations

import pytest

from knowledge.eligibility.durations import Sentence, parse_duration, parse_sentence, parse_year


@pytest.mark.parametrize(
    ("text", "months"),
    [
        # digits and units, with and without diacritics
        ("6 năm", 72),
        ("6 nam", 72),
        ("6 NĂM", 72),
        ("6năm", 72),
        ("30 tháng", 30),
        ("18 thang", 18),
        ("2 năm 3 tháng", 27),
        ("1 năm 6 tháng", 18),
        ("2 nam 3 thang", 27),
        ("2 năm, 3 tháng", 27),
        ("2 năm và 3 tháng", 27),
        ("3 năm 6", 42),
        ("12 năm tù", 144),
        ("bị kết án 7 năm tù giam", 84),
        ("án 20 năm, đã ở 5 năm", 240),
        # halves and decimals
        ("5 năm rưỡi", 66),
        ("5 nam ruoi", 66),
        ("4,5 năm", 54),
        ("4.5 nam", 54),
        ("1 năm rưỡi", 18),
        ("năm rưỡi", 18),
        ("nửa năm", 6),
        # number words
        ("hai năm", 24),
        ("hai nam", 24),
        ("ba năm rưỡi", 42),
        ("ba nam ruoi", 42),
        ("một năm", 12),
        ("năm năm", 60),
        ("năm tháng", 5),
        ("sáu năm tù", 72),
        ("bảy năm", 84),
        ("bẩy năm", 84),
        ("chín tháng", 9),
        ("mười năm", 120),
        ("mười hai tháng", 12),
        ("mười lăm năm", 180),
        ("hai mươi năm", 240),
        ("hai mươi lăm năm", 300),
        ("hai mươi năm năm", 300),
        ("hai mươi tư tháng", 24),
        ("Hai Năm Rưỡi", 30),
        # short forms
        ("6n", 72),
        ("18th", 18),
        ("3 thg", 3),
        ("2n3th", 27),
        ("2n 3th", 27),
        ("sau 2 năm", 24),
        ("tạm giam 3 tháng", 3),
        # nothing to count
        ("chung thân", None),
        ("tù chung thân", None),
        ("tử hình", None),
        ("không biết", None),
        ("ko biet", None),
        ("chưa rõ", None),
        ("năm 2021", None),
        ("sau năm 2020", None),
        ("bà năm nay 70 tuổi", None),
        ("7-8 năm", None),
        ("7 đến 8 năm", None),
        ("tháng 3", None),
        ("từ tháng 7 năm nay", None),  # a month of this year, not 7 years
        ("bị bắt tháng 3 năm ngoái", None),
        ("đi tù 5 năm nay", 60),
        ("0", None),
        ("", None),
    ],
)
def test_parse_duration(text: str, months: int | None) -> None:
    assert parse_duration(text) == months


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("6 năm", Sentence(72)),
        ("chung thân", Sentence(None, "life")),
        ("tù chung thân", Sentence(None, "life")),
        ("chung thân, đã giảm xuống 30 năm", Sentence(360, "life_commuted")),
        ("tu chung than giam con 25 nam", Sentence(300, "life_commuted")),
        ("tử hình", Sentence(None, "death")),
        ("3 năm tù treo", Sentence(36, "suspended")),
        ("án treo 2 năm", Sentence(24, "suspended")),
        ("đang được hoãn chấp hành án", Sentence(None, "postponed")),
        ("đang tạm đình chỉ, án 5 năm", Sentence(60, "on_suspension")),
        ("không biết", Sentence(None)),
    ],
)
def test_parse_sentence(text: str, sentence: Sentence) -> None:
    assert parse_sentence(text) == sentence


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("năm 2021", 2021),
        ("nam 2019", 2019),
        ("2021", 2021),
        ("tháng 3/2021", 2021),
        ("21/3/2020", 2020),
        ("bị bắt từ năm 1999", 1999),
        ("năm ngoái", None),
        ("năm 21", None),
        ("không nhớ", None),
    ],
)
def test_parse_year(text: str, year: int | None) -> None:
    assert parse_year(text) == year
