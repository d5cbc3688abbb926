"""Splitting long text into messages: phone-sized parts of an answer (knowledge/kb/compose.py)
and the parts a channel accepts (Telegram 4,096, Zalo 2,000). The one splitter."""

from __future__ import annotations

import re
import unicodedata

# Where a cut reads best, in order: between paragraphs, lines, sentences, words.
_BOUNDARIES = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"[.!?…;:][\"'”’)\]]*\s"),
    re.compile(r"\s"),
)


def _cut(text: str, limit: int) -> int:
    """The index at which to end the first piece of ``text`` (longer than ``limit``)."""
    window = text[: limit + 1]
    for pattern in _BOUNDARIES:
        ends = [m.end() for m in pattern.finditer(window) if m.end() <= limit]
        ends = [e for e in ends if text[:e].strip()]
        # A paragraph, line or sentence boundary in the first third would leave a needlessly
        # short message; a word boundary is always better than cutting a word.
        if ends and (ends[-1] > limit // 3 or pattern is _BOUNDARIES[-1]):
            return ends[-1]
    cut = limit
    # Never separate a letter from its combining accent (text in decomposed form).
    while cut > 1 and unicodedata.combining(text[cut]):
        cut -= 1
    return cut


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into non-empty pieces of at most ``limit`` characters.

    Cuts fall between paragraphs, then lines, sentences and words, and only mid-word when a
    word is longer than ``limit``. Only the whitespace at a cut is dropped.

    >>> split_text("Hồ sơ gồm đơn. Bản án có hiệu lực.", 20)
    ['Hồ sơ gồm đơn.', 'Bản án có hiệu lực.']
    """
    if limit < 1:
        raise ValueError("limit must be at least 1 character")
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest) <= limit:
            pieces.append(rest)
            break
        cut = _cut(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return pieces
