"""The calendar of rounds and the family's time words (knowledge/kb/rounds.py), with the date
pinned: what "năm nay", "năm ngoái", "đợt tới", "2/9 này" mean on a given day."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from knowledge.eligibility.round_rules import load_round
from knowledge.kb.loader import read_rounds
from knowledge.kb.rounds import (
    RoundFacts,
    considering,
    last_completed,
    now_line,
    number,
    resolve,
    round_of_reading,
    rules_for,
)
from knowledge.models import Round

DEC_2026 = dt.date(2026, 12, 6)


@pytest.fixture(scope="module")
def rounds() -> list[RoundFacts]:
    return [RoundFacts.of(Round(**r)) for r in read_rounds()]


def test_in_december_2026_no_round_is_open_and_the_2026_round_is_unverified(
    rounds: list[RoundFacts],
) -> None:
    assert considering(rounds, DEC_2026) is None
    completed = last_completed(rounds, DEC_2026)
    assert completed is not None and completed.id == "2025-2"
    line = now_line(rounds, DEC_2026)
    assert "chưa có thông tin công khai về đợt đặc xá nào đang được xét" in line
    assert "457/2026/QĐ-CTN" in line and "chưa kiểm chứng" in line
    assert "14.025" in line
    assert "corrections.md" not in line  # our reviewers' notes are not shown to families


@pytest.mark.parametrize(
    ("text", "expected", "rounds_meant"),
    [
        ("năm ngoái có bao nhiêu người được đặc xá", "22.081", ("2025-1", "2025-2")),
        ("nam ngoai dac xa bao nhieu nguoi", "22.081", ("2025-1", "2025-2")),
        ("năm nay có đặc xá không", "Năm nay (2026)", ("2026",)),
        ("đặc xá năm 2024 được bao nhiêu người", "3.765", ("2024",)),
        ("bao giờ có đợt tới", "Chưa có thông tin về đợt tiếp theo", ()),
        ("2/9 này có đặc xá không", "đã qua (02/09/2026)", ()),
        ("dịp 30/4 năm nay có đặc xá không", "đã qua (30/04/2026)", ()),
    ],
)
def test_time_words_as_of_december_2026(
    rounds: list[RoundFacts], text: str, expected: str, rounds_meant: tuple[str, ...]
) -> None:
    answer = resolve(text, rounds, DEC_2026)
    assert answer is not None
    assert expected in answer.text
    assert answer.rounds == rounds_meant


@pytest.mark.parametrize(
    ("asked", "text", "expected"),
    [
        # a question naming a round reads the case under that round
        (["đợt 2/9/2025 chồng em có được không"], "", "2025-2"),
        # a round over, told in the story, and a question about now: today, the law's floor
        (["đến giờ bố em đủ thời gian chưa"], "năm 2024 đặc xá mà bố em chưa được", None),
        (["bo e du thoi gian chua"], "nghe noi dot 2024 nhieu nguoi duoc ve", None),
        # a question looking back at the round the story told keeps it
        (["sao đợt đó chồng em không được"], "đặc xá năm 2024 chồng em không có tên", "2024"),
        (["vi sao ck e ko dc xet"], "dot dac xa 2024 ck e ko co ten", "2024"),
        # a round not over keeps its rules
        (["con em có được không"], "đặc xá năm 2026 con em có được không", "2026"),
    ],
)
def test_the_round_that_reads_a_case(
    rounds: list[RoundFacts], asked: list[str], text: str, expected: str | None
) -> None:
    assert round_of_reading(asked, text or asked[0], rounds, DEC_2026) == expected


def test_years_of_time_served_are_not_last_year(rounds: list[RoundFacts]) -> None:
    assert resolve("chồng em đi được 4 năm rồi", rounds, DEC_2026) is None
    assert resolve("án 6 năm, hai năm qua cải tạo tốt", rounds, DEC_2026) is None


def test_before_the_occasion_nothing_is_promised(rounds: list[RoundFacts]) -> None:
    answer = resolve("2/9 này có đặc xá không", rounds, dt.date(2027, 5, 1))
    assert answer is not None
    assert "Chưa có thông tin công khai về đặc xá Quốc khánh 2/9 năm 2027" in answer.text
    assert "Chủ tịch nước quyết định" in answer.text


def test_a_round_marked_as_being_considered_is_said_to_be_open(rounds: list[RoundFacts]) -> None:
    open_round = dataclasses.replace(rounds[-1], status="considering", release_date=None)
    calendar = [*rounds[:-1], open_round]
    assert considering(calendar, DEC_2026) == open_round
    assert now_line(calendar, DEC_2026).startswith("Hiện nay (06/12/2026) đang xét Đặc xá năm 2026")
    resolved = resolve("đợt này xét đến bao giờ", calendar, DEC_2026)
    assert resolved is not None and resolved.rounds == ("2026",)


def test_the_database_calendar_gives_the_same_rules_as_the_reviewable_file(
    rounds: list[RoundFacts],
) -> None:
    for round_id in ("2024", "2025-1", "2025-2", "2026"):
        from_db = rules_for(rounds, round_id)
        from_file = load_round(round_id)
        assert from_db.time == from_file.time
        assert from_db.cutoff.value == from_file.cutoff.value
        assert set(from_db.references) == set(from_file.references)
    assert rules_for(rounds, None).round_id == "law"


def test_vietnamese_numbers() -> None:
    assert number(22081) == "22.081" and number(3765) == "3.765" and number(105) == "105"
