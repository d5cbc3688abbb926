"""Days a message tells: the arrest or custody (from which time served counts) and the start of a
suspension (where it stops)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from knowledge.eligibility.case_words import (
    DETENTION_AFTER,
    DETENTION_CUE,
    RELEASED_BEFORE,
    CaseText,
)


def detention_dates(t: CaseText, *, need_cue: bool = True) -> dict[str, Any]:
    """The day (or month, or year) of arrest or custody, when a detention word comes before."""
    forms = (
        (r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d\d)", "dmy"),
        (r"(?:ngay|mung|hom) (\d{1,2}) thang (\d{1,2}) nam ((?:19|20)\d\d)", "dmy"),
        (r"thang (\d{1,2})\s*(?:/|-|nam)?\s*((?:19|20)\d\d)", "my"),
        (r"(?<![\d/])(\d{1,2})\s*/\s*((?:19|20)\d\d)", "my"),
        (r"\b(?:nam|tu) ((?:19|20)\d\d)", "y"),
    )
    # A date after a detention word first ("bị tạm giam từ tháng 1/2023"); only then one that a
    # detention word follows ("kết án vào tháng 6/2023 (bị tạm giam từ...)" is the judgment).
    for cue_after in (False, True) if need_cue else (False,):
        found = _detention_date(t, forms, need_cue=need_cue, cue_after=cue_after)
        if found:
            return found
    return {}


def _detention_date(
    t: CaseText, forms: tuple[tuple[str, str], ...], *, need_cue: bool, cue_after: bool
) -> dict[str, Any]:
    for pattern, form in forms:
        for m in re.finditer(pattern, t.folded):
            before = t.folded[max(0, m.start() - 60) : m.start()]
            after = t.folded[m.end() : m.end() + 40]
            cued = DETENTION_AFTER.match(after) if cue_after else DETENTION_CUE.search(before)
            if need_cue and not cued:
                continue
            if RELEASED_BEFORE.search(before):  # "ra tù năm 2008": the end, not the arrest
                continue
            numbers = [int(g) for g in m.groups()]
            try:
                if form == "dmy":
                    day, month, year = numbers
                    return {"detention_start": dt.date(year, month, day).isoformat()}
                if form == "my" and 1 <= numbers[0] <= 12:
                    return {"detention_year": numbers[1], "detention_month": numbers[0]}
                if form == "y":
                    return {"detention_year": numbers[0]}
            except ValueError:
                continue
    return {}


_DAY = r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d\d)"
# "từ ngày 20/9/2024 được Tòa cho tạm đình chỉ", "tạm đình chỉ từ ngày 20/9/2024".
SUSPENDED_ON = (
    re.compile(rf"{_DAY}[^.;?!|]{{0,30}}?\btam dinh chi\b"),
    re.compile(rf"\btam dinh chi\b[^.;?!|]{{0,30}}?\b(?:tu|ke tu|ngay)\s+(?:ngay\s+)?{_DAY}"),
)


def suspended_on(t: CaseText) -> str | None:
    """The day a suspension began, when the message dates it."""
    for pattern in SUSPENDED_ON:
        m = pattern.search(t.folded)
        if m:
            day, month, year = (int(g) for g in m.groups())
            try:
                return dt.date(year, month, day).isoformat()
            except ValueError:
                return None
    return None
