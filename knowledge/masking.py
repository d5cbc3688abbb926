"""Masking of personal data in text shown to staff: phone numbers, ID-card numbers, e-mails, names.

>>> mask("Số của tôi 0912 345 678, CCCD 001234567890")
'Số của tôi 09******78, CCCD *********890'
>>> mask_name("Nguyễn Văn An")
'N. V. A.'
"""

from __future__ import annotations

import re

import phonenumbers

# Bounded and anchored at the start of a word, so a long run of letters costs linear time.
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
# A 12-digit citizen ID card (CCCD), not inside a longer number; then any other run of nine
# digits or more: a 9-digit old ID card (CMND), a bank account.
_CCCD_RE = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_LONG_NUMBER_RE = re.compile(r"(?<![0-9])[0-9]{9,}(?![0-9])")
# An ID-card number typed in groups ("0012 3456 7890"); dots are left out: "1.500.000.000" is
# an amount of money.
_GROUPED_ID_RE = re.compile(r"(?<![0-9])[0-9]{3,4}(?:[ \-][0-9]{3,4}){2,3}(?![0-9])")
# A Vietnamese mobile or landline number as families type it: 0 and nine digits, maybe
# grouped with spaces, dots or dashes ("0912.345.678", "0912 345 678").
_LOCAL_PHONE_RE = re.compile(r"(?<![0-9])0(?:[ .\-]?[0-9]){9}(?![0-9])")


def _masked_digits(text: str, head: int, tail: int) -> str:
    """The digits of ``text`` with all but the first ``head`` and last ``tail`` starred."""
    digits = [ch for ch in text if ch.isdigit()]
    if len(digits) <= head + tail:
        head, tail = 0, min(tail, max(len(digits) - 2, 0))
    hidden = len(digits) - head - tail
    kept_tail = digits[len(digits) - tail :] if tail else []
    prefix = "+" if "+" in text else ""
    return prefix + "".join(digits[:head]) + "*" * hidden + "".join(kept_tail)


def _masked_email(text: str) -> str:
    local, _, domain = text.partition("@")
    return local[:1] + "***@" + domain


def _phone_spans(text: str) -> list[tuple[int, int]]:
    try:
        matcher = phonenumbers.PhoneNumberMatcher(text, "VN")
        return [(m.start, m.end) for m in matcher]
    except Exception:  # phonenumbers documents no exceptions; masking must never fail
        return []


def mask(text: str) -> str:
    """Hide phone numbers, CCCD/CMND numbers and e-mail addresses, keeping their last digits."""
    spans: list[tuple[int, int, str]] = []

    def claim(start: int, end: int, replacement: str) -> None:
        if all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, replacement))

    for m in _EMAIL_RE.finditer(text):
        claim(m.start(), m.end(), _masked_email(m.group()))
    for m in _CCCD_RE.finditer(text):
        claim(m.start(), m.end(), _masked_digits(m.group(), 0, 3))
    for m in _LOCAL_PHONE_RE.finditer(text):
        claim(m.start(), m.end(), _masked_digits(m.group(), 2, 2))
    for start, end in _phone_spans(text):
        claim(start, end, _masked_digits(text[start:end], 2, 2))
    for m in _LONG_NUMBER_RE.finditer(text):
        claim(m.start(), m.end(), _masked_digits(m.group(), 0, 3))
    for m in _GROUPED_ID_RE.finditer(text):
        groups = re.split(r"[ \-]", m.group())
        if all(re.fullmatch(r"(?:19|20)[0-9]{2}", g) for g in groups):
            continue  # a list of years
        if sum(len(g) for g in groups) in (9, 12):
            claim(m.start(), m.end(), _masked_digits(m.group(), 0, 3))

    out: list[str] = []
    position = 0
    for start, end, replacement in sorted(spans):
        out.append(text[position:start])
        out.append(replacement)
        position = end
    out.append(text[position:])
    return "".join(out)


def mask_name(name: str) -> str:
    """Initials only ("Nguyễn Văn An" → "N. V. A.")."""
    return " ".join(f"{word[0].upper()}." for word in name.split())
