"""The kind of sentence a message tells ("chung thân", "án treo", "đang tạm đình chỉ"), and not
one it only asks for ("có nên xin tạm đình chỉ không")."""

from __future__ import annotations

import re

from knowledge.eligibility.case_words import ASKS, BREAKS, LIFE_REDUCED, CaseText, positions
from knowledge.eligibility.durations import kind_named


def sentence_kind(t: CaseText, sentence_months: int | None) -> str | None:
    """The kind of sentence the message tells: life, death, suspended, on suspension..."""
    if re.search(r"(?<!khong phai )\bchung than\b", t.joined):
        not_reduced = re.search(r"\b(chua|khong|ko) (duoc )?giam\b", t.joined)
        return "life_commuted" if LIFE_REDUCED.search(t.joined) and not not_reduced else "life"
    if re.search(r"\b(tu|an) co thoi han\b", t.joined):
        return "fixed_term"
    kind = kind_named(t.joined)  # ("không biết có đúng không" elsewhere hides nothing)
    if kind in ASKED_FOR and not _told_as_state(t, ASKED_FOR[kind]):
        kind = None  # "có nên xin tạm đình chỉ không": asked for, not what the person is under
    if kind is None and sentence_months:
        return "fixed_term"
    return kind


# Kinds a family may ask for rather than tell ("có nên xin tạm đình chỉ", "có được hoãn không",
# "có được hưởng án treo không"), with their words; and the words that make a mention a request.
ASKED_FOR = {
    "postponed": (("hoan",),),
    "on_suspension": (("tam", "dinh", "chi"),),
    "suspended": (("an", "treo"), ("tu", "treo")),
}
REQUEST = frozenset({"xin", "nen", "muon", "nghi", "don", "khi", "neu"})
STATE = frozenset({"dang", "da", "roi", "bi", "xu", "tuyen"})
GRANTED = frozenset({"duoc", "dc"})  # "được (Tòa cho) tạm đình chỉ": granted, unless "có được"
MAY = re.compile(r"\bco (duoc|dc|the)\b")


def _told_as_state(t: CaseText, forms: tuple[tuple[str, ...], ...]) -> bool:
    """Whether one mention of the kind tells the person's state ("đang được tạm đình chỉ", "bị 2
    năm tù treo", "được Tòa cho tạm đình chỉ") rather than a request or a question about it ("có
    nên xin tạm đình chỉ", "có được hưởng án treo không")."""
    words = t.plain
    breaks = [i for i, w in enumerate(words) if w in BREAKS]
    for form in forms:
        for k in positions(words, form):
            start = max((i for i in breaks if i < k), default=-1) + 1
            end = min((i for i in breaks if i > k), default=len(words))
            near = words[max(start, k - 6) : k]
            length = words[max(start, k - 6) : min(end, k + len(form) + 3)]  # "2 năm tù treo"
            if STATE & set(near) or (form != ("hoan",) and any(w.isdigit() for w in length)):
                return True
            if MAY.search(" ".join(near[-4:])) or REQUEST & set(near[-3:]):
                continue
            if GRANTED & set(near) or not ASKS.search(" ".join(words[k:end])):
                return True
    return False
