"""The pieces of a reply a family reads on a phone: citation lines, the reminders, the
configured department and contact filled in, and phone-sized messages (``compose`` uses them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# A message longer than this is split at paragraph (then line, sentence) boundaries.
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
