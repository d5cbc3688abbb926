"""The FAQ edit form: the choices it offers (topics, measures, facets, kinds of source) and
reading what staff submit, with the loader's rules (an article only for a text that was read,
the outlet of a press or secondary source, "verified" only when every source was read) and
messages in Vietnamese that say what to fix."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from knowledge.kb.loader import MAX_LEAD_CHARS
from knowledge.kb.topics import FACETS, INTENT_LABELS, MEASURES, ROUND_IDS, SOURCE_KINDS, TOPICS

TOPIC_LABELS = {t: INTENT_LABELS.get(t, t) for t in TOPICS}
ROUND_LABELS = {"law": "Theo Luật (mọi đợt)"} | {r: f"Đợt {r}" for r in ROUND_IDS if r != "law"}
MEASURE_LABELS = {
    "amnesty": "Đặc xá, đại xá",
    "reduction": "Giảm thời hạn chấp hành án phạt tù",
    "special_reduction": "Giảm án trong trường hợp đặc biệt",
    "early_release": "Tha tù trước thời hạn có điều kiện",
    "postponement": "Hoãn chấp hành án phạt tù",
    "suspension": "Tạm đình chỉ chấp hành án phạt tù",
    "suspended_sentence": "Án treo",
    "exemption": "Miễn chấp hành hình phạt",
    "commutation": "Ân giảm án tử hình",
    "record_clearing": "Xóa án tích, lý lịch tư pháp",
    "civil_judgment": "Tiền phạt, án phí, bồi thường (thi hành án dân sự)",
    "detention": "Tạm giữ, tạm giam",
    "prison_life": "Thăm gặp, quà, thư, khám bệnh, chuyển trại",
    "custody_harm": "Chết, bị thương, bị đánh trong trại",
    "complaints": "Khiếu nại, tố cáo",
    "trial": "Xét xử, kháng cáo, mức án",
    "foreign": "Phạm nhân người nước ngoài",
    "scams": 'Bị đòi tiền, "chạy án"',
    "region": "Đơn vị hành chính mới",
    "out_of_scope": "Việc khác (chỉ nơi hỏi)",
}
FACET_LABELS = {
    "overview": "Tổng quan: là gì, ai được",
    "conditions": "Điều kiện",
    "timing": "Khi nào, bao lâu",
    "procedure": "Thủ tục, ai quyết định",
    "documents": "Hồ sơ, giấy tờ",
    "where": "Hỏi ở đâu",
    "money": "Chi phí",
    "effect": "Sau đó thế nào, nghĩa vụ",
    "difference": "Khác với biện pháp khác",
    "rights": "Quyền",
}
KIND_LABELS = {
    "text": "đã đọc chính văn bản",
    "copy": "đã đọc bản sao của văn bản năm 2026",
    "press": "báo chí, tin chính thức",
    "secondary": "trang luật sư, bình luận",
    "listing": "chỉ biết tên văn bản",
}
READ_KINDS = ("text", "copy")  # the kinds of source that let an article be cited
MAX_TITLE_CHARS = 300
MAX_QUESTION_CHARS = 300
KINDS_HELP = ", ".join(f"{k} ({label})" for k, label in KIND_LABELS.items())
CITATION_FORMAT = (
    "Mỗi dòng một nguồn: 'Văn bản | Điều | khoản | loại nguồn | nơi đưa tin', ví dụ "
    "'Luật Đặc xá số 30/2018/QH14 | Điều 11 | khoản 1 | text' hoặc "
    "'Luật Thi hành án hình sự số 127/2025/QH15 | | | press | VietnamPlus, 10/12/2025'."
)


class FaqError(ValueError):
    """The submitted entry is not valid; ``errors`` maps each field to what to fix."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def citations_text(citations: list[dict[str, Any]]) -> str:
    """Citations as staff edit them: one a line, 'document | article | clause | kind | outlet'."""
    lines = []
    for c in citations:
        names = ("document", "article", "clause", "kind", "outlet")
        line = " | ".join(str(c.get(name) or "") for name in names).rstrip(" |")
        while "|  |" in line:
            line = line.replace("|  |", "| |")
        lines.append(line)
    return "\n".join(lines)


def _citation(n: int, line: str) -> dict[str, str]:
    where = f"Dòng {n} của phần nguồn"
    parts = [p.strip() for p in line.split("|")]
    if len(parts) > 5:
        raise ValueError(f"{where} có quá 5 cột. {CITATION_FORMAT}")
    document, article, clause, kind, outlet = parts + [""] * (5 - len(parts))
    if not document:
        raise ValueError(f"{where}: thiếu tên văn bản ở cột đầu. {CITATION_FORMAT}")
    if not kind:
        raise ValueError(f"{where}: thiếu loại nguồn ở cột thứ tư: {KINDS_HELP}.")
    if kind not in SOURCE_KINDS:
        raise ValueError(f"{where}: loại nguồn {kind!r} không có; dùng {KINDS_HELP}.")
    if kind not in READ_KINDS and (article or clause):
        raise ValueError(
            f"{where}: chỉ ghi điều, khoản khi đã đọc chính văn bản (loại text hoặc copy). "
            f"Với nguồn loại {kind}, để trống cột điều và khoản."
        )
    if kind in ("press", "secondary") and not outlet:
        raise ValueError(
            f"{where}: nguồn loại {kind} cần ghi nơi đưa tin và ngày ở cột thứ năm, "
            "ví dụ 'VietnamPlus, 10/12/2025'."
        )
    if "toàn văn" in article:
        raise ValueError(f"{where}: 'toàn văn' không phải là một điều; hãy ghi điều đã đọc.")
    values = {"document": document, "article": article, "clause": clause, "kind": kind}
    return {k: v for k, v in (values | {"outlet": outlet}).items() if v}


def parse_citations(text: str) -> list[dict[str, str]]:
    """The citations of the form's text (ValueError saying which line is wrong and why)."""
    return [_citation(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def parse_laws(text: str, known: Collection[str] | None) -> list[str]:
    """Law ids, one a line (or separated by commas); ValueError naming an unknown one."""
    ids = list(dict.fromkeys(x for x in re.split(r"[\s,;]+", text) if x))
    unknown = [x for x in ids if known is not None and x not in known]
    if unknown:
        raise ValueError(
            f"Không có văn bản mã {', '.join(unknown)} trong bảng văn bản pháp luật "
            "(knowledge/kb/laws.yml); hãy chọn trong danh sách."
        )
    return ids


def parse_entry(
    form: Mapping[str, str], *, max_chars: int, laws: Collection[str] | None = None
) -> dict[str, Any]:
    """The entry fields of a submitted form, or FaqError saying what to fix in each field.

    ``laws`` are the known law ids (None: not checked). The rules are the loader's.
    """
    errors: dict[str, str] = {}
    topic = form.get("topic", "")
    if topic not in TOPICS:
        errors["topic"] = f"Chủ đề {topic!r} không có trong danh sách; hãy chọn một chủ đề."
    measure = form.get("measure", "")
    if measure not in MEASURES:
        errors["measure"] = f"Biện pháp {measure!r} không có trong danh sách; hãy chọn một."
    facet = form.get("facet", "")
    if facet not in FACETS:
        errors["facet"] = f"Khía cạnh {facet!r} không có trong danh sách; hãy chọn một."
    title = form.get("title", "").strip()
    if not title or len(title) > MAX_TITLE_CHARS:
        errors["title"] = f"Tiêu đề cần có, dài tối đa {MAX_TITLE_CHARS} ký tự."
    round_ = form.get("round", "")
    if round_ not in ROUND_IDS:
        errors["round"] = "Hãy chọn đợt đặc xá mà câu trả lời áp dụng."
    questions = [q.strip() for q in form.get("questions", "").splitlines() if q.strip()]
    if not questions:
        errors["questions"] = "Cần ít nhất một câu hỏi mẫu (mỗi câu một dòng)."
    elif any(len(q) > MAX_QUESTION_CHARS for q in questions):
        errors["questions"] = f"Mỗi câu hỏi mẫu dài tối đa {MAX_QUESTION_CHARS} ký tự."
    lead = form.get("lead", "").replace("\r\n", "\n").strip()
    if len(lead) > MAX_LEAD_CHARS:
        errors["lead"] = (
            f"Câu trả lời ngắn dài {len(lead)} ký tự; tối đa {MAX_LEAD_CHARS} ký tự "
            "(một hai câu trả lời thẳng vào câu hỏi)."
        )
    answer = form.get("answer", "").replace("\r\n", "\n").strip()
    if not answer:
        errors["answer"] = "Câu trả lời không được để trống."
    elif len(answer) > max_chars:
        errors["answer"] = (
            f"Câu trả lời dài {len(answer)} ký tự, quá giới hạn {max_chars} ký tự của kênh "
            f"nhắn tin (Zalo). Hãy rút gọn hoặc tách thành mục khác."
        )
    try:
        citations = parse_citations(form.get("citations", ""))
        if not citations:
            errors["citations"] = f"Cần ít nhất một nguồn. {CITATION_FORMAT}"
    except ValueError as exc:
        errors["citations"] = str(exc)
        citations = []
    verified = form.get("verified") == "on"
    unread = sorted({c["kind"] for c in citations if c["kind"] not in READ_KINDS})
    if verified and unread:
        errors["verified"] = (
            "Chỉ đánh dấu 'đã đối chiếu với văn bản gốc' khi mọi nguồn là loại text hoặc "
            f"copy; mục này có nguồn loại {', '.join(unread)}. Hãy bỏ đánh dấu: trợ lý sẽ "
            "nói rõ phần thông tin chưa được kiểm chứng."
        )
    try:
        law_ids = parse_laws(form.get("laws", ""), laws)
    except ValueError as exc:
        errors["laws"] = str(exc)
        law_ids = []
    if errors:
        raise FaqError(errors)
    return {
        "topic": topic,
        "title": title,
        "round": round_,
        "verified": verified,
        "questions": questions,
        "answer": answer,
        "citations": citations,
        "measure": measure,
        "facet": facet,
        "lead": lead,
        "minors": form.get("minors") == "on",
        "laws": law_ids,
    }
