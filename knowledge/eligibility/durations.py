"""Reading sentence lengths and years the way families type them ("5 năm rưỡi", "2n3th")."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

from vietnamese.text import fold

YEAR_WORDS = frozenset({"nam", "n"})
MONTH_WORDS = frozenset({"thang", "th", "thg"})
HALF = "ruoi"  # "rưỡi": and a half
# How number and unit words are spelled with their marks; without marks they are accepted too.
SPELLINGS = frozenset(
    {"một", "mốt", "hai", "ba", "bốn", "tư", "năm", "lăm", "nhăm", "sáu", "bảy", "bẩy", "tám"}
    | {"chín", "mười", "mươi", "linh", "nửa", "rưỡi", "tháng", "và"}
)

# Number words after folding. "tư", "lăm", "mốt", "nhăm" only follow "mươi" ("hai mươi lăm").
DIGITS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9}
AFTER_TENS = {**DIGITS, "tu": 4, "lam": 5, "nham": 5, "linh": 0}
NUMBER_WORDS = frozenset({*AFTER_TENS, *YEAR_WORDS, *MONTH_WORDS, "bay", "muoi", "nua", HALF, "va"})

# Sentences with no length to count, or a kind the evaluator treats apart.
KIND_WORDS = (
    ("tu hinh", "death"),
    ("an treo", "suspended"),
    ("tu treo", "suspended"),
    ("hoan chap hanh", "postponed"),
    ("hoan thi hanh", "postponed"),
    ("duoc hoan", "postponed"),
    ("tam dinh chi", "on_suspension"),
    ("chung than", "life"),
)
REDUCED = re.compile(r"\b(giam|xuong|con)\b")
DONT_KNOW = re.compile(r"\b(khong|ko|k|chua) (biet|ro|nho)\b|^\s*\?+\s*$")
YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")
RANGE = re.compile(r"\d\s*(-|–|den|toi|hoac)\s*\d")  # "7-8 năm", "7 đến 8 năm": not one length


@dataclass(frozen=True)
class Sentence:
    """A sentence as typed: its length in months (None if none) and its kind if it says one."""

    months: int | None
    kind: str | None = None


def word_tokens(text: str, *, breaks: bool = False) -> list[str]:
    """Folded words and numbers; "2n3th" gives "2 n 3 th" and "4,5" stays one number.

    A word typed with the wrong marks for a number or unit ("bà", "tạm", "tù") is kept apart
    (suffix "~") so it is never read as one ("ba", "tám", "tư"); unmarked words are accepted.
    With ``breaks``, a comma stays as "," and other punctuation that ends a clause as "|".
    """
    pattern = r"\d+(?:[.,]\d+)?|[^\W\d_]+" + r"|[,.;:!?\n()]" * breaks
    raw = re.findall(pattern, unicodedata.normalize("NFC", text.lower()))
    tokens = []
    for word in raw:
        if word in ",.;:!?\n()":
            tokens.append("," if word == "," else "|")
            continue
        folded = fold(word).replace(",", ".")
        if folded in NUMBER_WORDS and word != folded and word not in SPELLINGS:
            folded += "~"
        tokens.append(folded)
    return tokens


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", fold(text)))


def _number(tokens: list[str], i: int) -> list[tuple[Fraction, int]]:
    """Every way to read a number starting at ``i``, longest first, as (value, next index)."""
    if i >= len(tokens):
        return []
    word = tokens[i]
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return [(Fraction(word), i + 1)]
    if word == "nua":  # "nửa năm"
        return [(Fraction(1, 2), i + 1)]
    found: list[tuple[Fraction, int]] = []
    tens, j = None, i
    if word == "muoi":  # "mười", "mười lăm"
        tens, j = 10, i + 1
    elif word in DIGITS and i + 1 < len(tokens) and tokens[i + 1] == "muoi":
        tens, j = DIGITS[word] * 10, i + 2  # "hai mươi"
    if tens is not None:
        if j < len(tokens) and tokens[j] in AFTER_TENS:
            found.append((Fraction(tens + AFTER_TENS[tokens[j]]), j + 1))
        found.append((Fraction(tens), j))
    elif word in DIGITS:
        found.append((Fraction(DIGITS[word]), i + 1))
    return found


def _unit(tokens: list[str], i: int) -> int | None:
    """Months per unit at ``i`` (12 for a year word, 1 for a month word), else None."""
    if i < len(tokens):
        if tokens[i] in YEAR_WORDS:
            return 12
        if tokens[i] in MONTH_WORDS:
            return 1
    return None


def _amount(tokens: list[str], i: int) -> tuple[Fraction, int, int] | None:
    """A number and its unit ("5 năm rưỡi"), or a unit alone before "rưỡi" ("năm rưỡi").

    Returns (months, next index, months per unit).
    """
    for value, j in _number(tokens, i):
        unit = _unit(tokens, j)
        if unit == 12 and YEAR.fullmatch(tokens[j + 1] if j + 1 < len(tokens) else ""):
            continue  # "sau năm 2020" is a calendar year, not six years
        after = tokens[j + 1] if j + 1 < len(tokens) else ""
        if unit == 12 and i > 0 and tokens[i - 1] == "thang" and after in THIS_OR_LAST:
            continue  # "tháng 7 năm nay" is a month of a year, not seven years
        if unit is not None:
            if j + 1 < len(tokens) and tokens[j + 1] == HALF:
                return (value + Fraction(1, 2)) * unit, j + 2, unit
            return value * unit, j + 1, unit
    unit = _unit(tokens, i)
    if unit is not None and i + 1 < len(tokens) and tokens[i + 1] == HALF:
        return Fraction(3, 2) * unit, i + 2, unit
    return None


# "tháng 7 năm nay / năm ngoái / năm trước / năm kia": a date, not a length.
THIS_OR_LAST = frozenset({"nay", "ngoai", "truoc", "kia", "roi"})


@dataclass(frozen=True)
class Span:
    """A length found in a token list: tokens ``start`` to ``end`` (excluded) mean ``months``."""

    start: int
    end: int
    months: Fraction


def duration_spans(tokens: list[str]) -> list[Span]:
    """Every length in ``tokens`` (from ``word_tokens``), in order.

    "2 năm 3 tháng", "2 năm và 3 tháng", "2 năm, 3 tháng" and "3 năm 6" are one length each.
    """
    spans: list[Span] = []
    i = 0
    while i < len(tokens):
        found = _amount(tokens, i)
        if found is None:
            i += 1
            continue
        total, j, unit = found
        if unit == 12 and j < len(tokens):
            k = j + 1 if tokens[j] in ("va", ",") else j
            more = _amount(tokens, k)
            if more is not None and more[2] == 1:
                total, j = total + more[0], more[1]
            elif _bare_months(tokens, k):
                total, j = total + int(tokens[k]), k + 1  # "3 năm 6": the months after years
        spans.append(Span(i, j, total))
        i = j
    return spans


def _bare_months(tokens: list[str], k: int) -> bool:
    """A number under 12 ending a clause right after a length in years ("3 năm 6")."""
    if k >= len(tokens) or not tokens[k].isdigit() or int(tokens[k]) >= 12:
        return False
    return k + 1 == len(tokens) or tokens[k + 1] in (",", "|")


def _months(text: str) -> Fraction | None:
    """The first length in ``text``, in months: "2 năm 3 tháng", "2 năm và 3 tháng", "3 năm 6"."""
    spans = duration_spans(word_tokens(text))
    return spans[0].months if spans else None


def kind_named(text: str) -> str | None:
    """The kind of sentence a free text names ("tù treo", "tạm đình chỉ"...), if any."""
    folded = _plain(text)
    return next((k for words, k in KIND_WORDS if re.search(rf"\b{words}\b", folded)), None)


def parse_sentence(text: str) -> Sentence:
    """Length and kind of a sentence: "6 năm" -> (72, None); "chung thân" -> (None, "life").

    "chung thân, đã giảm xuống 30 năm" -> (360, "life_commuted"); "3 năm tù treo" -> (36,
    "suspended"); "tử hình" -> (None, "death"); "không biết" -> (None, None).
    """
    folded = _plain(text)
    if DONT_KNOW.search(folded):
        return Sentence(None)
    kind = next((k for words, k in KIND_WORDS if re.search(rf"\b{words}\b", folded)), None)
    if kind == "death":
        return Sentence(None, "death")
    months = _rounded(_months(text)) if not RANGE.search(fold(text)) else None
    if kind == "life":
        if months is not None and REDUCED.search(folded):
            return Sentence(months, "life_commuted")
        return Sentence(None, "life")
    return Sentence(months, kind)


def _rounded(months: Fraction | None) -> int | None:
    if months is None or months <= 0 or months > 12 * 100:
        return None
    return int(months + Fraction(1, 2))  # nearest month, halves up


def parse_duration(text: str) -> int | None:
    """Months in the first length found in ``text`` ("5 năm rưỡi" -> 66), or None.

    Reads digits and number words, with or without diacritics ("hai nam", "18 thang"),
    decimals ("4,5 năm"), "rưỡi", "nửa năm" and the short forms "n" and "th" ("2n3th").
    A calendar year ("năm 2021"), a range ("7-8 năm"), "chung thân", "tử hình" and
    "không biết" give None; ``parse_sentence`` tells the kind.
    """
    folded = _plain(text)
    if DONT_KNOW.search(folded) or re.search(r"\b(chung than|tu hinh)\b", folded):
        return None
    if RANGE.search(fold(text)):
        return None
    return _rounded(_months(text))


def parse_year(text: str) -> int | None:
    """The calendar year in an answer such as "năm 2021" or "tháng 3/2021", else None."""
    found = YEAR.search(fold(text))
    return int(found.group(1)) if found else None
