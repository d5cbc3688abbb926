"""Entries the case told calls for, besides those its questions chose: the one on a condition
the case does not meet, in place of the general amnesty entry; and, for someone held before
trial who asks about amnesty, reduction or early release, the one that says these are for the
sentenced, first; and the one on paying fines and compensation when the message says they are
unpaid. Also the words the case adds to its questions (an age under 18, a prior conviction), so
the entry for that case ranks first."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from knowledge.eligibility.case import Case
from knowledge.kb.choose import Pick
from knowledge.kb.message_traits import about_someone
from knowledge.kb.reading import Question, held_before_trial
from knowledge.models import Entry
from vietnamese.text import fold

# The entry that explains a condition the case told does not meet, in place of the general one
# ("anh em có 2 tiền án, có được đặc xá không": the entry on prior convictions).
GENERAL_AMNESTY = frozenset({"conditions_case_question", "conditions_general"})
NOT_MET_ENTRY = {
    "prior_convictions": "exclusions_prior_convictions",
    "amnestied_before": "exclusions_prior_amnesty",
    "prosecuted_other": "exclusions_pending_proceedings",
    "under_protest": "exclusions_pending_proceedings",
    "excluded_crime": "exclusions_crimes",
    "fines": "conditions_civil_obligations",
    "civil": "conditions_civil_obligations",
    "rating": "conditions_behaviour_rating",
}
KIND_ENTRY = {
    "life": "conditions_life_sentence",
    "death": "conditions_death_sentence",
    "suspended": "conditions_suspended_sentence",
    "postponed": "conditions_postponement_special_case",
}
# Money the message says is unpaid, asked about amnesty: the condition that decides it, first.
MONEY_ENTRY = "conditions_civil_obligations"
# Someone held before trial asked about a measure for the sentenced: that is said first.
NOT_YET_SENTENCED = "conditions_not_yet_sentenced"
FOR_THE_SENTENCED = frozenset({"amnesty", "reduction", "special_reduction", "early_release"})
# ... also when the question, read in the detention story, got a detention entry.
COUNTS_FOR_THEM = frozenset({"detention_time_counts"})  # answers it: the time held counts
NAMES_THEM = re.compile(r"\b(dac xa|an xa|giam an|tha (tu )?truoc|ra (tu|trai) som)\b")


# For the other measures: their general entry, and the entry of the condition the case fails.
MEASURE_GENERAL = {"early_release": "other_conditional_release"}
MEASURE_NOT_MET = {"early_release": {"excluded_crime": "early_release_exclusions"}}


def measure_entry_for_case(
    picks: list[Pick],
    measure: str,
    failed: tuple[str, ...],
    entries: list[Entry],
    met: tuple[str, ...] = (),
) -> list[Pick]:
    """As :func:`explain_not_met`, for conditional early release: a crime it excludes is told
    with the entry on the exclusions, not the general one; a crime told that it does not exclude
    leaves the general entry (the conditions) to answer, unless the exclusions were asked."""
    wanted = next((MEASURE_NOT_MET.get(measure, {}).get(f) for f in failed), None)
    general_key = MEASURE_GENERAL.get(measure)
    general = next(
        (
            p
            for p in picks
            if p.entry.key == general_key
            or (wanted and p.entry.measure == measure and p.question.facet == "conditions")
        ),
        None,
    )
    entry = next((e for e in entries if e.key == wanted), None)
    if entry is not None and general is not None and all(p.entry.key != wanted for p in picks):
        return [replace(p, entry=entry) if p is general else p for p in picks]
    aside = {MEASURE_NOT_MET.get(measure, {}).get(m) for m in met} - {None}
    main = next((e for e in entries if e.key == general_key), None)
    if main is None or general is not None:
        return picks
    return [
        replace(p, entry=main)
        if p.entry.key in aside and not ASKS_EXCLUSIONS.search(fold(p.question.text))
        else p
        for p in picks
    ]


ASKS_EXCLUSIONS = re.compile(r"\b(loai tru|toi (gi|nao)|khong (duoc|dc) (xet )?tha)\b")


def explain_not_met(
    picks: list[Pick], failed: tuple[str, ...], case: Case, entries: list[Entry]
) -> list[Pick]:
    """The general amnesty entry gives way to the one on the condition the case does not meet
    (an entry the question chose for another condition stays: it may be what is asked)."""
    keys = [
        KIND_ENTRY.get(case.sentence_kind or "") if f == "sentence_kind" else NOT_MET_ENTRY.get(f)
        for f in failed
    ]
    wanted = next((k for k in keys if k and all(p.entry.key != k for p in picks)), None)
    # ... and so does a priority group's entry the case does not put the person in
    groups = {GROUP_ENTRY[g] for g in case.priority or () if g in GROUP_ENTRY}
    if case.age_now is not None and case.age_now >= 70:
        groups.add(GROUP_ENTRY["age_70"])
    # ... and when the kind of sentence rules amnesty out, whatever answers "can he" gives way
    kind_out = "sentence_kind" in failed and wanted == KIND_ENTRY.get(case.sentence_kind or "")
    general = next(
        (
            p
            for p in picks
            if p.entry.key in GENERAL_AMNESTY
            or (
                kind_out
                and p.entry.measure == "amnesty"
                and p.question.facet in ("conditions", "overview")
            )
            or (
                p.entry.key in GROUP_ENTRY.values()
                and p.entry.key not in groups
                and not ASKS_PRIORITY.search(fold(p.question.text))
            )
        ),
        None,
    )
    if wanted is None or general is None:
        return picks
    entry = next((e for e in entries if e.key == wanted), None)
    if entry is None:
        return picks
    return [replace(p, entry=entry) if p is general else p for p in picks]


def not_yet_sentenced(
    picks: list[Pick], entries: list[Entry], text: str, facts: dict[str, Any]
) -> list[Pick]:
    """Amnesty, reduction or early release asked for someone held before trial: first the
    entry that says these are for the sentenced, then the answers."""
    held = held_before_trial(text) and not facts.get("sentence_months")
    if not held or any(p.entry.key == NOT_YET_SENTENCED for p in picks):
        return picks
    entry = next((e for e in entries if e.key == NOT_YET_SENTENCED), None)
    named = [
        p
        for p in picks
        if p.entry.measure == "detention"
        and p.entry.key not in COUNTS_FOR_THEM
        and NAMES_THEM.search(fold(p.question.text))
    ]
    asked = named or [p for p in picks if p.entry.measure in FOR_THE_SENTENCED]
    if not asked or entry is None:
        return picks
    return [Pick(asked[0].question, entry, asked[0].score), *picks]


def unpaid_money(picks: list[Pick], entries: list[Entry], facts: dict[str, Any]) -> list[Pick]:
    """Amnesty asked about with a fine, court fee or compensation said to be unpaid ("chưa nộp
    xong án phí có được đặc xá không"): first the entry on paying them (or a court's waiver)."""
    unpaid = facts.get("fines_paid") is False or facts.get("civil") == "no"
    if not unpaid or any(p.entry.key == MONEY_ENTRY for p in picks):
        return picks
    amnesty = next((i for i, p in enumerate(picks) if p.entry.measure == "amnesty"), None)
    entry = next((e for e in entries if e.key == MONEY_ENTRY), None)
    if amnesty is None or entry is None:
        return picks
    asked = picks[amnesty]
    return [*picks[:amnesty], Pick(asked.question, entry, asked.score), *picks[amnesty:]]


# --- What the case told adds to the questions -------------------------------------------------

CASE_FACTS = (
    "sentence_months",
    "served_months",
    "detention_start",
    "detention_year",
    "finished_on",
    "finished_year",
    "released_months_ago",
    "sentence_kind",
)


def tells_case(facts: dict[str, Any]) -> bool:
    return any(k in facts for k in CASE_FACTS)


def is_minor(case: Case, facts: dict[str, Any], text: str = "") -> bool:
    """The offender was under 18: said so, or under 18 now in a message about a sentence or
    a prisoner (an age alone may be anyone's: a child's, the writer's)."""
    if case.age_at_offence is not None:
        return case.age_at_offence < 18
    # 14 is the youngest age of criminal responsibility: a younger age is someone else's.
    folded = fold(text)
    accused = ACCUSED.search(folded) and YOUNG_ONE.search(folded)
    held = tells_case(facts) or bool(IN_CUSTODY.search(folded) or accused)
    return case.age_now is not None and 14 <= case.age_now < 18 and held


# An offence or an arrest told: the age in the message is the accused's.
ACCUSED = re.compile(
    r"\b(pham toi|bi (bat|tam giu|tam giam|khoi to|truy to|dieu tra)|danh (nguoi|nhau|bi thuong)"
    r"|gay thuong tich|trom cap|an trom|cuop|mua ban (trai phep )?(chat )?ma tuy)\b"
)
YOUNG_ONE = re.compile(r"\b(con|chau|em trai|em gai|thang be|be)\b (\w+ ){0,3}\d{2} ?(tuoi|t)\b")
IN_CUSTODY = re.compile(
    r"\b(dang (o|trong) (trai|tu)|dang (chap hanh|thu|ngoi) (an|tu)|pham nhan|chua thanh nien)\b"
)


# Words the case adds to a question, so the entry for that group ranks first.
CASE_WORDS = {
    "age_70": "từ 70 tuổi",
    "serious_illness": "bệnh hiểm nghèo bệnh nặng",
    "pregnant_or_young_child": "có thai con nhỏ dưới 36 tháng",
    "revolution_merit": "người có công",
    "severe_disability": "khuyết tật",
    "minor": "người dưới 18 tuổi",
    "priors": "tiền án",
    "rating": "xếp loại trung bình kém",
}
# The entry on each priority group, first when the question asks about priority.
GROUP_ENTRY = {
    "age_70": "conditions_priority_age70",
    "serious_illness": "conditions_priority_illness",
    "pregnant_or_young_child": "conditions_priority_pregnant_child",
    "revolution_merit": "conditions_priority_revolution",
    "severe_disability": "conditions_priority_disability",
    "minor": "conditions_priority_under18",
    "sole_breadwinner": "conditions_priority_breadwinner",
    "great_merit": "conditions_priority_merit",
}
# Postponement or suspension asked, with the ground told: the entry on that ground.
GROUND_ENTRY = {
    "pregnant_or_young_child": "postponement_pregnancy_child",
    "sole_breadwinner": "postponement_breadwinner",
}
ASKS_PRIORITY = re.compile(r"\b(uu tien|dien (uu tien|dac biet)|truong hop dac biet)\b")
HAS_PRIORS = re.compile(
    r"(?<!chua )(?<!khong )(?<!ko )\b(da |tung )*(co|bi) (\d+ |mot |hai )?tien an\b"
)


# "có thuộc diện này không" after a sentence about a priority group asks about that group.
THIS_GROUP = re.compile(r"\b(dien|truong hop|nhom|doi tuong) (nay|do|tren)\b")


def _asks_priority(question: Question) -> bool:
    if ASKS_PRIORITY.search(fold(question.text)):
        return True
    return bool(
        THIS_GROUP.search(fold(question.text)) and ASKS_PRIORITY.search(fold(question.context))
    )


# Someone outside the family, or a name to look up on the list: the assistant neither confirms
# nor denies anything about a person, and says where the lists are posted.
NAMED_PERSON = "results_named_person"
THIRD_PARTY = re.compile(
    r"\b(hang xom|nguoi quen|nguoi (lang|trong xom|cung xa|cung thon)|dong nghiep|ca si"
    r"|nguoi noi tieng|(nguyen|cuu) (tong )?(giam doc|chu tich|pho chu tich|bo truong|bi thu))\b"
    r"|\b(tra|kiem tra|xem) (giup|dum|ho|duoc)\b( \w+){0,8} (ten|danh sach)\b"
)
GRANTED_ASKED = re.compile(
    r"\b(co|da)( phai)? (duoc|dc) (\w+ ){0,3}(dac xa|an xa|tha|ve)\b|\bco ten\b"
)


# What a question asks, when the case told decides the answer ("có được không", "bao lâu"); a
# question on money, papers or effects names its own subject ("bồi thường chưa trả hết thì sao").
CASE_FACETS = frozenset({"overview", "conditions", "timing", "documents"})


def with_case_words(question: Question, case: Case, text: str = "") -> Question:
    groups = set(case.priority or ())
    if case.prior_convictions or HAS_PRIORS.search(fold(text)):
        groups.add("priors")  # "em tôi đã có tiền án": the entry on prior convictions
    if case.age_now is not None and case.age_now >= 70:
        groups.add("age_70")
    if case.rating == "other":
        groups.add("rating")  # "quý này bị xếp loại trung bình": the entry on ratings
    if case.age_at_offence is not None and case.age_at_offence < 18:
        groups.add("minor")
    words = " ".join(CASE_WORDS[g] for g in sorted(groups) if g in CASE_WORDS)
    if words and question.facet in CASE_FACETS:
        question = replace(question, hints=f"{question.hints} {words}".strip())
    asks = question.measure == "amnesty" and question.facet in ("conditions", "overview")
    if asks and _asks_priority(question):
        prefer = tuple(GROUP_ENTRY[g] for g in sorted(groups) if g in GROUP_ENTRY)
        question = replace(question, prefer=prefer)
    asked = fold(question.text)
    if THIRD_PARTY.search(fold(text)) and GRANTED_ASKED.search(asked) and not about_someone(asked):
        hints = f"{question.hints} người quen hàng xóm một người cụ thể".strip()
        question = replace(question, prefer=(*question.prefer, NAMED_PERSON), hints=hints)
    ground = question.measure in ("postponement", "suspension") and question.facet in (
        "conditions",
        "overview",
    )
    if ground and groups & set(GROUND_ENTRY):
        prefer = tuple(GROUND_ENTRY[g] for g in sorted(groups) if g in GROUND_ENTRY)
        question = replace(question, prefer=prefer)
    return question
