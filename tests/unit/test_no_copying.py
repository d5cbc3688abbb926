"""Real families' questions (../shared/eval/real-dev.jsonl) are for measurement only: nothing we
write — training examples, held-out items, answers, example questions — may share a long run of
words with them. Skipped when the file is absent (it is not part of the repository)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from vietnamese.text import fold

ROOT = Path(__file__).resolve().parents[2]
REAL_DEV = ROOT.parent / "shared" / "eval" / "real-dev.jsonl"
# Words in a row that mean a sentence was copied. Legal terms alone make runs of up to 11 words
# common ("người đang được tạm đình chỉ chấp hành án phạt tù có được xét đặc xá").
RUN = 12


def shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", fold(text))
    return {tuple(words[i : i + RUN]) for i in range(len(words) - RUN + 1)}


def strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def our_texts() -> Iterator[tuple[str, str]]:
    folders = ("nlu_data", "tests/heldout", "tests/unit", "knowledge/kb/content", "tests/stories")
    for folder in (*folders, "data"):
        for path in sorted((ROOT / folder).glob("*.yml")):
            for text in strings(
                yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
            ):
                for line in text.splitlines():  # nlu examples are "- " lines of one block
                    yield str(path.relative_to(ROOT)), line.lstrip("- ")


@pytest.mark.skipif(not REAL_DEV.exists(), reason="../shared/eval/real-dev.jsonl is not here")
def test_nothing_we_wrote_shares_a_long_run_of_words_with_real_questions() -> None:
    real: set[tuple[str, ...]] = set()
    for line in REAL_DEV.read_text(encoding="utf-8").splitlines():
        if line.strip():
            real |= shingles(json.loads(line)["question"])
    copied = [f"{where}: {text[:80]}" for where, text in our_texts() if shingles(text) & real]
    assert not copied, "sentences sharing a run of words with real-dev: " + "; ".join(copied[:10])


def test_the_check_would_see_a_copy() -> None:
    sentence = "một hai ba bốn năm sáu bảy tám chín mười mười một mười hai"
    assert shingles(sentence) & shingles(f"ví dụ {sentence} nữa")
