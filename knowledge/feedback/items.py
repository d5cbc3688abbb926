"""Families' feedback: recording it once and faithfully, references, look-up and staff workflow.

The caller owns the session: these functions add and flush, the caller commits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import phonenumbers
from sqlalchemy import false, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.clock import VIETNAM
from knowledge.models import FeedbackEvent, FeedbackItem
from vietnamese.text import fold

logger = logging.getLogger(__name__)

KINDS = ("process_complaint", "misconduct", "suggestion", "question")
STATUSES = ("new", "in_progress", "answered", "closed", "rejected")
OPEN_STATUSES = ("new", "in_progress", "answered")
FINAL_STATUSES = ("closed", "rejected")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("in_progress", "rejected"),
    "in_progress": ("answered", "rejected"),
    "answered": ("closed", "rejected"),
    "closed": (),
    "rejected": (),
}

KIND_LABELS = {
    "process_complaint": "Khiếu nại về việc xét đặc xá",
    "misconduct": "Phản ánh sai phạm, đòi hoặc nhận tiền",
    "suggestion": "Góp ý",
    "question": "Câu hỏi gửi cán bộ",
}
STATUS_LABELS = {
    "new": "Mới tiếp nhận",
    "in_progress": "Đang xử lý",
    "answered": "Đã trả lời",
    "closed": "Đã kết thúc",
    "rejected": "Không xem xét (có nêu lý do)",
}

# The family, as the actor of the first event.
FAMILY_ACTOR = "family"


# Column widths of FeedbackItem: identifiers must fit, free text is shortened to fit.
_MAX_KEY = 200
_MAX_SENDER = 255
_MAX_CHANNEL = 20
_MAX_FACILITY = 300
_MAX_NAME = 200
_MAX_PHONE = 40


@dataclass(frozen=True)
class FeedbackDraft:
    """What the conversation gathered, before it is stored (or spooled)."""

    kind: str
    content: str
    channel: str
    sender_id: str
    delivery_key: str | None
    facility: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    urgent: bool = False
    excerpt: tuple[dict[str, Any], ...] = ()
    # Hash of the short secret code the family was given with the reference (lookup.py).
    lookup_hash: str | None = None

    def to_json(self) -> str:
        """The draft as JSON text (for the spool), ASCII only so any string survives a file."""
        data = dataclasses.asdict(self)
        data["excerpt"] = list(self.excerpt)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> FeedbackDraft:
        """The draft written by :meth:`to_json`; raises ValueError on anything else."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a feedback draft must be a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fields in a feedback draft: {sorted(unknown)}")
        for name in ("kind", "content", "channel", "sender_id"):
            if not isinstance(data.get(name), str):
                raise ValueError(f"a feedback draft needs {name} as text")
        for name in ("delivery_key", "facility", "contact_name", "contact_phone", "lookup_hash"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise ValueError(f"{name} must be text or null")
        if not isinstance(data.get("urgent", False), bool):
            raise ValueError("urgent must be true or false")
        excerpt = data.get("excerpt", [])
        if not isinstance(excerpt, list) or not all(isinstance(t, dict) for t in excerpt):
            raise ValueError("excerpt must be a list of objects")
        data["excerpt"] = tuple(excerpt)
        return cls(**data)


# --- Recording ---------------------------------------------------------------------------------


def _storable(text: str) -> str:
    """``text`` as every database stores it: lone surrogates and NUL replaced by U+FFFD.

    Both occur in JSON a channel may deliver, and PostgreSQL refuses NUL in text.
    """
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.replace("\x00", "\ufffd")


def _storable_json(value: Any) -> Any:
    if isinstance(value, str):
        return _storable(value)
    if isinstance(value, dict):
        return {_storable(str(k)): _storable_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return _storable(str(value))


def _fitted(text: str | None, width: int) -> str | None:
    if text is None:
        return None
    text = _storable(text).strip()
    return text[:width] or None


def storable_key(delivery_key: str | None) -> str | None:
    """The delivery key as stored: a key longer than the column is replaced by its hash."""
    if delivery_key is None:
        return None
    key = _storable(delivery_key)
    if len(key) > _MAX_KEY:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def validate(draft: FeedbackDraft) -> None:
    """Raise ValueError, saying what is wrong, if ``draft`` cannot be stored as it is."""
    if draft.kind not in KINDS:
        raise ValueError(f"unknown feedback kind {draft.kind!r}: use one of {', '.join(KINDS)}")
    if not draft.content.strip():
        raise ValueError("the feedback content is empty: ask the family for their message")
    if not draft.channel or len(draft.channel) > _MAX_CHANNEL:
        raise ValueError(f"channel must be 1 to {_MAX_CHANNEL} characters, not {draft.channel!r}")
    if not draft.sender_id or len(draft.sender_id) > _MAX_SENDER:
        raise ValueError(f"sender_id must be 1 to {_MAX_SENDER} characters")
    if draft.delivery_key is not None and not draft.delivery_key:
        raise ValueError("delivery_key must be None or a non-empty text")


def _by_key(session: Session, key: str) -> FeedbackItem | None:
    return session.scalar(select(FeedbackItem).where(FeedbackItem.delivery_key == key))


def record(session: Session, draft: FeedbackDraft) -> FeedbackItem:
    """Store ``draft`` as a new item, or return the item already stored for its delivery key."""
    validate(draft)
    key = storable_key(draft.delivery_key)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has one writer at a time: take the write lock now, so the look-up below
        # cannot race, and so the savepoint nests in a real transaction (Python's sqlite3
        # begins one only before a data change, and releasing an outermost savepoint commits).
        session.execute(update(FeedbackItem).where(false()).values(id=FeedbackItem.id))
    if key is not None:
        existing = _by_key(session, key)
        if existing is not None:
            return existing
    item = FeedbackItem(
        kind=draft.kind,
        content=_storable(draft.content),
        facility=_fitted(draft.facility, _MAX_FACILITY),
        channel=draft.channel,
        sender_id=_storable(draft.sender_id),
        delivery_key=key,
        contact_name=_fitted(draft.contact_name, _MAX_NAME),
        contact_phone=_fitted(draft.contact_phone, _MAX_PHONE),
        urgent=bool(draft.urgent),
        lookup_hash=draft.lookup_hash,
        status="new",
        excerpt=_storable_json(list(draft.excerpt)),
    )
    try:
        # The savepoint keeps the caller's transaction usable when another delivery of the
        # same message won the race to the unique key.
        with session.begin_nested():
            session.add(item)
            session.add(
                FeedbackEvent(item=item, actor=FAMILY_ACTOR, kind="status", to_status="new")
            )
            session.flush()
    except IntegrityError:
        if key is None:
            raise
        existing = _by_key(session, key)
        if existing is None:
            raise
        logger.info("Delivery already stored as feedback item %d", existing.id)
        return existing
    logger.info("Recorded feedback item %d (%s, urgent=%s)", item.id, item.kind, item.urgent)
    return item


# --- References --------------------------------------------------------------------------------

_REFERENCE_RE = re.compile(
    r"(?<![a-z0-9])pa[\s\-_./:#]*(\d{4})[\s\-_./:#]*(\d{6})(?![0-9])", re.IGNORECASE
)


def _local_year(moment: dt.datetime) -> int:
    if moment.tzinfo is None:  # SQLite returns the stored UTC time without its zone
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VIETNAM).year


def reference(item: FeedbackItem) -> str:
    """The number the family is given: "PA-<year in Vietnam>-<id, six digits>"."""
    return f"PA-{_local_year(item.created_at)}-{item.id:06d}"


def _reference_parts(text: str) -> tuple[int, int] | None:
    folded = unicodedata.normalize("NFKC", fold(text))
    match = _REFERENCE_RE.search(folded)
    if match is None:
        return None
    year, number = int(match.group(1)), int(match.group(2))
    if number == 0 or not 2000 <= year <= 2999:
        return None
    return year, number


def parse_reference(text: str) -> int | None:
    """The item id of the first reference in ``text`` ("tra cứu PA-2026-000123" → 123).

    >>> parse_reference("tra cuu pa 2026 000123")
    123
    >>> parse_reference("PA-2026-12") is None
    True
    """
    parts = _reference_parts(text)
    return parts[1] if parts else None


# --- Look-up by the family ---------------------------------------------------------------------


def normalize_phone(text: str | None) -> str | None:
    """A phone number in E.164 form (+84 912 345 678 and 0912.345.678 → "+84912345678")."""
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", text)
        return digits or None
    national = str(number.national_number)
    if not national or national == "0":
        return None
    return f"+{number.country_code}{national}"


def lookup_hash(delivery_key: str | None, code: str) -> str:
    """What is stored of a look-up code: a hash, salted with the item's delivery key."""
    return hashlib.sha256(f"{storable_key(delivery_key) or ''}\n{code}".encode()).hexdigest()


def look_up(
    session: Session,
    reference: str,
    *,
    code: str | None = None,
    sender_id: str | None = None,
) -> FeedbackItem | None:
    """The item of ``reference`` if the asker gave its secret code (told to the family when it
    was recorded). An item recorded before codes existed is found only from its own
    conversation. Anything else gives None, so a guessed number reveals nothing."""
    parts = _reference_parts(reference)
    if parts is None:
        return None
    year, item_id = parts
    item = session.get(FeedbackItem, item_id)
    if item is None or _local_year(item.created_at) != year:
        return None
    if item.lookup_hash is None:
        return item if sender_id is not None and sender_id == item.sender_id else None
    if code and hmac.compare_digest(item.lookup_hash, lookup_hash(item.delivery_key, code)):
        return item
    return None


def items_of_sender(session: Session, sender_id: str) -> list[FeedbackItem]:
    """The items one conversation sent, newest first."""
    return list(
        session.scalars(
            select(FeedbackItem)
            .where(FeedbackItem.sender_id == sender_id)
            .order_by(FeedbackItem.created_at.desc(), FeedbackItem.id.desc())
        )
    )


# --- Staff workflow ----------------------------------------------------------------------------


def _event(session: Session, item: FeedbackItem, **fields: Any) -> FeedbackEvent:
    event = FeedbackEvent(item=item, **fields)
    session.add(event)
    item.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    return event


def change_status(
    session: Session, item: FeedbackItem, to: str, *, actor: str, note: str | None = None
) -> FeedbackEvent:
    """Move ``item`` to status ``to``; raises ValueError for a move that is not allowed."""
    if to not in STATUSES:
        raise ValueError(f"unknown status {to!r}: use one of {', '.join(STATUSES)}")
    current = item.status
    if current in FINAL_STATUSES:
        raise ValueError(
            f"item {item.id} is {current}: a closed or rejected item cannot change status"
        )
    allowed = TRANSITIONS[current]
    if to not in allowed:
        raise ValueError(
            f"item {item.id} cannot go from {current} to {to}: allowed next: {', '.join(allowed)}"
        )
    note = note.strip() if note else None
    if to == "rejected" and not note:
        raise ValueError("rejecting an item needs the reason in the note")
    item.status = to
    return _event(
        session, item, actor=actor, kind="status", from_status=current, to_status=to, note=note
    )


def add_note(session: Session, item: FeedbackItem, note: str, *, actor: str) -> FeedbackEvent:
    """Add an internal note (never shown to the family)."""
    if not note.strip():
        raise ValueError("the note is empty")
    return _event(session, item, actor=actor, kind="note", note=_storable(note.strip()))


def assign(
    session: Session, item: FeedbackItem, assignee: str | None, *, actor: str
) -> FeedbackEvent:
    """Give ``item`` to a staff member (None: to nobody); the history keeps who did it."""
    item.assignee = assignee
    note = f"Giao cho {assignee}." if assignee else "Bỏ giao việc."
    return _event(session, item, actor=actor, kind="note", note=note)


def set_answer(session: Session, item: FeedbackItem, answer: str, *, actor: str) -> FeedbackEvent:
    """Store the answer the family sees on look-up (the status is changed separately)."""
    if not answer.strip():
        raise ValueError("the answer is empty")
    if item.status in FINAL_STATUSES:
        raise ValueError(f"item {item.id} is {item.status}: its answer can no longer change")
    item.answer = _storable(answer.strip())
    return _event(session, item, actor=actor, kind="note", note="Cập nhật câu trả lời.")


# --- Urgency -----------------------------------------------------------------------------------

_NOT = r"(?:khong|ko|k|hok|hong|khg|chua|cha)"
_MANY = r"(?:\d+|may|nhieu|ca|mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi|vai)"
# People a family writes about. Not "bà", "cô", "chú": "đánh bạ", "đánh cờ", "đánh chữ"
# fold to the same letters.
_PERSON = (
    r"(?:toi|em|anh|chi|chong|vo|con|bo|me|cha|ong|ba toi|ba em|ba xa|no|ho|nguoi nha|"
    r"nguoi than|phu huynh|nguoi ta)"
)

# "ăn" (eat) but not "an toàn", "an tâm", "ăn thua", "ân xá", "ăn hối lộ"...
_EAT = (
    r"(?:an|chiu an|an uong)"
    r"(?! toan| tam| ninh| ui| binh| thua| phan| hoi| tien| chia| xa| treo| giam| tich| le| trom)"
)
_DAYS = r"(?:ngay|hom|bua|tuan)"

_URGENT_PHRASES = (
    # health emergency
    "cap cuu|nguy kich|hap hoi|bat tinh|ngat xiu|ngat lim|hon me|co giat|dot quy|dau tim",
    "nhoi mau|suy tim|ho ra mau|non ra mau|chay mau|mat mau|kho tho|sot cao|benh nang|om nang",
    "benh tro nang|giai doan cuoi|liet giuong|dau du doi|suy kiet|sap chet|tinh mang",
    "tu vong|qua doi|chet|bi liet",
    _NOT + " tho duoc",
    # not eating, denied care
    "bo an|tuyet thuc|nhin an|bi bo doi",
    _NOT + " (?:duoc )?" + _EAT + r"\b",
    _NOT + " cho (?:an|uong|(?:di )?(?:kham|chua|vien|benh vien|uong thuoc|cap cuu))",
    _DAYS + r"(?: \w+){0,5} " + _NOT + " (?:duoc )?" + _EAT + r"\b",
    # mistreatment
    "danh dap|bi danh(?! gia| so| thue| dau| vao long)",
    "danh (?:cho )?" + _PERSON,
    "danh (?:den|toi|chet|gay|bam|trong thuong|hoi dong)|bam dap|bam tim",
    "hanh hung|hanh ha|nguoc dai|tra tan|nhuc hinh|bao hanh|bao luc|buc cung|ep cung",
    "bi dam|bi chem|bi thuong|gay xuong|gay tay|gay chan|xam hai|hiep dam|bi hiep|cuong buc",
    "doa giet|doi giet|giet|bat nat",
    # self-harm
    "tu sat|tu hai|tu lam hai|tu rach|rach tay|cat tay|cat co tay|nhay lau|nhay cau",
    "thuoc chuot|thuoc ngu|thuoc tru sau|muon chet|chan song|tim den cai chet|ket lieu",
    "quyen sinh|tu thieu|y dinh tu van|toan tu van",
    _NOT + " muon song",
    # calls for help ("cựu phạm nhân", "cứu xét" are not)
    "cuu (?:voi|giup|" + _PERSON + ")(?! xet)|khan cap|113|115",
)
# Matched on the folded text (lower case, no diacritics): unambiguous however typed.
_URGENT_FOLDED = re.compile(r"\b(?:" + "|".join(_URGENT_PHRASES) + r")\b")

# Phrases whose folded form is an ordinary phrase too ("tự tử"/"từ từ", "tự vẫn"/"tư vấn",
# "thắt cổ"/"thật có", "treo cổ"/"treo cờ", "bỏ đói"/"bộ đội"): matched as typed. Without
# diacritics only where the ordinary phrase is rare in a complaint ("tu van" is not).
_URGENT_AS_TYPED = re.compile(
    r"(?<!\w)(?:tự tử|tự tủ|tu tử|tu tu|tự vẫn|thắt cổ|treo cổ|treo co|bỏ đói)(?!\w)"
)


def is_urgent(text: str) -> bool:
    """Whether ``text`` tells of a danger to life: health emergency, beating, self-harm, hunger.

    Conservative: a false alarm costs a reviewer a minute, a missed one may cost a life.

    >>> is_urgent("Chồng tôi bị đánh trong trại, mấy ngày nay không ăn")
    True
    >>> is_urgent("Tôi muốn hỏi hồ sơ đặc xá cần những gì")
    False
    """
    lowered = unicodedata.normalize("NFC", text).lower()
    folded = re.sub(r"\s+", " ", fold(lowered))
    if _URGENT_FOLDED.search(folded):
        return True
    return bool(_URGENT_AS_TYPED.search(re.sub(r"\s+", " ", lowered)))
