"""Staff editing of the FAQ entries: validation, versions, status, diff, restore, re-check.

Every change stores a full snapshot (:class:`EntryVersion`) and a line in the audit log,
and sets ``Entry.edited_by`` so that reloading the YAML never overwrites it. The caller
passes (and owns, and commits) the session.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from knowledge.clock import VIETNAM, vietnam_today
from knowledge.kb.answers import render
from knowledge.kb.topics import CASE_INTENTS, INTENT_LABELS, ROUND_IDS, TOPICS
from knowledge.models import AuditEntry, Entry, EntryVersion, Round
from knowledge.staff import audit

STATUSES = ("draft", "published", "retired")
STATUS_LABELS = {"draft": "Bản nháp", "published": "Đang dùng", "retired": "Ngừng dùng"}
TOPIC_LABELS = {t: INTENT_LABELS.get(t, t) for t in TOPICS}
ROUND_LABELS = {"law": "Theo Luật (mọi đợt)"} | {r: f"Đợt {r}" for r in ROUND_IDS if r != "law"}
CONTENT_FIELDS = ("topic", "title", "round", "verified", "checked", "questions", "answer")
CONTENT_FIELDS += ("citations",)
MAX_TITLE_CHARS = 300
MAX_QUESTION_CHARS = 300
KEY_RE = re.compile(r"^[a-z0-9_]{3,100}$")


class FaqError(ValueError):
    """The submitted entry is not valid; ``errors`` maps each field to what to fix."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def citations_text(citations: list[dict[str, Any]]) -> str:
    """Citations as staff edit them: one a line, 'document | article | clause'."""
    lines = []
    for c in citations:
        parts = [c.get("document", ""), c.get("article", ""), c.get("clause", "")]
        lines.append(" | ".join(str(p) for p in parts).rstrip(" |"))
    return "\n".join(lines)


def parse_citations(text: str) -> list[dict[str, str]]:
    citations = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) > 3 or len(parts) < 2 or not parts[0] or not parts[1]:
            raise ValueError(
                f"Dòng {n} của phần nguồn cần dạng 'Văn bản | Điều | khoản (nếu có)', "
                f"ví dụ 'Luật Đặc xá số 30/2018/QH14 | Điều 11 | khoản 1'."
            )
        citation = {"document": parts[0], "article": parts[1]}
        if len(parts) == 3 and parts[2]:
            citation["clause"] = parts[2]
        citations.append(citation)
    return citations


def parse_entry(form: Mapping[str, str], *, max_chars: int) -> dict[str, Any]:
    """The entry fields of a submitted form, or FaqError saying what to fix in each field."""
    errors: dict[str, str] = {}
    topic = form.get("topic", "")
    if topic not in TOPICS:
        errors["topic"] = f"Chủ đề {topic!r} không có trong danh sách; hãy chọn một chủ đề."
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
            errors["citations"] = "Cần ít nhất một nguồn (văn bản và điều)."
    except ValueError as exc:
        errors["citations"] = str(exc)
        citations = []
    if errors:
        raise FaqError(errors)
    return {
        "topic": topic,
        "title": title,
        "round": round_,
        "verified": form.get("verified") == "on",
        "questions": questions,
        "answer": answer,
        "citations": citations,
    }


def preview(
    session: Session,
    fields: Mapping[str, Any],
    *,
    department: str,
    contact: str,
    current_round: str,
) -> list[str]:
    """The chat messages the entry gives, as the answer action renders them."""
    draft = Entry(**{k: fields[k] for k in CONTENT_FIELDS if k in fields})
    round_ = None
    if fields["topic"] == "ask_conditions" and fields["round"] == "law":
        round_ = session.get(Round, current_round)
    return render(
        draft,
        department=department,
        contact=contact,
        current_round=round_,
        case_specific=fields["topic"] in CASE_INTENTS,
    )


def check_messages(messages: list[str], max_chars: int) -> None:
    too_long = [len(m) for m in messages if len(m) > max_chars]
    if too_long:
        raise FaqError(
            {
                "answer": f"Một tin nhắn trả lời dài {max(too_long)} ký tự, quá giới hạn "
                f"{max_chars} ký tự của kênh nhắn tin. Hãy chia đoạn ngắn hơn."
            }
        )


def snapshot(entry: Entry) -> dict[str, Any]:
    """Everything staff can change in an entry, as JSON."""
    return {
        "key": entry.key,
        "topic": entry.topic,
        "title": entry.title,
        "round": entry.round,
        "verified": entry.verified,
        "checked": entry.checked.isoformat(),
        "questions": list(entry.questions),
        "answer": entry.answer,
        "citations": [dict(c) for c in entry.citations],
        "status": entry.status,
    }


def versions(session: Session, entry: Entry) -> list[EntryVersion]:
    """The saved versions of ``entry``, newest first."""
    stmt = (
        select(EntryVersion)
        .where(EntryVersion.entry_id == entry.id)
        .order_by(EntryVersion.number.desc())
    )
    return list(session.scalars(stmt))


def latest_number(session: Session, entry: Entry) -> int:
    stmt = select(func.max(EntryVersion.number)).where(EntryVersion.entry_id == entry.id)
    return session.scalar(stmt) or 0


def get_version(session: Session, entry: Entry, number: int) -> EntryVersion | None:
    return session.scalar(
        select(EntryVersion).where(EntryVersion.entry_id == entry.id, EntryVersion.number == number)
    )


def _save_version(session: Session, entry: Entry, actor: str, note: str) -> EntryVersion:
    number = latest_number(session, entry)
    if number == 0:  # keep the entry as it was loaded, so it can be restored
        session.add(
            EntryVersion(
                entry_id=entry.id,
                number=1,
                saved_by=entry.edited_by,
                note="Trước lần sửa đầu tiên trên trang cán bộ",
                snapshot=snapshot(entry),
            )
        )
        number = 1
    return EntryVersion(entry_id=entry.id, number=number + 1, saved_by=actor, note=note)


def _commit_version(
    session: Session, entry: Entry, version: EntryVersion, actor: str, action: str
) -> EntryVersion:
    entry.edited_by = actor
    version.snapshot = snapshot(entry)
    session.add(version)
    session.flush()
    audit(session, actor, action, entry.key, {"version": version.number, "note": version.note})
    return version


def _check_base(session: Session, entry: Entry, base: int | None) -> None:
    if base is not None and base != latest_number(session, entry):
        raise FaqError(
            {
                "version": "Trong lúc bạn sửa, mục này đã được lưu bởi người khác. Hãy mở "
                "lại trang, xem thay đổi của họ rồi sửa lại."
            }
        )


def create_entry(session: Session, key: str, fields: Mapping[str, Any], *, actor: str) -> Entry:
    """A new entry (version 1), a draft unless ``fields`` say otherwise.

    FaqError if the key is invalid or taken.
    """
    key = key.strip()
    if not KEY_RE.match(key):
        raise FaqError({"key": "Mã mục gồm 3–100 chữ thường không dấu, số hoặc dấu gạch dưới."})
    if session.scalar(select(Entry.id).where(Entry.key == key)) is not None:
        raise FaqError({"key": f"Mã {key!r} đã có; hãy chọn mã khác."})
    position = (session.scalar(select(func.max(Entry.position))) or 0) + 1
    values = {"status": "draft", "checked": vietnam_today()} | dict(fields)
    entry = Entry(key=key, position=position, **values)
    entry.edited_by = actor
    session.add(entry)
    session.flush()
    version = EntryVersion(entry_id=entry.id, number=1, saved_by=actor, note="Tạo mới")
    _commit_version(session, entry, version, actor, "entry_created")
    return entry


def update_entry(
    session: Session,
    entry: Entry,
    fields: Mapping[str, Any],
    *,
    actor: str,
    checked_now: bool = False,
    publish: bool = False,
    base: int | None = None,
) -> EntryVersion:
    """Save new content (and optionally publish it); ``base`` guards against lost updates."""
    _check_base(session, entry, base)
    version = _save_version(session, entry, actor, "Sửa nội dung")
    for name, value in fields.items():
        setattr(entry, name, value)
    if checked_now:
        entry.checked = vietnam_today()
        version.note += ", đã kiểm tra lại"
    if publish and entry.status != "published":
        entry.status = "published"
        version.note += ", xuất bản"
    return _commit_version(session, entry, version, actor, "entry_saved")


def set_status(session: Session, entry: Entry, status: str, *, actor: str) -> EntryVersion:
    """Publish, retire or return an entry to draft."""
    if status not in STATUSES:
        raise FaqError({"status": f"Trạng thái {status!r} không có."})
    version = _save_version(session, entry, actor, f"Chuyển sang: {STATUS_LABELS[status]}")
    entry.status = status
    return _commit_version(session, entry, version, actor, f"entry_{status}")


def restore(session: Session, entry: Entry, number: int, *, actor: str) -> EntryVersion:
    """Bring back the content of version ``number`` (the status stays as it is now)."""
    old = get_version(session, entry, number)
    if old is None:
        raise FaqError({"version": f"Không có phiên bản {number} của mục này."})
    version = _save_version(session, entry, actor, f"Khôi phục phiên bản {number}")
    for name in CONTENT_FIELDS:
        value = old.snapshot[name]
        setattr(entry, name, dt.date.fromisoformat(value) if name == "checked" else value)
    return _commit_version(session, entry, version, actor, "entry_restored")


def describe(snap: Mapping[str, Any]) -> list[str]:
    """A snapshot as lines of text, for reading and for the diff."""
    lines = [
        f"Chủ đề: {snap['topic']}",
        f"Tiêu đề: {snap['title']}",
        f"Đợt: {snap['round']}",
        f"Đã kiểm chứng: {'có' if snap['verified'] else 'chưa'}",
        f"Ngày kiểm tra: {snap['checked']}",
        f"Trạng thái: {STATUS_LABELS.get(snap['status'], snap['status'])}",
        "Câu hỏi mẫu:",
        *(f"  - {q}" for q in snap["questions"]),
        "Trả lời:",
        *snap["answer"].splitlines(),
        "Nguồn:",
        *(f"  - {line}" for line in citations_text(snap["citations"]).splitlines()),
    ]
    return lines


def diff(old: EntryVersion, new: EntryVersion) -> list[str]:
    """Unified diff between two versions (empty when they are the same)."""
    return list(
        difflib.unified_diff(
            describe(old.snapshot),
            describe(new.snapshot),
            f"phiên bản {old.number}",
            f"phiên bản {new.number}",
            lineterm="",
        )
    )


def round_since(session: Session, round_id: str) -> dt.date:
    """The day the current round was set: when this database first saw it as current.

    The first call for a round records it in the audit log (the caller commits).
    """
    seen = session.scalar(
        select(AuditEntry.at)
        .where(AuditEntry.action == "round_first_seen", AuditEntry.target == round_id)
        .order_by(AuditEntry.id)
        .limit(1)
    )
    if seen is None:
        audit(session, None, "round_first_seen", round_id)
        return vietnam_today()
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=dt.UTC)
    return seen.astimezone(VIETNAM).date()


def list_entries(
    session: Session,
    *,
    topic: str | None = None,
    status: str | None = None,
    checked_before: dt.date | None = None,
    text: str | None = None,
) -> list[Entry]:
    """Entries by topic and position, filtered."""
    stmt = select(Entry).order_by(Entry.topic, Entry.position, Entry.id)
    if topic:
        stmt = stmt.where(Entry.topic == topic)
    if status:
        stmt = stmt.where(Entry.status == status)
    if checked_before:
        stmt = stmt.where(Entry.checked < checked_before)
    if text:
        pattern = f"%{text.strip()}%"
        stmt = stmt.where(
            or_(Entry.title.ilike(pattern), Entry.key.ilike(pattern), Entry.answer.ilike(pattern))
        )
    return list(session.scalars(stmt))


def last_checked_by(session: Session, entry: Entry) -> str | None:
    """Who saved the entry with its current check date first (None: as loaded from YAML)."""
    for version in reversed(versions(session, entry)):
        if version.snapshot.get("checked") == entry.checked.isoformat():
            return version.saved_by
    return entry.edited_by
