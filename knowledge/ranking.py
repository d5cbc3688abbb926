"""Lexical ranking of entries within a topic (BM25 over folded text).

Each example question (and the title) is a document; an entry scores as its best
document, so a new entry is found as soon as its example questions are saved.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

from rank_bm25 import BM25Okapi

from vietnamese.text import fold, normalize

_WORD_RE = re.compile(r"\w+")
# Words so common in families' questions that they say nothing about which entry fits.
STOPWORDS = frozenset(
    [
        "a",
        "ad",
        "ah",
        "ak",
        "anh",
        "em",
        "chi",
        "toi",
        "minh",
        "ban",
        "thi",
        "la",
        "co",
        "khong",
        "ko",
        "duoc",
        "cua",
        "va",
        "cho",
        "voi",
        "nhe",
        "nhung",
        "gi",
        "the",
        "nao",
        "vay",
        "sao",
        "roi",
        "oi",
        "da",
        "dang",
        "se",
        "bi",
        "o",
        "ma",
        "nay",
        "do",
        "cac",
        "mot",
        "nhu",
        "khi",
        "hoi",
        "xin",
        "cam",
        "on",
        "giup",
        "dac",
        "xa",
    ]
)


class Rankable(Protocol):
    key: str
    title: str
    questions: list[str]


def terms(text: str) -> list[str]:
    """Folded syllables and syllable pairs of ``text``, without stop words."""
    words = _WORD_RE.findall(fold(normalize(text)))
    grams = [w for w in words if w not in STOPWORDS]
    grams += [f"{a}_{b}" for a, b in pairwise(words) if not (a in STOPWORDS and b in STOPWORDS)]
    return grams


@dataclass(frozen=True)
class Scored:
    entry: Rankable
    score: float


def rank(entries: Sequence[Rankable], query: str) -> list[Scored]:
    """Entries ordered by how well their example questions match ``query`` (best first).

    Ties keep the given order, so the first entry of a topic is the default.
    """
    docs: list[list[str]] = []
    owners: list[int] = []
    for i, entry in enumerate(entries):
        for text in [entry.title, *entry.questions]:
            docs.append(terms(text) or ["_"])
            owners.append(i)
    if not docs:
        return []
    query_terms = terms(query)
    best = [0.0] * len(entries)
    if query_terms:
        for owner, score in zip(owners, BM25Okapi(docs).get_scores(query_terms), strict=True):
            best[owner] = max(best[owner], float(score))
    order = sorted(range(len(entries)), key=lambda i: (-best[i], i))
    return [Scored(entries[i], best[i]) for i in order]
