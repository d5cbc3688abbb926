"""What a message tells beside its questions: that it is about a person of the family, that it
is a letter or thanks to the staff, that it points back at something unnamed, that someone speaks
of harming themselves. Patterns on folded words."""

from __future__ import annotations

import re

from knowledge.kb.reading import flat_words, sentences

SELF_HARM = re.compile(
    r"\b(tu sat|tu hai|tu (cat|rach|dam)|(cat|rach) tay|(muon|doi|dinh) tu tu"
    r"|(khong|ko|chang) (con )?(muon|thiet) song|chan song|muon chet)\b"
)


def self_harm(text: str) -> bool:
    """The person speaks of taking their own life or has harmed themselves."""
    return bool(SELF_HARM.search(flat_words(text)))


_POINTING = re.compile(r"\b(cai|viec|chuyen|vu) (kia|do|nay|ay)\b|^(vay|the) con\b")


KIN = re.compile(
    r"\b(chong|vo|con|bo|ba|me|anh|chi|em|chau|ong|cau|di|chu|bac|ck|vk|ban|nguoi (nha|than))"
    r"( trai| gai| ruot| ho| cua)? (toi|em|minh|e|t|chung toi|nha (toi|em|minh))\b"
    r"|\b(toi|em|minh) (bi|da|dang|duoc)\b"
)


def about_someone(text: str) -> bool:
    """The message tells of a person ("chồng tôi", "em tôi", "tôi bị..."), not of people in
    general ("những phạm nhân đang được tạm đình chỉ...")."""
    return bool(KIN.search(flat_words(text)))


# A letter to the camp's staff, or thanks, that asks nothing: feedback to pass on.
TO_STAFF = re.compile(
    r"\b(cam on|biet on|tri an|cam ta"
    r"|(kinh )?(thua|gui) (cac |quy )?(can bo|ban giam thi|giam thi|thu truong|lanh dao|chi huy))\b"
)


def letter_to_staff(text: str) -> bool:
    """Thanks, or a letter addressed to the staff ("Thưa các cán bộ! ..."), asking nothing."""
    every = sentences(text)
    flat = flat_words(text)
    return bool(every) and bool(TO_STAFF.search(flat)) and not any(s.asks for s in every)


def refers_back(text: str) -> bool:
    """A short message that points at something unnamed ("vậy còn cái kia thì sao")."""
    flat = flat_words(text)
    return len(flat.split()) <= 8 and bool(_POINTING.search(flat))
