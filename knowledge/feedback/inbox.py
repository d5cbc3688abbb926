"""Queries behind the staff inbox of families' feedback: filters, counts, paging, export rows.

The caller owns the session, as everywhere in ``knowledge``. Dates in filters are days on
Vietnam's clock; stored times are UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from knowledge.clock import as_utc, vietnam_midnight, vn_date_time
from knowledge.feedback.items import (
    KIND_LABELS,
    KINDS,
    OPEN_STATUSES,
    STATUS_LABELS,
    STATUSES,
    parse_reference,
    reference,
)
from knowledge.masking import mask, mask_name
from knowledge.models import ChannelDelivery, FeedbackItem, StaffUser

PER_PAGE = 50
MAX_TEXT = 200
# Channels the conversation records (actions/feedback.py: the sender's prefix, else "rest").
KNOWN_CHANNELS = ("rest", "web", "telegram", "zalo")
CHANNEL_LABELS = {
    "rest": "REST (thử nghiệm, tích hợp)",
    "web": "Trò chuyện trên web",
    "telegram": "Telegram",
    "zalo": "Zalo",
}
HANDLER_ROLES = ("reviewer", "admin")


@dataclass(frozen=True)
class InboxFilter:
    """What the reviewer asked to see; every field None means "all"."""

    status: str | None = None
    kind: str | None = None
    facility: str | None = None
    channel: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    text: str | None = None

    def query(self) -> dict[str, str]:
        """The filter as URL query parameters (the inverse of :func:`parse_filter`)."""
        values = {
            "status": self.status,
            "kind": self.kind,
            "facility": self.facility,
            "channel": self.channel,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "q": self.text,
        }
        return {k: v for k, v in values.items() if v}


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _text(value: str | None) -> str | None:
    value = (value or "").strip()[:MAX_TEXT]
    return value or None


def parse_filter(params: Mapping[str, str]) -> InboxFilter:
    """The filter from query parameters; unknown values are ignored, not errors."""
    status = params.get("status")
    kind = params.get("kind")
    channel = _text(params.get("channel"))
    return InboxFilter(
        status=status if status in STATUSES else None,
        kind=kind if kind in KINDS else None,
        facility=_text(params.get("facility")),
        channel=channel[:20] if channel else None,
        date_from=_date(params.get("from")),
        date_to=_date(params.get("to")),
        text=_text(params.get("q")),
    )


_SQLITE_LOWER = "amnesty_lower"


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def _unicode_lower(session: Session) -> bool:
    """On SQLite (whose lower() knows only ASCII), give the connection a Unicode lower().

    Returns whether the query must use it; PostgreSQL's ILIKE already folds "Đ" to "đ".
    """
    if session.get_bind().dialect.name != "sqlite":
        return False
    raw = session.connection().connection.driver_connection
    assert raw is not None  # a checked-out connection has its driver's connection
    raw.create_function(_SQLITE_LOWER, 1, _lower, deterministic=True)
    return True


def _contains(column: Any, text: str, unicode_lower: bool) -> Any:
    if unicode_lower:
        return getattr(func, _SQLITE_LOWER)(column).contains(text.lower(), autoescape=True)
    return column.icontains(text, autoescape=True)


def conditions(
    f: InboxFilter, *, with_status: bool = True, unicode_lower: bool = False
) -> list[Any]:
    """The WHERE clauses of ``f`` (without the status one when ``with_status`` is False).

    ``unicode_lower`` is for SQLite, after :func:`_unicode_lower` taught the connection.
    """
    item = FeedbackItem
    where: list[Any] = []
    if with_status and f.status:
        where.append(item.status == f.status)
    if f.kind:
        where.append(item.kind == f.kind)
    if f.facility:
        where.append(_contains(item.facility, f.facility, unicode_lower))
    if f.channel:
        where.append(item.channel == f.channel)
    if f.date_from:
        where.append(item.created_at >= vietnam_midnight(f.date_from))
    if f.date_to:
        where.append(item.created_at < vietnam_midnight(f.date_to + dt.timedelta(days=1)))
    if f.text:
        columns = (item.content, item.facility, item.contact_name, item.contact_phone, item.answer)
        words = [_contains(column, f.text, unicode_lower) for column in columns]
        wanted = parse_reference(f.text)
        if wanted is not None:
            words.append(item.id == wanted)
        where.append(or_(*words))
    return where


def _ordered(query: Select[Any]) -> Select[Any]:
    """Urgent items still open first, then newest first."""
    urgent_open = case(
        (and_(FeedbackItem.urgent.is_(True), FeedbackItem.status.in_(OPEN_STATUSES)), 0),
        else_=1,
    )
    return query.order_by(urgent_open, FeedbackItem.created_at.desc(), FeedbackItem.id.desc())


@dataclass(frozen=True)
class InboxPage:
    """One page of the list."""

    items: list[FeedbackItem]
    total: int
    page: int
    pages: int
    per_page: int


def search(
    session: Session, f: InboxFilter, *, page: int = 1, per_page: int = PER_PAGE
) -> InboxPage:
    """The items matching ``f``, urgent open ones first then newest first, one page of them."""
    where = conditions(f, unicode_lower=_unicode_lower(session))
    total = session.scalar(select(func.count()).select_from(FeedbackItem).where(*where)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = session.scalars(
        _ordered(select(FeedbackItem).where(*where)).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return InboxPage(list(items), total, page, pages, per_page)


def matching(session: Session, f: InboxFilter, *, limit: int | None = None) -> list[FeedbackItem]:
    """Every item matching ``f`` in list order (for an export)."""
    where = conditions(f, unicode_lower=_unicode_lower(session))
    query = _ordered(select(FeedbackItem).where(*where))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def status_counts(session: Session, f: InboxFilter) -> dict[str, int]:
    """How many items of each status match ``f`` apart from its status (every status listed)."""
    rows = session.execute(
        select(FeedbackItem.status, func.count())
        .where(*conditions(f, with_status=False, unicode_lower=_unicode_lower(session)))
        .group_by(FeedbackItem.status)
    ).all()
    found = {status: count for status, count in rows}
    return {status: found.get(status, 0) for status in STATUSES}


def channels_in_use(session: Session) -> list[str]:
    """The known channels and any other channel an item was recorded from."""
    stored = session.scalars(select(FeedbackItem.channel).distinct()).all()
    return list(KNOWN_CHANNELS) + sorted(set(stored) - set(KNOWN_CHANNELS))


def handlers(session: Session) -> list[str]:
    """Usernames of the active accounts that may be given an item."""
    return list(
        session.scalars(
            select(StaffUser.username)
            .where(StaffUser.active.is_(True), StaffUser.role.in_(HANDLER_ROLES))
            .order_by(StaffUser.username)
        )
    )


def last_message_at(session: Session, sender: str) -> dt.datetime | None:
    """When the channel last delivered a message from ``sender`` (UTC), or None."""
    value = session.scalar(
        select(func.max(ChannelDelivery.received_at)).where(ChannelDelivery.sender == sender)
    )
    return as_utc(value) if value is not None else None


@dataclass(frozen=True)
class Row:
    """An item as the list and the exports show it."""

    id: int
    reference: str
    created: str
    kind: str
    status: str
    status_label: str
    urgent: bool
    facility: str
    channel: str
    contact_name: str
    contact_phone: str
    assignee: str
    content: str
    answer: str


def to_row(item: FeedbackItem, *, masked: bool = True) -> Row:
    """``item`` with phone, ID-card numbers and names masked unless ``masked`` is False."""
    hide = mask if masked else str
    name = item.contact_name or ""
    return Row(
        id=item.id,
        reference=reference(item),
        created=vn_date_time(item.created_at),
        kind=KIND_LABELS.get(item.kind, item.kind),
        status=item.status,
        status_label=STATUS_LABELS.get(item.status, item.status),
        urgent=bool(item.urgent),
        facility=hide(item.facility or ""),
        channel=CHANNEL_LABELS.get(item.channel, item.channel),
        contact_name=mask_name(name) if masked else name,
        contact_phone=hide(item.contact_phone or ""),
        assignee=item.assignee or "",
        content=hide(item.content),
        answer=hide(item.answer or ""),
    )
