"""One normalisation for every path into the model, and diacritic folding for ranking.

Only depends on the standard library and underthesea, so it loads in both environments
(Rasa's and ours).
"""

from __future__ import annotations

import contextlib
import re
import unicodedata

from underthesea import text_normalize

# Chat abbreviations with one meaning only. Ambiguous ones ("ck" = chồng / chuyển khoản,
# "k" = không / nghìn, "bn" = bao nhiêu / bạn, "dk" = điều kiện / đăng ký) stay as typed:
# the model learns them from the training data.
ABBREVIATIONS: dict[str, str] = {
    "ko": "không",
    "hok": "không",
    "khg": "không",
    "dc": "được",
    "đc": "được",
    "đk": "điều kiện",
    "đkien": "điều kiện",
    "ntn": "như thế nào",
    "vk": "vợ",
    "mn": "mọi người",
    "trc": "trước",
    "đag": "đang",
    "dag": "đang",
    "cx": "cũng",
    "ns": "nói",
    "lm": "làm",
    "đx": "đặc xá",
    "j": "gì",
    "z": "vậy",
    "wa": "quá",
    "tg": "thời gian",
    "tgian": "thời gian",
    "gcn": "giấy chứng nhận",
    "giấy cn": "giấy chứng nhận",
    "giay cn": "giay chung nhan",
    "lltp": "lý lịch tư pháp",
}

_ABBREVIATION_RE = re.compile(
    r"(?<!\w)("
    + "|".join(sorted(map(re.escape, ABBREVIATIONS), key=len, reverse=True))
    + r")(?!\w)",
    re.IGNORECASE,
)
_SPACES_RE = re.compile(r"\s+")
# Characters that are never text: controls (except whitespace), invisible format characters
# (zero-width spaces and joiners, bidi marks), surrogates, private use, unassigned.
_JUNK_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def _drop_junk(text: str) -> str:
    return "".join(
        ch if ch.isspace() or unicodedata.category(ch) not in _JUNK_CATEGORIES else " "
        for ch in text
    )


def expand_abbreviations(text: str) -> str:
    """Replace unambiguous chat abbreviations ("ko", "dc", "đk") by the full words."""
    return _ABBREVIATION_RE.sub(lambda m: ABBREVIATIONS[m.group(1).lower()], text)


def normalize(text: str, max_chars: int | None = None) -> str:
    """Return the form of a message the model sees.

    NFC, underthesea's ``text_normalize`` (tone placement, "Ð" → "Đ", spaced punctuation),
    unambiguous abbreviations expanded, whitespace collapsed. Button payloads (text that
    starts with "/") are returned untouched; any other text never starts with "/".
    Never raises on any ``str``.
    """
    if text.startswith("/"):
        return text.strip()
    if max_chars is not None:
        text = text[:max_chars]
    text = unicodedata.normalize("NFC", _drop_junk(text))
    text = _SPACES_RE.sub(" ", text).strip()
    if not text:
        return ""
    # underthesea documents no exceptions; if it fails, keep the NFC text.
    with contextlib.suppress(Exception):
        text = text_normalize(text)
    text = unicodedata.normalize("NFC", text)
    text = expand_abbreviations(text)
    # Typed text is never a button payload: a leading "/" must not reach Rasa's intent parser.
    return _SPACES_RE.sub(" ", text).strip().lstrip("/ ")


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese tone and vowel marks ("đặc xá" → "dac xa"), keeping case."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped.replace("đ", "d").replace("Đ", "D"))


def fold(text: str) -> str:
    """Lower-case, diacritic-free form used for matching ("Đặc Xá" → "dac xa")."""
    return strip_diacritics(text).lower()
