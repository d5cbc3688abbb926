"""The one normalisation function and diacritic folding."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vietnamese.text import expand_abbreviations, fold, normalize, strip_diacritics


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hoà", "hòa"),
        ("Thanh Hoá", "Thanh Hóa"),
        ("Ðà Nẵng", "Đà Nẵng"),
        (unicodedata.normalize("NFD", "đặc xá"), "đặc xá"),
        ("  chồng   em\n\nbị 6 năm  ", "chồng em bị 6 năm"),
        ("ck e dc xét đx ko ad", "ck e được xét đặc xá không ad"),
        ("đk để dc đặc xá là j", "điều kiện để được đặc xá là gì"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_ambiguous_abbreviations_are_left_to_the_model() -> None:
    assert normalize("ck em bị 5 năm, k biết") == "ck em bị 5 năm , k biết"
    assert expand_abbreviations("bn tiền") == "bn tiền"


def test_button_payloads_pass_untouched() -> None:
    assert (
        normalize('/ask_conditions{"relation": "chồng"}') == '/ask_conditions{"relation": "chồng"}'
    )


def test_typed_text_never_starts_with_a_slash() -> None:
    assert not normalize(" /ask_conditions").startswith("/")


def test_max_chars() -> None:
    assert len(normalize("đặc xá " * 1000, max_chars=50)) <= 50


def test_fold() -> None:
    assert fold("Đặc Xá ĐƯỢC Không") == "dac xa duoc khong"
    assert strip_diacritics("Hồ sơ") == "Ho so"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=400))
def test_normalize_never_raises(text: str) -> None:
    result = normalize(text)
    assert isinstance(result, str)
    assert result == result.strip()


VIETNAMESE = st.text(
    alphabet=st.sampled_from(
        list(
            "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệ"
            "ìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ ,.?0123456789"
        )
    ),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(VIETNAMESE)
def test_normalize_is_idempotent_on_vietnamese(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


def test_invisible_characters_are_removed() -> None:
    assert normalize("\u200b/ask_fees") == "ask_fees"
    assert normalize("đặc\u200b xá\ufeff") == "đặc xá"
