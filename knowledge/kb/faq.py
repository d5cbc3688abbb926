"""Staff editing of the FAQ entries: validation, preview, versions, status, diff, restore.

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

from knowledge.clock import vietnam_today
from knowledge.kb.choose import Pick
from knowledge.kb.compose import compose
from knowledge.kb.faq_form import FACET_LABELS, MEASURE_LABELS, FaqError, citations_text
from knowledge.kb.reading import Question
from knowledge.kb.rechecks import close_rechecks, open_keys
from knowledge.kb.rounds import calendar, now_line
from knowledge.models import Entry, EntryVersion, Law
from knowledge.staff import audit

STATUSES = ("draft", "published", "retired")
STATUS_LABELS = {"draft": "Bản nháp", "published": "Đang dùng", "retired": "Ngừng dùng"}
CONTENT_FIELDS: tuple[str, ...]
CONTENT_FIELDS = ("topic", "title", "round", "verified", "checked", "questions", "answer")
CONTENT_FIELDS += ("citations", "measure", "facet", "lead", "minors", "laws")
# What a snapshot saved before an entry had these fields stands for.
FIELD_DEFAULTS: dict[str, Any] = {
    "measure": "amnesty",
    "facet": "overview",
    "lead": "",
    "minors": False,
    "laws": [],
}
KEY_RE = re.compile(r"^[a-z0-9_]{3,100}$")


def known_laws(session: Session) -> dict[str, str]:
    """The legal texts entries may rest on (``laws.yml``, loaded): id → name, by name."""
    return dict(session.execute(select(Law.id, Law.name).order_by(Law.name)).tuples().all())


def draft_entry(fields: Mapping[str, Any]) -> Entry:
    """An unsaved entry with ``fields`` (a form's or a snapshot's), to compose a preview."""
    values = {name: fields.get(name, FIELD_DEFAULTS.get(name)) for name in CONTENT_FIELDS}
    values.pop("checked")
    return Entry(key=fields.get("key") or "", **values)


def preview(
    session: Session,
    fields: Mapping[str, Any],
    *,
    department: str,
    contact: str,
    today: dt.date,
) -> list[str]:
    """The chat messages the entry gives when it answers a question alone, as ``compose``
    makes them: asked its own title, with the calendar's "now" where the chat adds it."""
    entry = draft_entry(fields)
    question = Question(entry.title, entry.measure, entry.facet, True)
    now = now_line(calendar(session), today) if entry.measure == "amnesty" else None
    composed = compose(
        [Pick(question, entry, 0.0)], department=department, contact=contact, now=now
    )
    return composed.messages


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
        "measure": entry.measure,
        "facet": entry.facet,
        "lead": entry.lead,
        "minors": entry.minors,
        "laws": list(entry.laws or []),
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
    close_rechecks(session, entry)  # those its check date now covers
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
        if name not in old.snapshot:  # saved before the entry had this field: keep it
            continue
        value = old.snapshot[name]
        setattr(entry, name, dt.date.fromisoformat(value) if name == "checked" else value)
    return _commit_version(session, entry, version, actor, "entry_restored")


def describe(snap: Mapping[str, Any]) -> list[str]:
    """A snapshot as lines of text, for reading and for the diff."""
    snap = {**FIELD_DEFAULTS, **snap}
    return [
        f"Chủ đề: {snap['topic']}",
        f"Biện pháp: {MEASURE_LABELS.get(snap['measure'], snap['measure'])}",
        f"Khía cạnh: {FACET_LABELS.get(snap['facet'], snap['facet'])}",
        f"Tiêu đề: {snap['title']}",
        f"Đợt: {snap['round']}",
        f"Quy định riêng cho người dưới 18 tuổi: {'có' if snap['minors'] else 'không'}",
        f"Đã kiểm chứng: {'có' if snap['verified'] else 'chưa'}",
        f"Ngày kiểm tra: {snap['checked']}",
        f"Trạng thái: {STATUS_LABELS.get(snap['status'], snap['status'])}",
        f"Văn bản làm căn cứ: {', '.join(snap['laws']) or '(chưa ghi)'}",
        "Câu hỏi mẫu:",
        *(f"  - {q}" for q in snap["questions"]),
        "Trả lời ngắn:",
        *snap["lead"].splitlines(),
        "Trả lời:",
        *snap["answer"].splitlines(),
        "Nguồn:",
        *(f"  - {line}" for line in citations_text(snap["citations"]).splitlines()),
    ]


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


def list_entries(
    session: Session,
    *,
    topic: str | None = None,
    status: str | None = None,
    recheck: bool = False,
    text: str | None = None,
) -> list[Entry]:
    """Entries by topic and position, filtered (``recheck``: only those with an open
    re-check)."""
    stmt = select(Entry).order_by(Entry.topic, Entry.position, Entry.id)
    if topic:
        stmt = stmt.where(Entry.topic == topic)
    if status:
        stmt = stmt.where(Entry.status == status)
    if recheck:
        stmt = stmt.where(Entry.key.in_(open_keys()))
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
