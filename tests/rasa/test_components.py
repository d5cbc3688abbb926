"""The Vietnamese normaliser and tokenizer inside Rasa (run in the Rasa environment)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.components import (
    ORIGINAL_TEXT,
    VietnameseNormalizer,
    VietnameseTokenizer,
)

TOKENIZER = VietnameseTokenizer(
    {**VietnameseTokenizer.get_default_config(), "fixed_words": ["đặc xá", "trại giam"]}
)
SYLLABLES = VietnameseTokenizer(
    {**VietnameseTokenizer.get_default_config(), "split_syllables": True}
)
NORMALIZER = VietnameseNormalizer({"max_chars": 1500})

HARD_CASES = [
    "hoà",
    "Thanh Hoá",
    "ÐẶC XÁ Ðà Nẵng",
    unicodedata.normalize("NFD", "Chồng tôi bị 6 năm, được đặc xá không?"),
    "😀😀😀",
    "👍 đặc xá 🙏",
    "Привет 你好 مرحبا đặc xá",
    "<script>alert('x')</script>",
    "'; DROP TABLE events; --",
    '/ask_conditions{"relation": "chồng"}',
    "",
    "   \t\n  ",
    "ck e dag o tu, dc dac xa k ak",
    "x" * 20_000,
    "đặc xá " * 3_000,
]


def check_tokens(text: str) -> None:
    for tokenizer in (TOKENIZER, SYLLABLES):
        tokens = tokenizer.tokenize(Message({TEXT: text}), TEXT)
        for token in tokens:
            assert text[token.start : token.end] == token.text
            assert token.lemma == token.lemma.lower()
        if text.strip():
            assert tokens


@pytest.mark.parametrize("text", HARD_CASES, ids=range(len(HARD_CASES)))
def test_tokenizer_places_every_token_in_the_text(text: str) -> None:
    check_tokens(text)


@pytest.mark.parametrize("text", HARD_CASES, ids=range(len(HARD_CASES)))
def test_normalised_text_tokenizes(text: str) -> None:
    message = Message({TEXT: text})
    NORMALIZER.process([message])
    check_tokens(message.get(TEXT))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_tokenizer_never_raises_on_any_unicode(text: str) -> None:
    check_tokens(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_normalizer_then_tokenizer_never_raise(text: str) -> None:
    message = Message({TEXT: text})
    NORMALIZER.process([message])
    check_tokens(message.get(TEXT))


def test_lemma_ignores_diacritics_and_case() -> None:
    with_marks = TOKENIZER.tokenize(Message({TEXT: "Đặc xá"}), TEXT)
    without = TOKENIZER.tokenize(Message({TEXT: "dac xa"}), TEXT)
    assert [t.lemma for t in with_marks] == ["dac_xa"]
    assert {t.lemma for t in without} <= {"dac_xa", "dac", "xa"}


def test_normalizer_keeps_the_original_words() -> None:
    message = Message({TEXT: "ck e dc xét đx ko"})
    NORMALIZER.process([message])
    assert message.get(TEXT) == "ck e được xét đặc xá không"
    assert message.get(ORIGINAL_TEXT) == "ck e dc xét đx ko"
    assert ORIGINAL_TEXT in message.as_dict(only_output_properties=True)


def test_normalizer_leaves_button_payloads_alone() -> None:
    message = Message({TEXT: "/ask_conditions"})
    NORMALIZER.process([message])
    assert message.get(TEXT) == "/ask_conditions"


def test_normalizer_cuts_long_messages_to_the_setting() -> None:
    message = Message({TEXT: "a " * 5_000})
    VietnameseNormalizer({"max_chars": 100}).process([message])
    assert len(message.get(TEXT)) <= 100
    assert len(message.get(ORIGINAL_TEXT)) == 10_000


def test_syllable_tokens_keep_the_word_lemma() -> None:
    tokens = SYLLABLES.tokenize(Message({TEXT: "thăm chồng ở trại giam"}), TEXT)
    assert [(t.text, t.lemma) for t in tokens][-2:] == [
        ("trại", "trai_giam"),
        ("giam", "trai_giam"),
    ]
