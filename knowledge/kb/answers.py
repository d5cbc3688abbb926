"""The pieces of a reply a family reads on a phone: citation lines, the reminders, the
configured department and contact filled in, and phone-sized messages (``compose`` uses them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# A message longer than this is split at paragraph (then sentence) boundaries.
MAX_MESSAGE_CHARS = 900

DISCLAIMER = (
    "Lưu ý: đây là thông tin tham khảo, không phải quyết định. Chỉ các cơ quan, hội đồng "
    "có thẩm quyền mới xét và quyết định cho từng trường hợp cụ thể."
)
UNVERIFIED = (
    "Một phần thông tin trên chưa được kiểm chứng với văn bản gốc. Gia đình nên hỏi lại "
    "trại giam nơi người thân chấp hành án hoặc {department}."
)


def format_citation(citation: Mapping[str, Any]) -> str:
    parts = [citation.get("article"), citation.get("clause"), citation.get("point")]
    where = " ".join(str(p) for p in parts if p)
    return f"{citation['document']}, {where}" if where else str(citation["document"])


def citation_line(citations: Iterable[Mapping[str, Any]]) -> str:
    seen: list[str] = []
    for c in citations:
        text = format_citation(c)
        if text not in seen:
            seen.append(text)
    return "Nguồn: " + "; ".join(seen) + "."


def fill(text: str, department: str, contact: str) -> str:
    """Insert the configured department name and contact into a text."""
    return text.replace("{department}", department).replace("{contact}", contact)


def split_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split at blank lines, then at sentence ends, so that no part exceeds ``limit``."""
    parts: list[str] = []
    current = ""
    pieces: list[str] = []
    for paragraph in text.split("\n\n"):
        paragraph = paragraph.strip()
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        sentence = ""
        for word in paragraph.split(" "):
            candidate = f"{sentence} {word}".strip()
            if len(candidate) > limit and sentence:
                pieces.append(sentence)
                sentence = word
            else:
                sentence = candidate
            if sentence.endswith((".", "!", "?", ":")) and len(sentence) > limit // 2:
                pieces.append(sentence)
                sentence = ""
        if sentence:
            pieces.append(sentence)
    for piece in filter(None, pieces):
        candidate = f"{current}\n\n{piece}" if current else piece
        if len(candidate) > limit and current:
            parts.append(current)
            current = piece
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts
