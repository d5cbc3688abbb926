"""Facts of a case's history that the other measures need: when the sentence was served in full
("ra tù năm 2007", "chấp hành xong ngày 26/3/2016", "ra trại được gần 4 năm"), a new crime
since, an earlier sentence reduction, a first offence. Cue words on folded text, as in
:mod:`knowledge.eligibility.case_text`; only what the message states is returned."""

from __future__ import annotations

import datetime as dt
import re
from fractions import Fraction
from typing import Any

from knowledge.eligibility.case_words import ASKS, NEG, CaseText
from knowledge.eligibility.suspension import listed_illness

_RELEASE = (
    r"(?:chap hanh xong|thi hanh xong|ra tu|ra trai|man han|het an|mang an|duoc tha|tha ve|tro ve"
    r"|het (?:thoi gian |thoi han )?thu thach)"  # án treo: the probation is over
)
_DATE_FORMS = (
    (r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d\d)", "dmy"),
    (r"(?:ngay|mung) (\d{1,2}) thang (\d{1,2}) nam ((?:19|20)\d\d)", "dmy"),
    (r"thang (\d{1,2})\s*(?:/|-|nam)?\s*((?:19|20)\d\d)", "my"),
    (r"nam ((?:19|20)\d\d)", "y"),
    (r"(?<![\d/])((?:19|20)\d\d)(?![\d/])", "y"),
)
_NUMBER_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8}
_AGO = re.compile(
    rf"{_RELEASE}(?: \w+){{0,4}}? (?:duoc |da |gan |hon |khoang |ngoai |tron )*"
    r"(\d{1,2}|mot|hai|ba|bon|nam|sau|bay|tam) (nam|thang)(?: nay| roi| nua)?\b"
)


# "Cách đây hơn 10 năm tôi bị phạt tù", "đi tù từ 15 năm trước": when the sentence began (the
# smaller number of a range, the latest it can have been).
_FILLERS = r"(?:duoc |hon |khoang |gan |tam |chung |ca )*"
_YEARS = r"(\d{1,2})(?:(?: ?- ?| )\d{1,2})? nam"
_NOT_AFTER = r"(?! (?:khi|do|thoi han))"
_WENT_IN_AGO = re.compile(
    rf"\b(?:cach day|tu) {_FILLERS}{_YEARS}(?: ve)? truoc\b{_NOT_AFTER}"
    rf"|\bcach day {_FILLERS}{_YEARS}\b"
    rf"|(?<!\btu )\b(\d{{1,2}}) nam (?:ve )?truoc\b{_NOT_AFTER}"
)


# "bị bắt từ tháng 3 năm ngoái", "tạm giam tháng 7 năm nay": the month, and how many years back.
_HELD_SINCE = re.compile(
    r"\b(?:bat|tam giam|tam giu|bi giam|vao trai|di tu|nhap trai)(?: \w+){0,3}? thang (\d{1,2})"
    r" nam (nay|ngoai|truoc|roi|kia)\b"
)
_YEARS_BACK = {"nay": 0, "ngoai": 1, "truoc": 1, "roi": 1, "kia": 2}


def _held_since(t: CaseText) -> dict[str, Any]:
    found = _HELD_SINCE.search(t.joined)
    if not found or not 1 <= int(found.group(1)) <= 12:
        return {}
    return {
        "detention_month": int(found.group(1)),
        "detention_years_ago": _YEARS_BACK[found.group(2)],
    }


def _went_in(t: CaseText) -> dict[str, Any]:
    found = _WENT_IN_AGO.search(t.joined)
    if not found:
        return {}
    return {"went_in_years_ago": int(next(g for g in found.groups() if g))}


def _finished(t: CaseText) -> dict[str, Any]:
    """The day, month or year the principal penalty was served in full."""
    for m in re.finditer(_RELEASE, t.folded):
        after = t.folded[m.end() : m.end() + 45]
        for pattern, form in _DATE_FORMS:
            found = re.search(pattern, after)
            if not found or found.start() > 30:
                continue
            numbers = [int(g) for g in found.groups()]
            try:
                if form == "dmy":
                    return {"finished_on": dt.date(numbers[2], numbers[1], numbers[0]).isoformat()}
                if form == "my":
                    return {"finished_year": numbers[1], "finished_month": numbers[0]}
                return {"finished_year": numbers[0]}
            except ValueError:
                continue
    ago = _AGO.search(t.joined)
    if ago and not re.search(r"\b(con|nua)\s*$", t.joined[: ago.start(1)]):
        count = int(ago.group(1)) if ago.group(1).isdigit() else _NUMBER_WORDS[ago.group(1)]
        return {"released_months_ago": count * (12 if ago.group(2) == "nam" else 1)}
    return {}


def _yes_no(text: str, yes: str, no: str) -> bool | None:
    if re.search(no, text):
        return False
    if re.search(yes, text):
        return True
    return None


def complied(t: CaseText) -> bool | None:
    """On suspension: whether the person kept the law at home."""
    if re.search(
        r"\bchap hanh (nghiem|dung|tot)( chinh)?( phap luat)?\b|\b(khong|ko|k) (co )?vi pham\b",
        t.joined,
    ):
        return True
    for m in re.finditer(r"\bvi pham\b", t.joined):
        if not NEG & set(t.joined[: m.start()].split()[-2:]):
            return False
    return None


def read_history(t: CaseText) -> dict[str, Any]:
    j = t.joined
    facts: dict[str, Any] = (_finished(t) or _went_in(t)) | _held_since(t)
    facts["illness"] = listed_illness(j)
    facts["first_offence"] = _yes_no(
        j,
        r"\b(pham toi lan dau|lan dau pham toi|lan dau (bi|di) (tu|xu|an)|chua (tung |he )*(co|bi) "
        r"tien an|chua (tung |he )*(bi )?(ket an|di tu|vi pham phap luat))\b",
        r"\b(tai pham|da (tung )?co (\d+ |mot |hai )?tien an|"
        r"lan thu (2|hai|ba|3) (di tu|bi xu))\b",
    )
    facts["new_crime"] = _yes_no(
        j,
        r"\b(pham toi moi|lai (bi bat|di tu|pham toi)|tai pham)\b",
        r"\b(khong|chua|ko) (he |tung |co )*(vi pham|pham toi|tai pham|lam gi sai)\b",
    )
    facts["reduced_before"] = _yes_no(
        j,
        r"\b(da (duoc )?giam an|duoc giam (an )?(\d+|mot|hai|ba) (thang|nam)|"
        r"giam (an )?lan (1|mot|dau))\b",
        r"\b(chua (duoc |tung )?(xet )?giam( an)?( lan nao)?)\b",
    )
    return {k: v for k, v in facts.items() if v is not None}


# "đã chấp hành được 2/3 thời gian", "ở được hơn một nửa án": a share of the sentence served;
# not a share required ("phải chấp hành được 1/2 mới được xét").
SHARE_SERVED = re.compile(
    r"(?<!phai )(?<!can )(?<!toi thieu )(?<!it nhat )\b(duoc|qua|het|hon) (hon |qua )?"
    r"(?:(?P<num>[1-4]) ?/ ?(?P<den>[2-5])|(?P<half>mot nua|nua))\b(?! (nam|thang|ngay))"
)


def share_served(t: CaseText) -> Fraction | None:
    """The share of the sentence the message says was served, if it gives one."""
    for clause in re.split(r"[.,;?!\n]", t.folded):
        m = SHARE_SERVED.search(clause)
        if m and not ASKS.search(clause.strip()) and not re.search(r"\b(phai|can|moi)\b", clause):
            if m.group("half"):
                return Fraction(1, 2)
            share = Fraction(int(m.group("num")), int(m.group("den")))
            return share if share < 1 else None
    return None
