"""The calendar of amnesty rounds as of a given day: which round (if any) is being considered now,
the last completed one and its results, and what a family's time words mean ("năm nay",
"năm ngoái", "đợt tới", "2/9 này", "dịp 30/4").

"Today" is always a parameter (the action server passes the configured clock), so tests pin
dates. The calendar comes from the database (``Round`` rows; staff keep it current), and the
rules of each round from the same rows, so the answers and the eligibility check agree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.eligibility.case_dates import round_named
from knowledge.eligibility.round_rules import (
    RoundRules,
    law_only,
    load_law,
    rules_of_round,
    with_references,
)
from knowledge.models import Round
from vietnamese.text import fold, normalize

UNVERIFIED = "chưa kiểm chứng"
NO_DATE = (
    "Đợt đặc xá chỉ có khi Chủ tịch nước quyết định, thường trước một dịp lễ lớn, và được công bố "
    "công khai trên báo chí, cổng thông tin của Chính phủ và tại các trại. Chưa có quyết định thì "
    'không ai biết trước ngày; người hứa trước ngày hay hứa "có tên" để lấy tiền là lừa đảo.'
)


@dataclass(frozen=True)
class RoundFacts:
    """One round of the calendar, as the answers use it."""

    id: str
    name: str
    occasion: str | None
    status: str  # considering | completed | unknown
    decision: str
    decision_date: dt.date | None
    cutoff_date: dt.date | None
    release_date: dt.date | None
    people: int | None
    results: str | None
    results_source: str | None
    note: str
    rules: dict[str, Any]
    sources: dict[str, Any]

    @property
    def year(self) -> int:
        return int(self.id[:4])

    @classmethod
    def of(cls, row: Round) -> RoundFacts:
        results = row.results or {}
        return cls(
            id=row.id,
            name=row.name,
            occasion=row.occasion,
            status=row.status,
            decision=row.decision,
            decision_date=row.decision_date,
            cutoff_date=row.cutoff_date,
            release_date=row.release_date,
            people=results.get("people"),
            results=results.get("value"),
            results_source=results.get("source"),
            note=row.note,
            rules=dict(row.rules or {}),
            sources=dict(row.sources or {}),
        )


def calendar(session: Session) -> list[RoundFacts]:
    """Every round, oldest first."""
    rows = session.scalars(select(Round).order_by(Round.position, Round.id))
    return [RoundFacts.of(r) for r in rows]


def rules_of(facts: RoundFacts) -> RoundRules:
    """The eligibility rules of a round, from the same calendar row the answers read."""
    calendar_facts = {"decision": {"value": facts.decision, **facts.sources.get("decision", {})}}
    cutoff = facts.cutoff_date.isoformat() if facts.cutoff_date else None
    calendar_facts["cutoff"] = {"value": cutoff, **facts.sources.get("cutoff", {})}
    return rules_of_round(facts.id, facts.name, calendar_facts, facts.rules)


def rules_for(rounds: Sequence[RoundFacts], round_id: str | None) -> RoundRules:
    """The rules of ``round_id`` (the law alone when no round is named or known), knowing the
    levels earlier rounds used, for reference."""
    ids = [r.id for r in rounds]
    if round_id in ids:
        position = ids.index(round_id)
        return with_references(rules_of(rounds[position]), [rules_of(r) for r in rounds[:position]])
    return with_references(law_only(load_law()), [rules_of(r) for r in rounds])


# --- Now -----------------------------------------------------------------------------------------


def considering(rounds: Sequence[RoundFacts], today: dt.date) -> RoundFacts | None:
    """The round being considered now: decided, not yet released, marked so by staff."""
    open_ = [
        r
        for r in rounds
        if r.status == "considering" and (r.release_date is None or r.release_date >= today)
    ]
    return open_[-1] if open_ else None


def last_completed(rounds: Sequence[RoundFacts], today: dt.date) -> RoundFacts | None:
    done = [r for r in rounds if r.status == "completed" and (r.release_date or today) <= today]
    return done[-1] if done else None


def latest(rounds: Sequence[RoundFacts]) -> RoundFacts | None:
    return rounds[-1] if rounds else None


def number(n: int) -> str:
    """22081 → "22.081", as Vietnamese writes numbers."""
    return f"{n:,}".replace(",", ".")


def day(value: dt.date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


_OUR_NOTES = re.compile(r"\s*\((?:corrections|kb-review|amnesty-facts|neighbour-facts)[^)]*\)")


def public_source(source: str | None) -> str:
    """A source as families read it: the outlets, without our reviewers' file references."""
    return _OUR_NOTES.sub("", source or "").strip(" ;")


def result_line(r: RoundFacts, *, brief: bool = False) -> str:
    """The round's result; ``brief`` without the breakdown by decision (a reply about the next
    round needs the figure, not its parts)."""
    if r.people is None:
        return f"{r.name}: số người được đặc xá {UNVERIFIED}."
    when = f", tha ngày {day(r.release_date)}" if r.release_date else ""
    detail = "" if brief else f"{r.results}; "
    return (
        f"{r.name}{when}: {number(r.people)} người ({detail}theo "
        f"{public_source(r.results_source)})."
    )


def now_line(rounds: Sequence[RoundFacts], today: dt.date) -> str:
    """Where the calendar stands today, in two or three sentences."""
    current = considering(rounds, today)
    if current is not None:
        return (
            f"Hiện nay ({day(today)}) đang xét {current.name} ({current.decision}). "
            + (
                f"Thời gian đã chấp hành tính đến {day(current.cutoff_date)}. "
                if current.cutoff_date
                else ""
            )
        ).strip()
    parts = [f"Đến nay ({day(today)}) chưa có thông tin công khai về đợt đặc xá nào đang được xét."]
    newest = latest(rounds)
    done = last_completed(rounds, today)
    if newest is not None and newest.status == "unknown":
        parts.append(
            f"Đợt gần nhất được biết là {newest.name} ({newest.decision}); nội dung, ngày tha và "
            f"kết quả của đợt này {UNVERIFIED}."
        )
    if done is not None:
        parts.append(f"Đợt đã hoàn tất gần nhất có số liệu: {result_line(done, brief=True)}")
    return " ".join(parts)


# --- Time words ----------------------------------------------------------------------------------

# "năm rồi" is last year, but "4 năm rồi" is four years already: no number before it.
_COUNT = (
    r"(?<!\d )(?<!mot )(?<!hai )(?<!ba )(?<!bon )(?<!nam )(?<!sau )(?<!bay )(?<!tam )(?<!chin )"
)
_LAST_YEAR = re.compile(rf"\b{_COUNT}(nam ngoai|nam truoc|nam roi|nam vua qua|nam qua)\b")
_THIS_YEAR = re.compile(r"\b(nam nay)\b")
_NEXT = re.compile(
    r"\b(dot toi|dot sau|lan toi|lan sau|sap toi|dot tiep theo|nam sau|nam toi|"
    r"bao gio (co|thi co|lai co) (dot )?(dac xa|an xa))\b"
)
_NOW = re.compile(r"\b(dot nay|hien nay|bay gio|dang xet|hien tai|lan nay)\b")
_YEAR = re.compile(r"\b(20[12]\d)\b")
_OCCASION = re.compile(
    r"\b(2 ?/ ?9|quoc khanh|30 ?/ ?4|giai phong mien nam)\b( (nay|nam nay|toi|sap toi))?"
)


@dataclass(frozen=True)
class TimeAnswer:
    text: str
    rounds: tuple[str, ...]  # the rounds the words refer to


def _rounds_of_year(rounds: Sequence[RoundFacts], year: int) -> list[RoundFacts]:
    return [r for r in rounds if r.year == year]


def _year_answer(rounds: Sequence[RoundFacts], year: int, label: str) -> TimeAnswer:
    found = _rounds_of_year(rounds, year)
    if not found:
        return TimeAnswer(
            f"{label.capitalize()} ({year}) không có đợt đặc xá nào trong dữ liệu của tôi.", ()
        )
    lines = [result_line(r) for r in found]
    known = [r.people for r in found if r.people is not None]
    total = (
        f" Tổng cộng {number(sum(known))} người."
        if len(found) > 1 and len(known) == len(found)
        else ""
    )
    head = (
        f"{label.capitalize()} ({year}) có {len(found)} đợt đặc xá:"
        if len(found) > 1
        else f"{label.capitalize()} ({year}):"
    )
    return TimeAnswer(f"{head} {' '.join(lines)}{total}", tuple(r.id for r in found))


def resolve(text: str, rounds: Sequence[RoundFacts], today: dt.date) -> TimeAnswer | None:
    """What the message's time words refer to, as a sentence the reply can lead with."""
    flat = fold(normalize(text))
    if _LAST_YEAR.search(flat):
        return _year_answer(rounds, today.year - 1, "năm ngoái")
    explicit = [int(y) for y in _YEAR.findall(flat)]
    if explicit and _rounds_of_year(rounds, explicit[-1]):
        return _year_answer(rounds, explicit[-1], f"năm {explicit[-1]}")
    occasion = _OCCASION.search(flat)
    if occasion and (occasion.group(3) or _THIS_YEAR.search(flat)):
        return _occasion_answer(occasion.group(1), rounds, today)
    if _NEXT.search(flat):
        return TimeAnswer(
            f"{now_line(rounds, today)} Chưa có thông tin về đợt tiếp theo. {NO_DATE}", ()
        )
    if _THIS_YEAR.search(flat):
        return _year_answer(rounds, today.year, "năm nay")
    if _NOW.search(flat):
        current = considering(rounds, today)
        return TimeAnswer(now_line(rounds, today), (current.id,) if current else ())
    return None


def _occasion_answer(words: str, rounds: Sequence[RoundFacts], today: dt.date) -> TimeAnswer:
    national = "30" not in words and "giai phong" not in words
    month, dom = (9, 2) if national else (4, 30)
    date = dt.date(today.year, month, dom)
    label = "Quốc khánh 2/9" if national else "dịp 30/4"
    if date < today:
        return TimeAnswer(
            f"{label[0].upper()}{label[1:]} năm {today.year} đã qua ({day(date)}). "
            f"{now_line(rounds, today)} {NO_DATE}",
            (),
        )
    return TimeAnswer(
        f"Chưa có thông tin công khai về đặc xá {label} năm {today.year}. {NO_DATE}", ()
    )


# "Sao đợt đó chồng em không được": the question looks back at the round the story told.
LOOKS_BACK = re.compile(
    r"\b(dot (do|ay|kia)|hoi do|luc do|khi do|vi sao|tai sao"
    r"|sao .{0,25}(khong|ko|chua) (duoc|dc))\b"
)


def round_of_reading(
    asked: Sequence[str], text: str, rounds: Sequence[RoundFacts], today: dt.date
) -> str | None:
    """The round whose rules read the case: the one an amnesty question names; else the one the
    message names, unless that round is over and no question looks back at it ("bố em đủ thời
    gian chưa" after a story about the 2024 round asks about now); else the round considered
    now (None: the law alone)."""
    now = considering(rounds, today)
    open_id = now.id if now else None
    for question in asked:
        if named := round_named(question, None):
            return named
    named = round_named(text, open_id)
    told = next((r for r in rounds if r.id == named), None)
    over = told is not None and told.status == "completed" and (told.release_date or today) <= today
    if over and not any(LOOKS_BACK.search(fold(q)) for q in asked):
        return open_id
    return named
