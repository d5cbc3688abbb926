"""The one router that decides every reply to a family's message, in this order:

1. safety first — money demanded to "lo" an amnesty, violence, a death or a dying prisoner;
2. a follow-up that only adds facts continues the previous question;
3. the answer to each question asked (up to five), with the case worked through;
4. a short, kind decline when the message is about something we do not handle;
5. only then "did you mean", when nothing in the message could be understood.

The answer action, the fallback and the eligibility form's validation all call :func:`route`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from actions.case_entries import (
    CASE_FACTS,
    explain_not_met,
    is_minor,
    measure_entry_for_case,
    not_yet_sentenced,
    tells_case,
    unpaid_money,
    with_case_words,
)
from knowledge.clock import vietnam_today
from knowledge.eligibility.case import Case
from knowledge.eligibility.case_dates import projected, round_named
from knowledge.eligibility.case_text import read_case, states_case
from knowledge.eligibility.evaluator import evaluate
from knowledge.eligibility.measures import CALCULATORS as MEASURES
from knowledge.eligibility.suspension import assess_suspension
from knowledge.eligibility.time_served import add_months
from knowledge.kb.choose import SAVED_SCORE, Pick, choose, choose_all, published
from knowledge.kb.compose import CaseReading, Composed, amnesty_reading, compose, reading_of
from knowledge.kb.message_traits import about_someone, letter_to_staff, refers_back, self_harm
from knowledge.kb.question_limit import within
from knowledge.kb.reading import OWN_MEASURE, Question, Reading, read, sentences, urgent_kind
from knowledge.kb.rounds import calendar as round_calendar
from knowledge.kb.rounds import now_line, resolve, round_of_reading, rules_for
from knowledge.kb.topics import INTENT_LABELS
from knowledge.models import Entry
from settings import Settings
from vietnamese.text import fold

# What to do now, the first answer to an urgent message (cues.yml `urgent` kinds): one entry
# per kind of alarm; of several, the one the message fits best.
SAFETY_ENTRIES = {
    "scam": ("fees_asked_for_money",),
    "harm": (
        "custody_harm_beaten_injured",
        "custody_harm_illness_untreated",
        "custody_harm_self_harm",  # only when the message speaks of it
    ),
    "death": ("custody_harm_death_first_steps",),
    "dying": ("suspension_dying_prisoner",),
}
SELF_HARM_ENTRY = "custody_harm_self_harm"
# ...and for someone alive, nothing written for after a death.
AFTER_A_DEATH = frozenset({"custody_harm_death_first_steps", "custody_harm_death_notice_body"})
# First steps for an alarm the message raises: without one ("khiếu nại việc cán bộ quát nạt"),
# not the answer.
ALARM_ONLY = frozenset(
    {"custody_harm_beaten_injured", "custody_harm_death_first_steps", "custody_harm_self_harm"}
)
# Measures the safety entry already answers (other questions of the message still get answers).
SAFETY_QUESTIONS = 3  # after what to do now, the reply answers this many questions
SAFETY_MEASURES = {
    "scam": {"scams"},
    "harm": {"custody_harm"},
    "death": {"custody_harm"},
    "dying": {"suspension", "postponement"},
}
CALCULATORS = {**MEASURES, "suspension": assess_suspension}
# Suspension on a ground other than illness (a small child, the only breadwinner): the entry on
# that ground answers; the illness calculator does not apply.
OTHER_GROUNDS = frozenset({"pregnant_or_young_child", "sole_breadwinner"})
COMPLAINT_MEASURES = frozenset({"complaints", "custody_harm"})
# Beside a story of pre-trial detention, the rules for prisoners (visits, money) do not compete.
NOT_BESIDE = {"prison_life": "detention"}
# Below this intent confidence, with no measure named anywhere, the message was not understood.
UNDERSTOOD = 0.45
# A message with no word of ours whose best entry matches this little is not about our matters
# ("tư vấn giúp em điện thoại dưới 5 triệu"), whatever intent the model guessed.
WEAK_MATCH = 20.0
OUR_WORDS = re.compile(
    r"\b(xet|dac xa|an xa|giam an|trai giam|pham nhan|ho so|thu tuc|an phi|boi thuong|toa an"
    r"|khieu nai|tham gap|an tich|ly lich|thi hanh an|tam giam|chap hanh|ra tu|di tu|o tu)\b"
)
# A follow-up that adds facts is short and asks nothing.
FOLLOW_UP_CHARS = 200
OUT_OF_SCOPE = (
    "Câu hỏi này nằm ngoài phạm vi của tôi: tôi trả lời về đặc xá, thi hành án phạt tù và những "
    "việc gần với đặc xá (giảm án, tha tù trước thời hạn, hoãn, tạm đình chỉ, xóa án tích, thăm "
    "gặp). Với việc khác, bạn vui lòng hỏi Ủy ban nhân dân hoặc Công an cấp xã nơi cư trú, hoặc "
    "liên hệ {department} qua {contact}."
)
ANYTHING_ELSE = (
    "Bạn muốn hỏi thêm điều gì? Ví dụ: điều kiện đặc xá, giảm án, xóa án tích, thăm gặp, hoặc "
    "cách gửi ý kiến."
)
DID_YOU_MEAN = "Xin lỗi, tôi chưa chắc hiểu đúng. Có phải bạn muốn hỏi về:"
THANKS = (
    "Cảm ơn bạn đã chia sẻ những dòng này. Tôi là trợ lý tự động, không tự chuyển thư được; nếu "
    "bạn muốn những lời này đến được cán bộ phụ trách ({department}), hãy bấm “Gửi ý kiến cho cán "
    "bộ” bên dưới để ghi lại. "
    "Khi cần hỏi về thăm gặp, gửi thư, giảm án hay đặc xá cho người thân, bạn cứ nhắn câu hỏi."
)


@dataclass
class Routed:
    """What the action sends, and what it remembers for the next turn."""

    kind: str  # safety | answer | decline | did_you_mean | anything_else | thanks
    messages: list[str]
    entries: list[str] = field(default_factory=list)
    offer_check: bool = False
    offer_feedback: bool = False
    urgent: str | None = None
    question: str | None = None  # the question answered, for a follow-up that adds facts
    did_you_mean: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


def today_of(settings: Settings) -> dt.date:
    return settings.today or vietnam_today()


def case_of(text: str, today: dt.date) -> tuple[Case, dict[str, Any]]:
    facts = read_case(text)
    known = {k: v for k, v in facts.items() if v != "unknown" and k in Case.__dataclass_fields__}
    if "released_months_ago" in known and "finished_on" not in known:
        known["finished_on"] = add_months(today, -int(known["released_months_ago"]))
    if "detention_years_ago" in known and "detention_year" not in known:
        known["detention_year"] = today.year - int(known["detention_years_ago"])
    went_in = known.get("went_in_years_ago")
    sentence = known.get("sentence_months") or known.get("served_months")
    if went_in and sentence and not any(k.startswith(("finished", "released")) for k in known):
        # Sent to prison N years ago with a sentence of S: served in full by then at the latest.
        known["finished_year"] = today.year - int(went_in) + -(-int(sentence) // 12)
        known["finished_at_latest"] = True
    if "finished_year" in known and "finished_month" in known and "finished_on" not in known:
        last = add_months(dt.date(known["finished_year"], known["finished_month"], 1), 1)
        known["finished_on"] = last - dt.timedelta(days=1)
    try:
        return Case(**known), facts
    except (TypeError, ValueError):
        return Case(), facts


def _is_follow_up(text: str, facts: dict[str, Any], previous: str | None) -> bool:
    if not previous or len(text) > FOLLOW_UP_CHARS:
        return False
    asks = any(s.asks for s in sentences(text))
    return not asks and bool(facts)


def _case_readings(
    reading: Reading,
    case: Case,
    facts: dict[str, Any],
    text: str,
    session: Session,
    today: dt.date,
) -> dict[str, CaseReading]:
    readings: dict[str, CaseReading] = {}
    if not tells_case(facts) and not {"age_now", "age_at_offence", "illness"} & set(facts):
        return readings
    told = {k for k in facts if k in CASE_FACTS}
    if told == {"sentence_kind"} and not about_someone(text):
        return readings  # "những người đang được tạm đình chỉ ... có được không": the rule
    measures = dict.fromkeys(q.measure for q in reading.questions)
    today = projected(text, today) or today  # "tính đến 30/4/2027 thì ở được bao lâu"
    groups = set(case.priority or ())
    other_ground = bool(OTHER_GROUNDS & groups) and "serious_illness" not in groups
    for measure in measures:
        if measure == "suspension" and other_ground:
            continue  # the illness check is not the question for a mother or a breadwinner
        if measure in CALCULATORS and (tells_case(facts) or measure == "suspension"):
            readings[measure] = reading_of(CALCULATORS[measure](case, today))
        elif measure == "amnesty" or (measure == "complaints" and tells_case(facts)):
            # a complaint about the list, with the case told: what the case reads as, first
            rounds = round_calendar(session)
            asked = [q.text for q in reading.questions if q.measure == "amnesty"]
            named = round_of_reading(asked, text, rounds, today)
            verdict = evaluate(case, rules_for(rounds, named), as_of=today)
            readings["amnesty"] = amnesty_reading(
                verdict, _facts_said(case), verdict.missing_labels
            )
    return readings


def _facts_said(case: Case) -> list[str]:
    said = []
    if case.sentence_kind == "life_commuted":
        said.append("án chung thân đã được giảm")
    elif case.sentence_months:
        said.append(f"án {case.sentence_months} tháng tù")
    if case.served_months is not None:
        said.append(f"đã chấp hành {case.served_months} tháng")
    if case.detention_start:
        said.append(f"bị bắt ngày {case.detention_start:%d/%m/%Y}")
    if case.age_now:
        said.append(f"{case.age_now} tuổi")
    return said


def _entries_by_key(entries: list[Entry], keys: tuple[str, ...]) -> list[Entry]:
    found = {e.key: e for e in entries}
    return [found[k] for k in keys if k in found]


def route(
    text: str,
    *,
    intent: str | None,
    confidence: float | None,
    session: Session,
    settings: Settings,
    previous: str | None = None,
) -> Routed:
    """The reply to ``text`` (the family's words as sent)."""
    today = today_of(settings)
    facts_now = read_case(text)
    question_text = text
    if _is_follow_up(text, facts_now, previous):
        question_text = f"{previous}\n{text}"  # the earlier question with the new facts
    reading = read(question_text, intent)
    entries = published(session)
    case, facts = case_of(question_text, today)
    minors = is_minor(case, facts, question_text)
    if reading.urgent:
        return _safety(reading, entries, case, facts, question_text, session, settings, today)
    if letter_to_staff(text):  # thanks, or a letter to the camp: feedback to pass on
        thanks = THANKS.format(department=settings.department)
        return Routed("thanks", [thanks], offer_feedback=True, question=text)
    entries = [e for e in entries if e.key not in ALARM_ONLY]
    understood = (
        any(q.confident for q in reading.questions)
        or tells_case(facts)
        or "age_at_offence" in facts  # "phạm tội lúc 16 tuổi": someone's case
        or max(reading.scores.values(), default=0) >= OWN_MEASURE
    )
    unsure = intent in (None, "nlu_fallback") or (confidence or 0) < UNDERSTOOD
    if not understood and (unsure or refers_back(text)):
        return Routed("did_you_mean", [DID_YOU_MEAN], did_you_mean=_candidates(reading, intent))
    if not understood and intent in ("affirm", "deny"):
        return Routed("anything_else", [ANYTHING_ELSE])
    questions = [
        with_case_words(q, case, question_text)
        for q in _with_years(reading, session, today, question_text)
    ]
    story = [m for m, score in reading.scores.items() if score >= OWN_MEASURE]
    story = [m for m in story if NOT_BESIDE.get(m) not in story]
    picks = choose_all(
        entries,
        questions,
        intent=intent,
        minors=minors,
        context=question_text,
        story_measures=story,
    )
    saved = any(p.score >= SAVED_SCORE for p in picks)  # staff filed it under an entry
    weak = not saved and max((p.match for p in picks), default=0) < WEAK_MATCH
    if not understood and weak and not OUR_WORDS.search(fold(text)):
        return _decline([], settings)  # nothing of ours said, no entry near it: not ours
    in_scope = [p for p in picks if p.entry.measure != "out_of_scope"]
    if not in_scope:
        return _decline(
            picks, settings, outside=reading.scores.get("out_of_scope", 0) >= OWN_MEASURE
        )
    # A question about another matter in the same message gets its pointer, not silence.
    answered = [p for p in picks if p in in_scope or _points_elsewhere(p)]
    answered = not_yet_sentenced(answered, entries, question_text, facts)
    answered = unpaid_money(answered, entries, facts)
    return _answer(answered, entries, reading, case, facts, question_text, session, settings, today)


def topic_overview(intent: str, *, session: Session, settings: Settings) -> Routed | None:
    """A menu button: the topic's first entry (staff order the entries of a topic), or None
    when the topic has none."""
    first = next((e for e in published(session) if e.topic == intent), None)
    if first is None:
        return None
    question = Question(INTENT_LABELS.get(intent, first.title), first.measure, first.facet, True)
    composed = compose(
        [Pick(question, first, 0.0)], department=settings.department, contact=settings.contact
    )
    return _routed("answer", composed, [Pick(question, first, 0.0)], question.text, {})


def _with_years(
    reading: Reading, session: Session, today: dt.date, text: str = ""
) -> list[Question]:
    """Amnesty questions with the year their own time words mean ("năm ngoái" → 2025), so the
    entry of that round ranks first (a date in the story, "bị bắt từ 8/2024", is not a round);
    "đợt đó" means the round the story names."""
    rounds = round_calendar(session)
    story_round = round_named(text, None)
    questions = []
    for q in reading.questions:
        answer = resolve(q.text, rounds, today) if q.measure == "amnesty" else None
        years = " ".join(sorted({r[:4] for r in answer.rounds})) if answer else ""
        that_round = q.facet != "timing" and THAT_ROUND.search(fold(q.text))
        if not years and q.measure == "amnesty" and story_round and that_round:
            years = ROUND_WORDS.get(story_round, story_round)
        questions.append(replace(q, text=f"{q.text} năm {years}") if years else q)
    return questions


# "Đợt đó cả nước có bao nhiêu người": the round the story named before.
THAT_ROUND = re.compile(r"\bdot (do|ay|kia)\b")
ROUND_WORDS = {"2025-1": "2025 dịp 30/4", "2025-2": "2025 dịp 2/9"}


def _answer(
    picks: list[Pick],
    entries: list[Entry],
    reading: Reading,
    case: Case,
    facts: dict[str, Any],
    text: str,
    session: Session,
    settings: Settings,
    today: dt.date,
) -> Routed:
    cases = _case_readings(reading, case, facts, text, session, today)
    if "amnesty" in cases:
        picks = explain_not_met(picks, cases["amnesty"].failed, case, entries)
    for measure, reading_ in cases.items():
        picks = measure_entry_for_case(picks, measure, reading_.failed, entries, reading_.met)
    rounds = round_calendar(session)
    amnesty = any(p.entry.measure == "amnesty" for p in picks)
    asked = "\n".join(q.text for q in reading.questions)
    time_answer = resolve(asked, rounds, today) if amnesty else None
    ruled_out = "amnesty" in cases and bool(cases["amnesty"].failed)  # no round note then
    composed = compose(
        picks,
        department=settings.department,
        contact=settings.contact,
        cases=cases,
        time_answer=time_answer,
        now=now_line(rounds, today) if amnesty and not ruled_out else None,
    )
    return _routed("answer", composed, picks, text, cases)


def _routed(
    kind: str,
    composed: Composed,
    picks: list[Pick],
    text: str,
    cases: dict[str, CaseReading],
    urgent: str | None = None,
) -> Routed:
    figures = {m: list(c.lines) for m, c in cases.items()}
    complaint = any(p.entry.measure in COMPLAINT_MEASURES for p in picks)
    return Routed(
        kind,
        composed.messages,
        composed.entries,
        offer_check=composed.offer_check or (complaint and states_case(text)),
        offer_feedback=urgent is not None
        or any(p.entry.measure in COMPLAINT_MEASURES for p in picks),
        urgent=urgent,
        question=text,
        figures=figures,
    )


def _safety(
    reading: Reading,
    entries: list[Entry],
    case: Case,
    facts: dict[str, Any],
    text: str,
    session: Session,
    settings: Settings,
    today: dt.date,
) -> Routed:
    kind = reading.urgent or "harm"
    safety = _first_step(entries, kind, text)
    # Questions about the alarm itself ("khiếu nại ở đâu", "có phải nộp tiền không") get the
    # entry of that measure that answers them; the other questions of the message get theirs,
    # but not a sentence that is itself the alarm ("có người đòi 50 triệu để chạy đặc xá").
    about = [
        q
        for q in reading.questions
        if q.measure in SAFETY_MEASURES[kind]
        and (urgent_kind(q.text) is None or any(s.asks for s in sentences(q.text)))
    ]
    others = [
        q
        for q in reading.questions
        if q.measure not in SAFETY_MEASURES[kind]
        and (q.confident or reading.scores.get(q.measure, 0) >= OWN_MEASURE)
        and urgent_kind(q.text) is None
    ]
    # The other alarms' first steps are not answers to its questions, nor, after a death, the
    # steps written for a living person (self-harm, an untreated illness), nor the reverse.
    living = set(SAFETY_ENTRIES["harm"]) if kind == "death" else AFTER_A_DEATH
    pool = [e for e in entries if e.key not in ALARM_ONLY | living]
    pool = [e for e in pool if e not in safety]  # its questions get the entries that answer them
    # (one place is kept for a question of another matter: the first steps answer the alarm)
    about = within(about, SAFETY_QUESTIONS - bool(others))
    picks = choose_all(pool, within([*about, *others], SAFETY_QUESTIONS))
    cases = _case_readings(reading, case, facts, text, session, today) if others else {}
    composed = compose(
        picks, department=settings.department, contact=settings.contact, cases=cases, safety=safety
    )
    return _routed("safety", composed, picks, text, cases, urgent=kind)


def _first_step(entries: list[Entry], kind: str, text: str) -> list[Entry]:
    """The entry that says what to do now: of the kind's entries, the one the message fits
    (none when staff have unpublished them)."""
    own = _entries_by_key(entries, SAFETY_ENTRIES[kind])
    if kind == "harm":  # the self-harm steps only when the message speaks of it
        own = [e for e in own if (e.key == SELF_HARM_ENTRY) == self_harm(text)] or own
    if len(own) < 2:
        return own
    pick = choose(own, Question(text, own[0].measure, "procedure", True))
    return [pick.entry if pick else own[0]]


# A decline names who handles the matter only when the words match one of our pointers.
POINTER_MATCH = 8.0


def _points_elsewhere(pick: Pick) -> bool:
    return pick.question.confident and pick.match >= POINTER_MATCH


def _decline(picks: list[Pick], settings: Settings, *, outside: bool = False) -> Routed:
    """The pointer to who handles it, when the question (or the whole story: "sổ đỏ … khởi
    kiện") is about one of the matters we point elsewhere; otherwise the general decline."""
    sure = picks and (picks[0].question.confident or outside)
    if sure and picks[0].match >= POINTER_MATCH:
        composed = compose(picks[:1], department=settings.department, contact=settings.contact)
        return Routed("decline", composed.messages, composed.entries)
    return Routed(
        "decline",
        [
            OUT_OF_SCOPE.replace("{department}", settings.department).replace(
                "{contact}", settings.contact
            )
        ],
    )


def _candidates(reading: Reading, intent: str | None) -> list[str]:
    """Up to two topics for the "did you mean" buttons."""
    from knowledge.kb.reading import INTENT_MEASURE

    by_measure = {m: i for i, m in INTENT_MEASURE.items()}
    ranked = sorted(reading.scores.items(), key=lambda kv: -kv[1])
    intents = [by_measure[m] for m, _ in ranked if m in by_measure]
    if intent in INTENT_LABELS and intent not in intents:
        intents.insert(0, intent)
    return [i for i in dict.fromkeys(intents) if i in INTENT_LABELS and i != "out_of_scope"][:2]


def interrupts(text: str) -> bool:
    """A message that is not an answer to the form's question: something urgent, or a question
    about another measure ("thế còn giảm án thì sao?")."""
    if not text or text.startswith("/"):
        return False
    if urgent_kind(text):
        return True
    asks = any(s.asks for s in sentences(text))
    return asks and any(q.confident and q.measure != "amnesty" for q in read(text).questions)
