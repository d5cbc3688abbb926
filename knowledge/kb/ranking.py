"""Lexical ranking of entries within a topic (BM25 over folded text).

Each example question (and the title) is a document; an entry scores as its best document
plus half its second best, so a new entry is found as soon as its example questions are saved.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

from rank_bm25 import BM25Okapi

from vietnamese.text import fold, normalize

_WORD_RE = re.compile(r"\w+")
# Words so common in families' questions that they say nothing about which entry fits.
# Not here: words whose folded form is also a content word ("tôi"/"tội", "bạn"/"bản",
# "thì"/"thi hành", "vậy"/"vay", "đang"/"đăng", "chị"/"chi phí").
STOPWORDS = frozenset(
    [
        "a",
        "ad",
        "ah",
        "ak",
        "anh",
        "em",
        "minh",
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
        "sao",
        "roi",
        "oi",
        "da",
        "se",
        "bi",
        "o",
        "nay",
        "cac",
        "mot",
        "nhu",
        "khi",
        "hoi",
        "xin",
        "on",
        "giup",
        "dac",
        "xa",
    ]
)


class Rankable(Protocol):
    """What ranking reads of an entry (read-only, so frozen dataclasses qualify)."""

    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def round(self) -> str: ...
    @property
    def questions(self) -> list[str]: ...


_YEAR_RE = re.compile(r"\b(20[2-9]\d)\b")
# How much an entry of the round the question names is preferred over the others.
ROUND_BONUS = 1.5
# The second-best example question adds to the best: an entry several of whose examples fit
# the question wins over one with a single example that shares its incidental words.
SECOND_WEIGHT = 0.5


def round_hint(query: str) -> str | None:
    """The year of a round a question names ("năm 2024"); time words such as "năm nay" are
    resolved on the calendar before ranking (knowledge/kb/rounds.py)."""
    year = _YEAR_RE.search(fold(query))
    return year.group(1) if year else None


@lru_cache(maxsize=50_000)
def terms(text: str) -> list[str]:
    """Folded syllables and syllable pairs of ``text``, without stop words (cached: the same
    example questions are ranked again for every message; callers must not change the list)."""
    words = _WORD_RE.findall(fold(normalize(text)))
    grams = [w for w in words if w not in STOPWORDS]
    grams += [f"{a}_{b}" for a, b in pairwise(words) if not (a in STOPWORDS and b in STOPWORDS)]
    return grams


@dataclass(frozen=True)
class Index:
    """BM25 (rank_bm25's Okapi weights: its idf, k1 and b) over postings, so a long query
    (a whole story) costs the documents its words occur in, not every document per word."""

    postings: dict[str, tuple[tuple[int, float], ...]]  # term → (document, its BM25 weight)
    owners: tuple[int, ...]  # each document's entry

    def scores(self, query: list[str]) -> list[float]:
        total = [0.0] * len(self.owners)
        for term in query:
            for doc, weight in self.postings.get(term, ()):
                total[doc] += weight
        return total


@lru_cache(maxsize=256)
def _index(texts: tuple[tuple[str, ...], ...]) -> Index:
    """The index of each entry's title and example questions (cached: the same pools are ranked
    for every message until staff edit an entry)."""
    docs = [terms(text) or ["_"] for entry in texts for text in entry]
    owners = tuple(i for i, entry in enumerate(texts) for _ in entry)
    bm25 = BM25Okapi(docs)
    postings: dict[str, list[tuple[int, float]]] = {}
    for doc, (freqs, length) in enumerate(zip(bm25.doc_freqs, bm25.doc_len, strict=True)):
        norm = bm25.k1 * (1 - bm25.b + bm25.b * length / bm25.avgdl)
        for term, tf in freqs.items():
            weight = (bm25.idf.get(term) or 0) * tf * (bm25.k1 + 1) / (tf + norm)
            postings.setdefault(term, []).append((doc, weight))
    return Index({t: tuple(p) for t, p in postings.items()}, owners)


@dataclass(frozen=True)
class Scored[R: Rankable]:
    entry: R
    score: float


def rank[R: Rankable](entries: Sequence[R], query: str) -> list[Scored[R]]:
    """Entries ordered by how well their example questions match ``query`` (best first).

    An entry of the round the question names gets a bonus. Ties keep the given order, so
    the first entry of a topic is the default.
    """
    texts = tuple(tuple([entry.title, *entry.questions]) for entry in entries)
    if not any(texts):
        return []
    index = _index(texts)
    query_terms = terms(query)
    best = [0.0] * len(entries)
    second = [0.0] * len(entries)
    if query_terms:
        for owner, score in zip(index.owners, index.scores(query_terms), strict=True):
            if score > best[owner]:
                best[owner], second[owner] = float(score), best[owner]
            elif score > second[owner]:
                second[owner] = float(score)
        best = [b + SECOND_WEIGHT * s for b, s in zip(best, second, strict=True)]
    hint = round_hint(query)
    if hint:
        best = [
            score * ROUND_BONUS if entries[i].round.split("-")[0] == hint else score
            for i, score in enumerate(best)
        ]
    order = sorted(range(len(entries)), key=lambda i: (-best[i], i))
    return [Scored(entries[i], best[i]) for i in order]
