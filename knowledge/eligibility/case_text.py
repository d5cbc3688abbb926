"""Reading the facts of one case from what a family wrote.

"Chồng em bị 6 năm tù tội lừa đảo, đã ở 3 năm rưỡi, cải tạo tốt, án phí nộp rồi" gives the
sentence, the time served, the crime, the rating and the payments in ``Case`` terms. Only facts
the message states are returned; a fact it does not mention stays absent, so the form asks for
it. Cue words are read on folded text, so they work with or without diacritics."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction
from functools import lru_cache
from itertools import dropwhile
from typing import Any

from knowledge.eligibility.case_dates import detention_dates, suspended_on
from knowledge.eligibility.case_history import complied, read_history, share_served
from knowledge.eligibility.case_kind import sentence_kind
from knowledge.eligibility.case_words import (
    AMNESTIED,
    ASKING,
    ASKS,
    BREAKS,
    CIVIL_CUES,
    CIVIL_STATUS,
    DONT_KNOW,
    FINE_CUES,
    FINE_STATUS,
    IGNORED,
    KIN,
    MEN,
    NEG,
    NEVER_AMNESTIED,
    NO_PRIORITY,
    NOT_QUARTER,
    NUMBER_WORDS,
    OFTEN,
    POINT,
    PRIORITY_WORDS,
    RATING_CUES,
    RATINGS,
    REDUCED_BY,
    REMAINING,
    ROLE_AFTER,
    ROLE_BEFORE,
    SENTENCE,
    SERVED,
    STATUS_WINDOW,
    UNSURE,
    UNSURE_CUES,
    WEAK,
    WINDOW,
    CaseText,
    positions,
    prepare,
    since_again,
    since_release,
    starts_at,
    without_suppositions,
)
from knowledge.eligibility.durations import duration_spans
from knowledge.eligibility.evaluator import crime_codes
from knowledge.eligibility.round_rules import load_law

# --- Lengths: sentence, time served, time remaining --------------------------------------------


def _role(t: CaseText, start: int, end: int) -> str | None:
    """What a length at tokens ``start:end`` is, from the words around it; None if unsaid."""
    after = t.plain[end] if end < len(t.plain) else ""
    if t.plain[start] in ("1", "mot") and OFTEN.match(" ".join(t.plain[end : end + 8])):
        return IGNORED  # "một tháng được thăm mấy lần": how often
    if ROLE_AFTER.get(after) in (IGNORED, REMAINING):
        return ROLE_AFTER[after]
    if since_release(t.plain[max(0, start - WINDOW) : start]):
        return IGNORED  # "ra tù được gần 4 năm": the time since release
    k = start - 1
    while k >= 0 and start - k <= WINDOW and t.plain[k] not in BREAKS:
        if t.plain[k] == "giam" and t.raw[k] == "giảm":
            return IGNORED if k == start - 1 else SENTENCE
        if tuple(t.plain[k - 1 : k + 1]) in REDUCED_BY:  # "giảm án 6 tháng": not the sentence
            return IGNORED
        if t.plain[k] == "con" and t.raw[k] == "còn" and k == start - 1:
            return REMAINING
        for size in (2, 1):
            key = tuple(t.plain[k - size + 1 : k + 1])
            if len(key) == size and key in ROLE_BEFORE:
                return ROLE_BEFORE[key]
        k -= 1
    return ROLE_AFTER.get(after)


def length_roles(text: str) -> list[tuple[str | None, int]]:
    """Each length in ``text`` in months, with what the words around it say it is.

    The role is "sentence", "served", "remaining", or None when nothing says.
    """
    t = prepare(text)
    found = []
    for span in duration_spans(t.words):
        role = _role(t, span.start, span.end)
        if role != IGNORED:
            found.append((role, int(span.months + Fraction(1, 2))))
    return found


def detention_in(text: str) -> dict[str, Any]:
    """A date, month or year of detention given as an answer ("2/9/2021", "tháng 3/2020")."""
    return detention_dates(prepare(text), need_cue=False)


def _lengths(t: CaseText) -> dict[str, int]:
    sentence: Fraction | None = None
    served: Fraction | None = None
    remaining: Fraction | None = None
    unsaid: list[Fraction] = []
    for span in since_again(t.plain, duration_spans(t.words)):
        role = _role(t, span.start, span.end)
        if role == SENTENCE and sentence is None:
            sentence = span.months
        elif role == SERVED and served is None:
            served = span.months
        elif role == REMAINING and remaining is None:
            remaining = span.months
        elif role is None:
            unsaid.append(span.months)
    for months in unsaid:  # "bị 6 năm, 3 năm rưỡi rồi": first the sentence, then the time
        if sentence is None:
            sentence = months
        elif served is None and remaining is None:
            served = months
    if served is None and remaining is not None and sentence is not None:
        served = sentence - remaining
    served = None if served and sentence and served > sentence else served  # misread: ask
    found = {"sentence_months": sentence, "served_months": served}
    return {k: int(v + Fraction(1, 2)) for k, v in found.items() if v is not None and v > 0}


# --- Crime, rating, payments -------------------------------------------------------------------


def _clauses(t: CaseText) -> list[str]:
    return [c.strip() for c in re.split(r"[,|]| nhung ", t.joined) if c.strip()]


# "Trước đó năm 2019 cháu đã bị 2 năm tù tội cố ý gây thương tích": an earlier sentence's crime.
EARLIER = re.compile(r"\b(truoc do|truoc day|truoc kia|lan truoc|an cu|da tung|tien an)\b")


def _crime(t: CaseText) -> str | None:
    """The crimes the message names, as the law names them ("Trộm cắp tài sản (Điều 173)");
    a crime of an earlier sentence only when the message names no other."""
    law = load_law()
    codes: dict[str, None] = {}
    earlier: dict[str, None] = {}
    for clause in _clauses(t):
        named = dict.fromkeys(sorted(crime_codes(clause, law) or ()))
        sentence = next((s for s in t.joined.split("|") if clause in s), clause)
        if EARLIER.search(sentence):
            earlier |= named
        else:
            codes |= named
    codes = codes or earlier
    if codes:
        return "; ".join(f"{law.crimes.get(c, 'Tội')} (Điều {c} BLHS)" for c in codes)
    found = re.search(r"(?<!phạm )\btội (?:danh )?(?!gì|nào)([^,.;:!?\n]{3,60})", " ".join(t.raw))
    return found.group(1).strip() if found else None


def _rating(t: CaseText) -> str | None:
    w = t.plain
    for pattern, value in RATINGS.items():
        for k in positions(w, pattern):
            before = []
            j = k - 1
            while j >= 0 and k - j <= 4 and w[j] not in BREAKS:
                quarter = w[j] != "quy" or w[j + 1] not in NOT_QUARTER  # "các quý đều khá"
                before.append(w[j] if quarter else "")
                j -= 1
            after = w[k + 1 : next((i for i in range(k, len(w)) if w[i] in BREAKS), len(w))]
            if not RATING_CUES & set(before) or ASKING.search(" ".join(after)):
                continue  # "khi cải tạo tốt có được đặc xá không": asked, not told
            # "không tốt", "chưa được xếp loại tốt": the words between may only be these
            rest = list(dropwhile(lambda x: x in ("loai", "xep", "duoc", "dat"), before))
            negated = bool(rest) and rest[0] in NEG
            clause = w[next((i for i in range(k, -1, -1) if w[i] in BREAKS), -1) + 1 : k]
            if value != "other" or not NEG & set(clause):  # "không có quý nào bị xếp kém"
                return "other" if negated else value
    return None


def _status(
    t: CaseText, cues: Iterable[tuple[str, ...]], table: dict[tuple[str, ...], Any]
) -> list:
    """For each place a cue appears, the value of the nearest status words in its clause.

    A clause that says the family does not know gives ``UNSURE``; "chưa nộp xong" is "chưa".
    """
    w = t.plain
    values = []
    for cue in cues:
        for start in positions(w, cue):
            end = start + len(cue)
            lo = max([i + 1 for i in range(start) if w[i] in BREAKS] or [0])
            hi = min([i for i in range(end, len(w)) if w[i] in BREAKS] or [len(w)])
            if DONT_KNOW.search(" ".join(w[lo:hi])):
                values.append(UNSURE)
                continue
            best: tuple[float, Any] | None = None
            for k in range(max(0, start - STATUS_WINDOW), min(len(w), end + STATUS_WINDOW)):
                between = w[min(k, start) : max(k, end)]
                if "|" in between or "nhung" in between or start <= k < end:
                    continue
                for pattern, value in table.items():
                    if not starts_at(w, k, pattern):
                        continue
                    gap = start - (k + len(pattern)) if k < start else k - end
                    negated = value not in (False, "no") and NEG & set(w[max(0, k - 3) : k])
                    if gap < 0 or negated:
                        continue
                    score = gap + 4 * (pattern in WEAK) - len(pattern) / 10
                    if best is None or score < best[0]:
                        best = (score, value)
            if best is not None:
                values.append(best[1])
    return values


def _fines(found: list[Any]) -> bool | None:
    """Paid, not paid, or unknown: a story that says both (not paid then, paid later) is not
    read as either."""
    if UNSURE in found or (False in found and True in found):
        return None
    if False in found:
        return False
    return True if found else None


def _civil(t: CaseText, statuses: list[Any]) -> str | None:
    found = set(statuses)
    if UNSURE in found:
        return None
    if "partly" in found:  # partly paid counts only with a "not able to pay" decision
        return "partly_unable" if re.search(r"\bchua co dieu kien\b", t.joined) else "partly_paid"
    for value in ("no", "met", "none"):
        if value in found:
            return value
    return None


# --- Exclusions and priority groups ------------------------------------------------------------


def _priors(t: CaseText) -> int | None:
    j = t.joined
    if re.search(
        r"\b(khong|ko|k|chua)( co| he| tung| bi| mang)* tien an\b|\blan dau (pham toi|bi an|"
        r"bi xu|vi pham|di tu|bi bat|bi ket an)\b|\bchua (tung |he |bao gio )*(bi |phai )?"
        r"(an tich|ket an|di tu|o tu|bi an|vao tu)|\btien an( \w+)?? (khong|ko|chua|0)\b",
        j,
    ):
        return 0
    found = re.search(r"\b(\d+|mot|hai|ba|bon|nam) tien an\b", j)
    if found and not re.search(r"\b(khong|ko|chua)\s*$", j[: found.start()]):
        word = found.group(1)
        return int(word) if word.isdigit() else NUMBER_WORDS[word]
    if re.search(r"\bda (duoc )?xoa an tich\b", j):
        return None  # earlier sentences cleared: no prior conviction to count
    earlier = PRIOR_TIMES.search(j)
    if earlier:
        word = earlier.group("times")
        return int(word) if word.isdigit() else NUMBER_WORDS[word]
    again = NTH_TIME.search(j)
    if again:
        word = again.group("nth")
        return (int(word) if word.isdigit() else NUMBER_WORDS.get(word, 0) or 4) - 1
    return None


# "trước đó đã 2 lần bị xử tù": two earlier sentences; "đây là lần thứ 3 đi tù": two before.
_JAILED = r"(bi )?(xu tu|ket an|di tu|phat tu|xu|vao tu|o tu|ngoi tu|bi an)"
PRIOR_TIMES = re.compile(
    rf"\b(truoc (do|day)|da|tung)( \w+){{0,3}}? (?P<times>\d|hai|ba|bon) lan {_JAILED}\b"
)
NTH_TIME = re.compile(rf"\blan thu (?P<nth>\d|hai|ba|tu|nam)( \w+){{0,3}}? {_JAILED}\b")


def _amnestied(t: CaseText) -> bool | None:
    j = t.joined
    if NEVER_AMNESTIED.search(j):
        return False
    if AMNESTIED.search(j):
        return True  # "năm 2021 được đặc xá", not "năm 2021 được đặc xá bao nhiêu người"
    return None


def _prosecuted(t: CaseText) -> bool | None:
    found = None
    for m in re.finditer(
        r"\b(truy cuu|truy to|dieu tra|xet xu|khoi to|vu an|vu viec|toi)( \w+){0,6}? khac\b",
        t.joined,
    ):
        clause = re.split(r"[|,]", t.joined[: m.start()])[-1].split()
        after = t.joined[m.end() :].split()[:2]
        if NEG & set(clause[-8:]) or (after and after[0] in NEG):  # "tội khác: không"
            return False
        found = True
    return found


def _creditor(t: CaseText) -> bool | None:
    """Whether the person owed agreed to wait (or it is the State's money); a refusal wins."""
    if re.search(r"\btai san (cua )?nha nuoc\b", t.joined):
        return True
    said = []
    for m in re.finditer(r"\bdong y\b", t.joined):
        clause = re.split(r"[|,]", t.joined[: m.start()])[-1].split()
        if re.search(
            r"\b(bi hai|duoc boi thuong|duoc thi hanh|chu no|ben kia)\b", " ".join(clause)
        ):
            said.append(not (NEG & set(clause[-2:])))
    return None if not said else all(said)


def _protest(t: CaseText) -> bool | None:
    """A protest (kháng nghị giám đốc thẩm, tái thẩm) against the judgment."""
    for m in re.finditer(r"\bkhang nghi\b", t.joined):
        return not (NEG & set(t.joined[: m.start()].split()[-3:]))
    return None


def _ages(t: CaseText) -> dict[str, int]:
    ages: dict[str, int] = {}
    for m in re.finditer(r"\b(\d{1,3}) tuoi\b", t.joined):
        age = int(m.group(1))
        clauses = re.split(r"[|,]", t.joined[max(0, m.start() - 60) : m.start()])
        before = clauses[-1]
        if not before.strip() and len(clauses) > 1 and INTRODUCES.search(clauses[-2]):
            before = "toi"  # "Tôi tên là Hạnh, 45 tuổi": the writer introduces herself
        if re.search(r"\b(con|chau)\b( \w+){0,2}$", before) and not re.search(
            r"\b(pham toi|gay an)\b", before
        ):
            continue  # a child's age
        if re.search(r"\b(pham toi|luc do|khi do|gay an|luc vi pham)\b", before):
            under = re.search(r"\b(duoi|chua du)\s*$", before)
            ages.setdefault("age_at_offence", age - 1 if under else age)
        elif re.search(r"\b(duoi|chua den|chua toi|gan|sap|hon|ngoai|tren)\s*$", before):
            continue  # "dưới 70 tuổi", "chưa đến 70 tuổi": not the age itself
        elif _writers_own(before) and KIN.search(t.joined):
            continue  # "tôi năm nay 74 tuổi. Con trai tôi...": the writer's age
        else:
            ages.setdefault("age_now", age)
    if re.search(r"\b(tren|ngoai|hon) 70 tuoi|\b70 tuoi tro len\b", t.joined):
        ages["age_now"] = max(ages.get("age_now", 0), 70)
    for clause in re.split(r"[|,]", t.joined):
        if re.search(r"\b(chua du|duoi|chua) 18\b", clause) and re.search(
            r"\b(pham toi|gay an|vi pham)\b", clause
        ):
            ages.setdefault("age_at_offence", 17)
    return ages


WRITER = frozenset({"toi", "tui", "minh", "em", "e"})
INTRODUCES = re.compile(r"^\s*(toi|tui|minh|em) (ten (la )?|la )")
AGE_FILLERS = frozenset({"nam", "nay", "hien", "da", "cung", "thi", "la", "duoc"})
OWNERS = frozenset(
    {"chong", "ck", "vo", "vk", "con", "bo", "cha", "me", "anh", "chi", "em", "trai", "gai"}
    | {"ong", "ba", "chau", "cau", "chu", "di", "co", "bac", "nha", "ban"}
    | {"noi", "ngoai", "ruot", "ho", "re", "dau", "nuoi", "ke"}  # "ông nội em", "anh rể tôi"
)


def _writers_own(before: str) -> bool:
    """The words before an age name the writer ("tôi năm nay"), not a relative ("con tôi")."""
    words = list(dropwhile(lambda w: w in AGE_FILLERS, reversed(before.split())))
    return bool(words) and words[0] in WRITER and (len(words) == 1 or words[1] not in OWNERS)


def _told(t: CaseText, start: int) -> bool:
    """The words at ``start`` state a fact, not what a question asks about."""
    sentence = t.joined[t.joined.rfind("|", 0, start) + 1 :].split("|")[0]
    before = t.joined[:start].split()[-3:]
    return not ASKS.search(sentence.strip()) or bool(STATE_BEFORE & set(before[-2:]))


# Words before a fact that state it even inside a question ("ck e bị ung thư ... có được không").
STATE_BEFORE = frozenset({"la", "bi", "mac", "dang"})


def _priority(t: CaseText, ages: dict[str, int]) -> frozenset[str] | None:
    groups = set()
    for key, phrases in PRIORITY_WORDS.items():
        for phrase in phrases:
            for m in re.finditer(rf"\b{phrase}\b", t.joined):
                before = t.joined[: m.start()].split()[-3:]
                if not NEG & set(before) and _told(t, m.start()):
                    groups.add(key)
    groups |= set(POINT.findall(" ".join(t.raw)))
    kin = KIN.search(t.joined)
    if kin and kin.group(1) in MEN:
        groups.discard("pregnant_or_young_child")  # the wife's pregnancy, the couple's child
    if ages.get("age_now", 0) >= 70:
        groups.add("aged_70")
    if ages.get("age_at_offence", 99) < 18:
        groups.add("under_18_at_offence")
    if groups:
        return frozenset(groups)
    said_none = NO_PRIORITY.search(t.joined) or re.search(
        r"\buu tien (khong|ko|chua)\b(?!( a| ad| vay| nhi)?\s*(\||$))", t.joined
    )
    return frozenset() if said_none else None


# --- The round ---------------------------------------------------------------------------------


def states_case(text: str) -> bool:
    """Whether a message is about someone's sentence (so a case check can be offered), even
    one the family says it knows nothing about."""
    facts = read_case(text)
    return bool(
        {"sentence_kind", "sentence_months", "served_months", "detention_start"} & set(facts)
    )


# --- What the family says it does not know -----------------------------------------------------

UNKNOWN = "unknown"  # the form's word for "the family does not know"


def _unsure(t: CaseText, fines: list[Any], civil: list[Any]) -> set[str]:
    """Facts a sentence of the message says the family does not know ("tội gì em không nhớ")."""
    found = set()
    for sentence in t.joined.split("|"):
        if DONT_KNOW.search(sentence):
            found |= {fact for fact, cue in UNSURE_CUES.items() if re.search(cue, sentence)}
    if UNSURE in fines:
        found.add("fines_paid")
    if UNSURE in civil:
        found.add("civil")
    return found


@lru_cache(maxsize=256)
def read_case(text: str) -> dict[str, Any]:
    """The facts ``text`` states, keyed by ``Case`` field; unstated facts are absent.

    Values are in the evaluator's terms: months, "fixed_term", "tot", True, an ISO date...
    ``detention_month`` (1–12) goes with ``detention_year`` when only the month is given.
    A fact the family says it does not know is ``UNKNOWN``.
    """
    t = prepare(text)
    told = prepare(without_suppositions(text))  # the conditions, not those only supposed
    facts: dict[str, Any] = dict(_lengths(t))
    share = share_served(told)
    if share and facts.get("sentence_months") and "served_months" not in facts:
        facts["served_months"] = int(facts["sentence_months"] * share)  # "được 2/3 thời gian"
    facts["sentence_kind"] = sentence_kind(
        told, facts.get("sentence_months")
    )  # not one only supposed
    if facts["sentence_kind"] == "life":
        facts.pop("sentence_months", None)  # a length then is time served, never the sentence
    ages = _ages(told)
    fines = _status(told, FINE_CUES, FINE_STATUS)
    civil = _status(told, CIVIL_CUES, CIVIL_STATUS)
    facts |= detention_dates(t) | ages
    facts |= {
        "crime": _crime(t),
        "rating": _rating(told),
        "fines_paid": _fines(fines),
        "civil": _civil(told, civil),
        "prior_convictions": _priors(told),
        "amnestied_before": _amnestied(told),
        "prosecuted_other": _prosecuted(told),
        "creditor_agreed": _creditor(told),
        "complied_on_suspension": complied(told)
        if facts["sentence_kind"] == "on_suspension"
        else None,
        "suspended_on": suspended_on(t) if facts["sentence_kind"] == "on_suspension" else None,
        "under_protest": _protest(told),
        "priority": _priority(told, ages),
    }
    facts |= read_history(t)
    known = {k: v for k, v in facts.items() if v is not None}
    return {fact: UNKNOWN for fact in _unsure(told, fines, civil)} | known
