"""Build-time preparation of the training data."""

from __future__ import annotations

from pathlib import Path

import pytest

from vietnamese.text import normalize
from vietnamese.training_data import TrainingDataError, build, prepare


def test_entities_are_found_again_after_normalising() -> None:
    example = prepare("ask_conditions", "[ck](relation) e bị [6 năm](sentence_length), dc xét ko")
    assert example.text == normalize("ck e bị 6 năm, dc xét ko")
    spans = [(example.text[s:e], name) for s, e, name in example.entities]
    assert spans == [("ck", "relation"), ("6 năm", "sentence_length")]
    assert example.annotated() == "[ck](relation) e bị [6 năm](sentence_length) , được xét không"


def test_copies_without_diacritics_are_generated(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: ask_conditions\n    examples: |\n'
        "      - [Chồng](relation) em được đặc xá không\n",
        encoding="utf-8",
    )
    texts = [e.annotated() for e in build(tmp_path)]
    assert texts == [
        "[Chồng](relation) em được đặc xá không",
        "[Chong](relation) em duoc dac xa khong",
    ]


def test_the_same_text_under_two_intents_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - chào ad\n'
        "  - intent: goodbye\n    examples: |\n      - chao ad\n",
        encoding="utf-8",
    )
    with pytest.raises(TrainingDataError, match="same text"):
        build(tmp_path)


def test_project_training_data_builds_and_is_normalised() -> None:
    examples = build(Path(__file__).resolve().parents[2] / "nlu_data")
    assert len({e.intent for e in examples}) == 20
    assert all(normalize(e.text) == e.text for e in examples)
