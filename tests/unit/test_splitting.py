from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vietnamese.splitting import split_text

SENTENCE = "Người được đặc xá phải có đơn cam kết chấp hành pháp luật. "


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@given(st.text(), st.integers(min_value=1, max_value=300))
def test_never_loses_text_and_never_exceeds_the_limit(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert all(p == p.strip() for p in pieces)
    assert squeezed("".join(pieces)) == squeezed(text)


@given(
    st.lists(st.text(alphabet="aăâbcdđeêhiklmnoôơpqrstuưvxyàáạảãềếệểễ ", min_size=1), max_size=30),
    st.integers(min_value=30, max_value=400),
)
def test_words_are_only_cut_when_longer_than_the_limit(words: list[str], limit: int) -> None:
    text = " ".join(w.strip() or "x" for w in words)
    pieces = split_text(text, limit)
    if all(len(w) <= limit for w in text.split()):
        assert [w for p in pieces for w in p.split()] == text.split()


def test_paragraphs_are_kept_together_when_they_fit() -> None:
    first, second = SENTENCE * 3, SENTENCE * 2
    pieces = split_text(f"{first.strip()}\n\n{second.strip()}", 250)
    assert pieces == [first.strip(), second.strip()]


def test_long_paragraph_is_cut_after_a_sentence() -> None:
    pieces = split_text(SENTENCE * 10, 200)
    assert len(pieces) > 1
    assert all(p.endswith(".") for p in pieces)
    assert all(len(p) <= 200 for p in pieces)


def test_short_text_is_one_message() -> None:
    assert split_text("  Chào bạn.  ", 4096) == ["Chào bạn."]
    assert split_text("   ", 10) == []


def test_decomposed_accent_stays_with_its_letter() -> None:
    text = "a" * 9 + "e\u0301" + "b" * 5  # é in decomposed form straddles the 10th character
    pieces = split_text(text, 10)
    assert not any(p[0] == "\u0301" for p in pieces)
    assert "".join(pieces) == text


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_text("abc", 0)
