"""Choosing, for each question of a message, the entry that answers it, over the whole knowledge
base: the entries of the question's measure, ranked by how well their example questions match
(BM25), what they answer (the facet), whether they are the rule for minors, and the intent as a
prior for the main question."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.kb.ranking import Scored, rank, terms
from knowledge.kb.reading import Question, folded, measures_named, special_case_said
from knowledge.models import Entry

# Where to look when a measure has no entry of its own for the question.
RELATED = {
    "special_reduction": ("reduction",),
    "suspension": ("postponement",),
    "postponement": ("suspension",),
    "exemption": ("postponement",),
    "scams": ("amnesty",),
    "custody_harm": ("complaints", "prison_life"),
    "detention": ("prison_life",),
    "prison_life": ("detention",),
    "civil_judgment": ("record_clearing",),
    "after_release": ("record_clearing", "amnesty"),
}
TEXT_WEIGHT = 2.0  # the best-matching example questions (scores scaled to 0..1 in the measure)
FACET_BONUS = 0.3  # the entry answers what the question asks
MINORS_BONUS = 1.5  # the rule for minors when the offender was a minor, and not otherwise
TOPIC_BONUS = 0.3  # the intent Rasa recognised, for the main question
CONTEXT_WEIGHT = 1.0  # the whole message (the story) against the example questions
SAVED_SCORE = 10.0  # above anything the ranking gives: the question is an example of the entry
COMPARED_BONUS = 1.5  # "X khác Y thế nào": the entry comparing X with the Y the question names
COMPARES = re.compile(r"\b(khac|phan biet|giong)\b")
PREFER_BONUS = 1.0  # the priority group the case puts the person in, when priority is asked
STORY_MEASURE_GAP = 0.9  # how far behind an entry of another measure of the story starts
NEXT_BEST = 0.75  # of the best score: how well a second-best entry must fit to be given
SHORT_QUESTION = 8  # words: a shorter question is read with the sentence before it
# "trường hợp này", "như vậy": the question is about what the sentence before it told.
POINTS_BACK = re.compile(
    r"\b(trường hợp|truong hop) (này|nay|trên|tren|đó|do)\b"
    r"|\b(như|nhu) (vậy|vay|thế|the|trên|tren)\b(?! (nào|nao|sao))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Pick:
    question: Question
    entry: Entry
    score: float  # everything considered
    match: float = 0.0  # how well the example questions match alone (BM25)


def published(session: Session) -> list[Entry]:
    stmt = select(Entry).where(Entry.status == "published").order_by(Entry.position, Entry.id)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Searchable:
    """An entry as the ranking sees it: its example questions, and its lead, which states the
    answer in the words a family's question often uses."""

    entry: Entry
    key: str
    title: str
    round: str
    questions: list[str]

    @classmethod
    def of(cls, entry: Entry) -> Searchable:
        lead = [entry.lead] if entry.lead else []
        return cls(entry, entry.key, entry.title, entry.round, [*entry.questions, *lead])


# A measure whose entries also answer questions about another ("có được giảm án không" from a
# gravely ill prisoner: the special reduction).
KIN_MEASURES = {"reduction": ("special_reduction",)}
# ... and what follows an amnesty ("được đặc xá về rồi có đi nước ngoài được không").
KIN_FACETS = {("amnesty", "effect"): ("after_release",)}


def candidates(entries: Sequence[Entry], measure: str, facet: str = "") -> list[Entry]:
    kin = (measure, *KIN_MEASURES.get(measure, ()), *KIN_FACETS.get((measure, facet), ()))
    own = [e for e in entries if e.measure in kin]
    if own:
        return own
    related = RELATED.get(measure, ())
    return [e for e in entries if e.measure in related]


def saved_as_example(entries: Sequence[Entry], text: str) -> Entry | None:
    """The entry one of whose example questions is ``text``: the same words once folded, without
    the words that say nothing and without numbers (staff save questions without them)."""
    wanted = _words(text)
    if len(wanted) < 3:
        return None
    for entry in entries:
        if any(_words(q) == wanted for q in entry.questions):
            return entry
    return None


YEAR = re.compile(r"(19|20)\d\d")


@lru_cache(maxsize=50_000)
def _words(text: str) -> tuple[str, ...]:
    """The words of a question in order ("ân giảm" is not "giảm án"), without its personal
    numbers (ages, lengths); a year stays: the question about 2022 is not the one about 2026."""
    return tuple(
        t
        for t in terms(text)
        if "_" not in t and (YEAR.fullmatch(t) or not any(c.isdigit() for c in t))
    )


def choose(
    entries: Sequence[Entry],
    question: Question,
    *,
    intent: str | None = None,
    minors: bool | None = None,
    context: str = "",
) -> Pick | None:
    """The entry that best answers ``question``, or None when its measure has none.

    A question staff have saved as an example of an entry goes to that entry, so their
    correction takes effect at once: within the question's measure, or from outside our scope
    (the questions the assistant could not answer, which staff file from the queue)."""
    ranked = choose_ranked(entries, question, intent=intent, minors=minors, context=context)
    return ranked[0] if ranked else None


def choose_ranked(
    entries: Sequence[Entry],
    question: Question,
    *,
    intent: str | None = None,
    minors: bool | None = None,
    context: str = "",
    story_measures: Sequence[str] = (),
) -> list[Pick]:
    """Every candidate entry for ``question``, best first (see :func:`choose`). Entries of the
    other measures the story is about compete too, a little behind: "bao giờ được xóa án tích"
    from someone on a suspended sentence is answered by the suspended sentence's entry."""
    own = candidates(entries, question.measure, question.facet)
    pool = own + [
        e
        for e in entries
        if (e.measure in story_measures or e.key in question.prefer) and e not in own
    ]
    same = saved_as_example(entries, question.text)
    if same is not None and (same in pool or question.measure == "out_of_scope"):
        return [Pick(question, same, SAVED_SCORE, SAVED_SCORE)]
    if not pool:
        return []
    short = len(question.text.split()) < SHORT_QUESTION or bool(POINTS_BACK.search(question.text))
    # (the question's own words counted twice: they say what is asked, the sentence before only
    # what it is about)
    query = f"{question.context} {question.text} {question.text}" if short else question.text
    searchable = [Searchable.of(e) for e in pool]
    ranked = [
        Scored(s.entry.entry, s.score)
        for s in rank(searchable, f"{query} {question.hints}".strip())
    ]
    top = max(s.score for s in ranked) or 1.0
    story = {s.entry.key: s.score for s in rank(searchable, context)} if context else {}
    story_top = max(story.values(), default=0.0) or 1.0

    compares = question.facet == "difference" and COMPARES.search(folded(question.text))
    named = measures_named(question.text) if compares else frozenset()

    def score(entry: Entry, text_score: float) -> float:
        value = (
            TEXT_WEIGHT * text_score / top + CONTEXT_WEIGHT * story.get(entry.key, 0) / story_top
        )
        value += FACET_BONUS * (entry.facet == question.facet)
        value += COMPARED_BONUS * (entry.measure in named and compared(entry.key) in named)
        value += PREFER_BONUS * (entry.key in question.prefer)
        if entry.minors:
            value += MINORS_BONUS if minors else -MINORS_BONUS
        if not special_case_said(entry.key, f"{context} {question.text}"):
            value -= MINORS_BONUS  # an entry for a case the message does not tell
        value += TOPIC_BONUS * (intent is not None and entry.topic == intent)
        return value - STORY_MEASURE_GAP * (entry not in own)

    picks = [Pick(question, s.entry, score(s.entry, s.score), s.score) for s in ranked]
    return sorted(picks, key=lambda p: (-p.score, pool.index(p.entry)))


def compared(key: str) -> str | None:
    """The measure an entry compares its own with ("early_release_vs_amnesty": amnesty)."""
    _, vs, other = key.partition("_vs_")
    return other if vs else ("amnesty" if key.endswith("_compare_with_amnesty") else None)


def choose_all(
    entries: Sequence[Entry],
    questions: Sequence[Question],
    *,
    intent: str | None = None,
    minors: bool | None = None,
    context: str = "",
    story_measures: Sequence[str] = (),
    taken: Sequence[str] = (),
) -> list[Pick]:
    """One pick per question (the intent helps the main one only), each entry once: a question
    whose best entry already answers an earlier one (or is ``taken`` already, like the safety
    entry) gets its next best, when that one fits nearly as well (two questions about one measure
    often ask two things of it)."""
    picks: list[Pick] = []
    for i, question in enumerate(questions):
        ranked = choose_ranked(
            entries,
            question,
            intent=intent if i == 0 else None,
            minors=minors,
            context=context,
            story_measures=story_measures,
        )
        if not ranked:
            continue
        used = {p.entry.key for p in picks} | set(taken)
        fresh = [p for p in ranked if p.entry.key not in used]
        if fresh and (fresh[0] is ranked[0] or fresh[0].score >= NEXT_BEST * ranked[0].score):
            picks.append(fresh[0])
    return picks
