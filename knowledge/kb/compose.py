"""Composing the reply to one message: the direct answer first, then each question answered from
its entry, the case worked through where one is told, the calendar where time matters, and the
sources — in a few messages a relative reads on a phone.

Pure functions of what was read and chosen; the caller fetches entries and the calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.eligibility.case import Check, Verdict
from knowledge.eligibility.measures import Assessment
from knowledge.kb.answers import (
    DISCLAIMER,
    IN_CAMP,
    MAX_MESSAGE_CHARS,
    UNVERIFIED,
    UNVERIFIED_OUTSIDE,
    citation_line,
    fill,
)
from knowledge.kb.choose import Pick
from knowledge.kb.rounds import TimeAnswer
from knowledge.models import Entry
from vietnamese.splitting import split_text
from vietnamese.text import fold

MARKS = {"met": "✔", "not_met": "✘", "unknown": "?"}
# A reply longer than this gives the later questions only their lead and first paragraph.
FULL_ANSWERS_CHARS = 1200
# Facets of amnesty entries after which the calendar's "where things stand now" is useful.
CALENDAR_FACETS = frozenset({"conditions", "timing", "procedure", "overview"})
SEVERAL = "Bạn hỏi {n} điều; tôi trả lời lần lượt."
CASE_HEAD = "Với trường hợp bạn kể ({facts}):"
CASE_TAIL_MISSING = "Để nói chắc hơn, còn cần biết: {missing}."


@dataclass(frozen=True)
class CaseReading:
    """The case worked through for one measure: lines to show, and the direct answer."""

    measure: str
    lead: str
    lines: tuple[str, ...]
    citations: tuple[str, ...]
    missing: tuple[str, ...] = ()
    offer_check: bool = False  # the step-by-step amnesty check would settle the rest
    failed: tuple[str, ...] = ()  # the conditions the case does not meet (check names)
    met: tuple[str, ...] = ()  # ... and those it meets


@dataclass
class Composed:
    messages: list[str]
    entries: list[str] = field(default_factory=list)
    offer_check: bool = False
    case_measures: list[str] = field(default_factory=list)


# --- Case readings ------------------------------------------------------------------------------


# A complaint about the amnesty list shows the amnesty reading of the case told.
READ_AS = {"complaints": "amnesty"}

LEADS = {
    "record_clearing": {
        "met": "Theo những gì bạn kể, người này đã đủ điều kiện để đương nhiên được xóa án tích, "
        "không phải làm đơn; muốn có giấy xác nhận thì xin Phiếu lý lịch tư pháp.",
        "not_met": "Theo những gì bạn kể, người này chưa được xóa án tích.",
        "unknown": "Theo những gì bạn kể, chưa thể nói chắc đã được xóa án tích hay chưa: còn tùy "
        "các điều kiện dưới đây.",
    },
    "reduction": {
        "met": "Về thời gian thì người thân đã đến mốc được xét giảm án lần đầu.",
        "not_met": "Người thân chưa đến mốc được xét giảm án lần đầu.",
        "unknown": "Chưa thể nói chắc người thân đã đến lúc được xét giảm án hay chưa.",
    },
    "suspension": {
        "met": "Có thể đề nghị tạm đình chỉ chấp hành án để về chữa bệnh: bệnh bạn kể có trong "
        "danh sách bệnh nặng. Hết bệnh thì người đó phải chấp hành tiếp phần án còn lại.",
        "not_met": "Theo những gì bạn kể, bệnh này chưa thuộc diện được tạm đình chỉ.",
        "unknown": "Có thể đề nghị tạm đình chỉ chấp hành án để về chữa bệnh nếu là bệnh nặng, "
        "có kết luận của bệnh viện cấp tỉnh trở lên. Hết bệnh thì phải chấp hành tiếp.",
    },
    "early_release": {
        "met": "Theo những gì bạn kể, người thân có thể được xem xét tha tù trước thời hạn có "
        "điều kiện.",
        "not_met": "Theo những gì bạn kể, người thân chưa (hoặc không) đủ điều kiện tha tù trước "
        "thời hạn có điều kiện.",
        "unknown": "Chưa thể nói chắc người thân có đủ điều kiện tha tù trước thời hạn có điều "
        "kiện: còn tùy các điều kiện dưới đây.",
    },
}


def _check_line(check: Check) -> str:
    return f"{MARKS[check.status]} {check.reason}"


def reading_of(assessment: Assessment) -> CaseReading:
    """An assessment of reduction, early release or record clearing, as a reply shows it."""
    lead = LEADS[assessment.measure][assessment.outcome]
    if assessment.measure == "record_clearing":
        period = next((c for c in assessment.checks if c.name == "period"), None)
        if period and period.status == "met" and assessment.outcome == "unknown":
            lead = (
                "Về thời hạn thì đã đủ; nếu các điều kiện còn lại dưới đây cũng đủ thì người này "
                "đã đương nhiên được xóa án tích (không phải làm đơn)."
            )
    lines = [CASE_HEAD.format(facts="; ".join(assessment.facts))] if assessment.facts else []
    lines += [_check_line(c) for c in assessment.checks]
    citations = tuple(dict.fromkeys(c.citation for c in assessment.checks))
    failed = tuple(c.name for c in assessment.checks if c.status == "not_met")
    met = tuple(c.name for c in assessment.checks if c.status == "met")
    return CaseReading(
        assessment.measure,
        lead,
        tuple(lines),
        citations,
        assessment.missing_labels,
        failed=failed,
        met=met,
    )


AMNESTY_LEADS = {
    "may_be_considered": "Theo những gì bạn kể, người thân có thể thuộc diện được xem xét đề nghị "
    "đặc xá khi có đợt đặc xá.",
    "does_not_meet": "Theo những gì bạn kể, người thân chưa đáp ứng điều kiện để được đề nghị "
    "đặc xá.",
    "cannot_tell": "Theo những gì bạn kể, chưa thể nói chắc người thân có được đề nghị đặc xá hay "
    "không.",
}


# Unknown for want of a fact the family may not know, but the reason says what it depends on.
TOLD_WHY = frozenset({"civil_decision"})


def amnesty_reading(
    verdict: Verdict, facts: Sequence[str], missing_labels: Sequence[str]
) -> CaseReading:
    """The amnesty check of the case told: the conditions it could settle, the rest to ask."""
    # What is settled, the time, and what stays open for a reason the family cannot fill in.
    shown = [
        c
        for c in verdict.checks
        if c.status != "unknown" or c.name == "time_served" or not set(c.missing) - TOLD_WHY
    ]
    lines = [CASE_HEAD.format(facts="; ".join(facts))] if facts else []
    lines += [f"{MARKS[c.status]} {c.label}: {c.reason}" for c in shown]
    lines += list(verdict.notes[:1])
    citations = tuple(dict.fromkeys(c.citation for c in shown))
    offer = verdict.outcome != "does_not_meet" and bool(verdict.missing)
    return CaseReading(
        "amnesty",
        AMNESTY_LEADS[verdict.outcome],
        tuple(lines),
        citations,
        tuple(missing_labels),
        offer,
        tuple(c.name for c in verdict.checks if c.status == "not_met"),
    )


# --- The reply ----------------------------------------------------------------------------------


def _first_paragraph(text: str) -> str:
    """The opening paragraph, without a last line that announces what was cut ("Ví dụ: …",
    "… như sau:"); empty when that is all it is (the entry's lead then stands alone)."""
    lines = text.strip().split("\n\n")[0].splitlines()
    while lines and (lines[-1].rstrip().endswith(":") or lines[-1].startswith("Ví dụ")):
        lines.pop()
    return "\n".join(lines)


def _section(
    pick: Pick,
    *,
    numbered: int | None,
    full: bool,
    case: CaseReading | None,
    time_answer: TimeAnswer | None,
    now: str | None,
) -> str:
    entry = pick.entry
    parts: list[str] = []
    if numbered is not None:
        parts.append(f"{numbered}) {entry.title}:")
    if case is not None:
        parts.append(case.lead)
        parts.append("\n".join(case.lines))
        if case.missing:
            parts.append(CASE_TAIL_MISSING.format(missing="; ".join(case.missing)))
    if time_answer is not None:
        parts.append(time_answer.text)
    if entry.lead:
        parts.append(entry.lead.strip())
    # The case worked through is the answer; of the general text, only its first paragraph.
    whole = full and case is None
    parts.append(entry.answer.strip() if whole else _first_paragraph(entry.answer))
    if now and time_answer is None:
        parts.append(now)
    return "\n\n".join(p for p in parts if p)


def says_no(entry: Entry) -> bool:
    """A lead that opens with "Không" answers no (amnesty does not apply): no round note then."""
    return fold(entry.lead.strip()[:6]).startswith("khong")


def _uses_calendar(entry: Entry) -> bool:
    return (
        entry.measure == "amnesty"
        and entry.round == "law"
        and entry.facet in CALENDAR_FACETS
        and not says_no(entry)
    )


def compose(
    picks: Sequence[Pick],
    *,
    department: str,
    contact: str,
    cases: dict[str, CaseReading] | None = None,
    time_answer: TimeAnswer | None = None,
    now: str | None = None,
    safety: Sequence[Entry] = (),
) -> Composed:
    """The messages of the reply: safety first, then one section per question."""
    cases = cases or {}
    sections: list[str] = []
    used: list[Entry] = []
    for entry in safety:
        sections.append("\n\n".join(p for p in (entry.lead.strip(), entry.answer.strip()) if p))
        used.append(entry)
    several = len(picks) > 1
    if several and not safety:
        sections.append(SEVERAL.format(n=len(picks)))
    total = 0
    shown_cases: list[str] = []
    calendar_said = time_said = False
    for i, pick in enumerate(picks):
        case = cases.get(READ_AS.get(pick.entry.measure, pick.entry.measure))
        case = case if case and case.measure not in shown_cases else None
        if case is not None:
            shown_cases.append(case.measure)
        with_time = time_answer if pick.entry.measure == "amnesty" and not time_said else None
        time_said = time_said or with_time is not None
        calendar = now if _uses_calendar(pick.entry) and not calendar_said else None
        calendar_said = calendar_said or calendar is not None
        section = _section(
            pick,
            numbered=i + 1 if several else None,
            full=i == 0 or total < FULL_ANSWERS_CHARS,
            case=case,
            time_answer=with_time,
            now=calendar,
        )
        total += len(section)
        sections.append(section)
        used.append(pick.entry)
    citations: list[dict[str, Any]] = [c for e in used for c in e.citations]
    extra = [c for case in cases.values() if case.measure in shown_cases for c in case.citations]
    tail = citation_line([*citations, *({"document": c} for c in extra)])
    if any(not e.verified for e in used) or time_answer is not None:
        camp = time_answer is not None or any(e.measure in IN_CAMP for e in used)
        tail = f"{UNVERIFIED if camp else UNVERIFIED_OUTSIDE}\n{tail}"
    if shown_cases:
        tail = f"{DISCLAIMER}\n{tail}"
    body = fill("\n\n".join(sections), department, contact)
    messages = split_text(body, MAX_MESSAGE_CHARS)
    tail = fill(tail, department, contact)
    if messages and len(messages[-1]) + len(tail) + 2 <= MAX_MESSAGE_CHARS:
        messages[-1] = f"{messages[-1]}\n\n{tail}"  # the sources close the last message
    else:
        messages.append(tail)
    offer = any(cases[m].offer_check for m in shown_cases)
    return Composed(
        [m.replace("\n\n", "\n") for m in messages],
        [e.key for e in used],
        offer,
        shown_cases,
    )


def today_line(today: dt.date) -> str:
    return f"{today.day:02d}/{today.month:02d}/{today.year}"
