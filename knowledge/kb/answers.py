"""The pieces of a reply a family reads on a phone: citation lines, the reminders, the
configured department and contact filled in, and phone-sized messages (``compose`` uses them)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# A message longer than this is split at paragraph (then line, sentence) boundaries: well under
# the 2,000 characters a Zalo message holds (and the longest message staff may save,
# AMNESTY_ANSWER_MAX_CHARS), so a reply takes few messages (Zalo limits free replies).
MAX_MESSAGE_CHARS = 1500

DISCLAIMER = (
    "Lưu ý: đây là thông tin tham khảo, không phải quyết định. Chỉ các cơ quan, hội đồng "
    "có thẩm quyền mới xét và quyết định cho từng trường hợp cụ thể."
)
UNVERIFIED = (
    "Một phần thông tin trên chưa được kiểm chứng với văn bản gốc. Gia đình nên hỏi lại "
    "trại giam nơi người thân chấp hành án hoặc {department}."
)
# ... when nobody is serving a sentence in a camp (record clearing, a trial, a suspended sentence):
UNVERIFIED_OUTSIDE = (
    "Một phần thông tin trên chưa được kiểm chứng với văn bản gốc. Gia đình nên hỏi lại "
    "cơ quan nêu trong câu trả lời hoặc {department}."
)
# The measures of someone serving a sentence in a camp.
IN_CAMP = frozenset(
    {
        "amnesty",
        "reduction",
        "special_reduction",
        "early_release",
        "suspension",
        "commutation",
        "exemption",
        "prison_life",
        "custody_harm",
        "complaints",
        "scams",
        "foreign",
    }
)


def format_citation(citation: Mapping[str, Any]) -> str:
    parts = [citation.get("article"), citation.get("clause"), citation.get("point")]
    where = " ".join(str(p) for p in parts if p)
    return f"{citation['document']}, {where}" if where else str(citation["document"])


# Short names some rule sources use for a document the entries cite in full.
DOCUMENT_NAMES = {
    "Luật Đặc xá 2018": "Luật Đặc xá số 30/2018/QH14",
    "Nghị định 52/2019/NĐ-CP": "Nghị định số 52/2019/NĐ-CP",
}


def _documents_and_places(citation: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A citation as (document, article) pairs; a rule's source may be one string naming
    several ("Luật …, Điều 11 khoản 1; Điều 14 khoản 3; Nghị định …, Điều 2")."""
    if citation.get("article"):
        document = str(citation["document"])
        return [(document, format_citation(citation).removeprefix(f"{document}, "))]
    pairs: list[tuple[str, str]] = []
    document = ""
    for segment in (p.strip() for p in str(citation["document"]).split(";")):
        if segment.startswith("Điều ") and document:
            pairs.append((document, segment))
            continue
        document, _, where = segment.partition(", Điều ")
        pairs.append((document, f"Điều {where}" if where else ""))
    return [(DOCUMENT_NAMES.get(d, d), w) for d, w in pairs if d]


def citation_line(citations: Iterable[Mapping[str, Any]]) -> str:
    """One source line: each document once, with the articles cited from it ("Bộ luật Hình sự…,
    Điều 63 khoản 1, 3, Điều 64"); a bare article is dropped where a clause of it is cited."""
    documents: dict[str, list[str]] = {}
    for c in citations:
        for document, places in _documents_and_places(c):
            wheres = documents.setdefault(document, [])
            for where in re.split(r",\s*(?=Điều )", places):  # "Điều 36, Điều 37": each once
                if where and where not in wheres:
                    wheres.append(where)
    parts = []
    for document, wheres in documents.items():
        kept = [w for w in wheres if not any(o != w and o.startswith(f"{w} ") for o in wheres)]
        parts.append(f"{document}, {', '.join(kept)}" if kept else document)
    return "Nguồn: " + "; ".join(parts) + "."


def fill(text: str, department: str, contact: str) -> str:
    """Insert the configured department name and contact into a text."""
    return text.replace("{department}", department).replace("{contact}", contact)
