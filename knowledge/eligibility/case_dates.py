"""Days a message tells: the arrest or custody (from which time served counts), the start of a
suspension (where it stops) and the amnesty round it names."""

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
from vietnamese.text import fold, normalize


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


def round_named(text: str, open_round: str | None) -> str | None:
    """The amnesty round a message names ("đợt 2/9/2025", "năm 2024", "đợt này"), if any.

    Returns a round id ("2024", "2025-1", "2025-2", "2026"); None when no round, or only
    "2025" without saying which of its two rounds. "Đợt này", "đợt tới" mean the round being
    considered now (``open_round``), which may be none: then the law alone applies.
    """
    folded = fold(normalize(text))
    years = set(re.findall(r"\b(?:dot|dac xa)\b[^.;|]{0,25}?\b(202[4-9])\b", folded))
    if "2025" in years:
        first = re.search(r"\b30\s*/\s*4\b|\bdot (1|mot|dau)\b|giai phong", folded)
        second = re.search(r"\b2\s*/\s*9\b|\bdot (2|hai)\b|quoc khanh", folded)
        if bool(first) != bool(second):
            return "2025-1" if first else "2025-2"
        years.discard("2025")
    if len(years) == 1:
        return years.pop()
    if re.search(r"\b(dot nay|nam nay|lan nay|dot toi|sap toi)\b", folded):
        return open_round
    return None


# "tính đến 30/4/2027 thì ở được bao lâu": the time served is reckoned to the day asked about.
PROJECTED = re.compile(
    r"\b(?:tinh den|tinh toi|den|toi) (?:ngay )?(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(20\d\d)\b"
)
AHEAD_DAYS = 3 * 366  # further ahead than this, the date is not a question about time served


def projected(text: str, today: dt.date) -> dt.date | None:
    """A later day the family asks the time served up to, if the message names one."""
    for m in PROJECTED.finditer(fold(text)):
        try:
            day = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            continue
        if today < day <= today + dt.timedelta(days=AHEAD_DAYS):
            return day
    return None
