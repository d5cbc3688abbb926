"""Reading the family's answers in the eligibility form."""

from __future__ import annotations

import pytest

from actions.eligibility import UNKNOWN, case_from_slots, read_answer, still_needed


@pytest.mark.parametrize(
    ("slot", "text", "value"),
    [
        ("elig_kind", "tù có thời hạn", "fixed_term"),
        ("elig_kind", "chung thân đã được giảm", "life_commuted"),
        ("elig_kind", "tu hinh", "death"),
        ("elig_sentence", "5 năm rưỡi", 66),
        ("elig_served", "2 năm 3 tháng", 27),
        ("elig_served", "không biết", UNKNOWN),
        ("elig_rating", "khá", "kha"),
        ("elig_rating", "tot", "tot"),
        ("elig_fines", "đã nộp xong", True),
        ("elig_fines", "chưa", False),
        ("elig_civil", "mới trả một phần", "partly_unable"),
        ("elig_civil", "không phải bồi thường", "none"),
        ("elig_priors", "0", 0),
        ("elig_priors", "không có", 0),
        ("elig_priority", "bệnh nặng không tự đi được", "serious_illness"),
        ("elig_priority", "không", ""),
        ("elig_amnestied", "ờ thì", None),
    ],
)
def test_read_answer(slot: str, text: str, value: object) -> None:
    assert read_answer(slot, text) == value


def test_unread_answers_are_asked_again_and_unknown_ones_are_not() -> None:
    slots = {"elig_kind": "tù có thời hạn", "elig_sentence": "ờ", "elig_served": UNKNOWN}
    needed = still_needed(slots)
    assert "elig_sentence" in needed and "elig_served" not in needed and "elig_kind" not in needed
    assert case_from_slots(slots).served_months is None
