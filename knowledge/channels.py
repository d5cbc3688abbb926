"""Channel state queries: deliveries seen, messages kept while Rasa is down, tokens.

The caller owns the session and its transaction, as everywhere in ``knowledge``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge.db import rows_matched
from knowledge.models import (
    ChannelDelivery,
    ChannelToken,
    KeptMessage,
    UndeliveredReply,
    WaitingReply,
)

CHANNELS = ("web", "telegram", "zalo", "console", "rest")
# Keys in Redis (bot/shared_state.py): this deployment's prefix, and each sender's buttons.
REDIS_PREFIX = "amnesty"


def buttons_key(prefix: str, sender: str) -> str:
    """The Redis hash of the buttons offered to ``sender`` (deleted when a family is forgotten)."""
    return f"{prefix}:buttons:{sender}"


def channel_of(sender_id: str) -> str:
    """The channel a conversation came from, read from the sender id's prefix.

    >>> channel_of("zalo:123"), channel_of("web:abc"), channel_of("test-1")
    ('zalo', 'web', 'rest')
    """
    prefix, sep, _ = sender_id.partition(":")
    return prefix if sep and prefix in CHANNELS else "rest"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: dt.datetime | None


def record_delivery(session: Session, key: str, *, sender: str) -> bool:
    """Remember the delivery ``key``; False when it was already seen (a retry)."""
    try:
        with session.begin_nested():
            session.add(ChannelDelivery(key=key, sender=sender))
    except IntegrityError:
        return False
    return True


def keep_message(session: Session, *, sender: str, message: str, delivery_key: str) -> int:
    """Store a message to resend to Rasa later; returns its id."""
    kept = KeptMessage(sender=sender, message=message, delivery_key=delivery_key, attempts=1)
    session.add(kept)
    session.flush()
    return kept.id


def kept_messages(
    session: Session, *, sender: str | None = None, limit: int = 200
) -> list[KeptMessage]:
    """The oldest kept messages first (each sender's messages stay in order)."""
    query = select(KeptMessage).order_by(KeptMessage.id).limit(limit)
    if sender is not None:
        query = query.where(KeptMessage.sender == sender)
    return list(session.scalars(query))


def oldest_kept(session: Session, *, sender: str) -> KeptMessage | None:
    """``sender``'s oldest kept message, the only one that may be resent now."""
    return session.scalars(
        select(KeptMessage).where(KeptMessage.sender == sender).order_by(KeptMessage.id).limit(1)
    ).first()


def claim_kept(session: Session, kept_id: int) -> KeptMessage | None:
    """Hold a kept message until the transaction ends; None if gone or held by another gateway.

    On PostgreSQL the row is locked ``FOR UPDATE SKIP LOCKED``: a second gateway replica
    resending at the same time skips it instead of sending it twice, and since callers only
    claim a sender's oldest message, it cannot jump ahead to the next one either. SQLite (one
    gateway) ignores the lock clause.
    """
    item = session.scalars(
        select(KeptMessage)
        .where(KeptMessage.id == kept_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    if item is not None:
        session.expunge(item)
    return item


def count_kept(session: Session, *, sender: str | None = None) -> int:
    query = select(func.count()).select_from(KeptMessage)
    if sender is not None:
        query = query.where(KeptMessage.sender == sender)
    return session.scalar(query) or 0


def note_attempt(session: Session, kept_id: int) -> None:
    session.execute(
        update(KeptMessage)
        .where(KeptMessage.id == kept_id)
        .values(attempts=KeptMessage.attempts + 1)
    )


def drop_kept(session: Session, kept_id: int) -> None:
    """Forget a kept message once it has been answered."""
    session.execute(delete(KeptMessage).where(KeptMessage.id == kept_id))


def record_undelivered(session: Session, *, sender: str, text: str, error: str) -> None:
    """Keep a reply the channel refused for good, so staff can see who was not reached."""
    session.add(UndeliveredReply(sender=sender, text=text, error=error[:300]))


def undelivered(session: Session, *, sender: str | None = None) -> list[UndeliveredReply]:
    query = select(UndeliveredReply).order_by(UndeliveredReply.id)
    if sender is not None:
        query = query.where(UndeliveredReply.sender == sender)
    return list(session.scalars(query))


def keep_replies(session: Session, *, sender: str, replies: list[dict[str, Any]]) -> None:
    """Keep replies for a channel that cannot push (the web chat page fetches them)."""
    session.add(WaitingReply(sender=sender, replies=replies))


def take_replies(session: Session, *, sender: str) -> list[dict[str, Any]]:
    """The replies waiting for ``sender``, oldest first, removed as they are taken."""
    rows = list(
        session.scalars(
            select(WaitingReply).where(WaitingReply.sender == sender).order_by(WaitingReply.id)
        )
    )
    if rows:
        session.execute(delete(WaitingReply).where(WaitingReply.id.in_([r.id for r in rows])))
    return [reply for row in rows for reply in row.replies]


def forget_sender(session: Session, sender: str) -> int:
    """Delete every channel-state row of ``sender``; returns the number of rows."""
    count = 0
    for model in (ChannelDelivery, KeptMessage, UndeliveredReply, WaitingReply):
        result = session.execute(delete(model).where(model.sender == sender))
        count += rows_matched(result)
    return count


def delete_older_than(session: Session, before: dt.datetime) -> int:
    """Retention: delete channel rows (deliveries seen, kept messages, undelivered and waiting
    replies: sender ids and families' words) from before ``before``; returns how many."""
    count = 0
    for model, column in (
        (ChannelDelivery, ChannelDelivery.received_at),
        (KeptMessage, KeptMessage.created_at),
        (UndeliveredReply, UndeliveredReply.created_at),
        (WaitingReply, WaitingReply.created_at),
    ):
        result = session.execute(delete(model).where(column < before))
        count += rows_matched(result)
    return count


def seed_token(session: Session, channel: str, pair: TokenPair) -> bool:
    """Store a configured pair, unless it is the one the stored (rotated) chain started from.

    Returns True when ``pair`` was stored: first start, or the OA was authorised again.
    """
    seed = hashlib.sha256(f"{pair.access_token}\n{pair.refresh_token}".encode()).hexdigest()
    row = session.get(ChannelToken, channel)
    if row is not None and row.seed == seed:
        return False
    if row is None:
        row = ChannelToken(channel=channel)
        session.add(row)
    row.access_token, row.refresh_token = pair.access_token, pair.refresh_token
    row.expires_at, row.seed = pair.expires_at, seed
    session.flush()
    return True


def current_token(session: Session, channel: str) -> TokenPair | None:
    row = session.get(ChannelToken, channel)
    return None if row is None else TokenPair(row.access_token, row.refresh_token, row.expires_at)


def lock_token(session: Session, channel: str) -> TokenPair | None:
    """Read the pair and hold it until the transaction ends, so only one refresh uses it.

    PostgreSQL locks the row (``SELECT ... FOR UPDATE``); SQLite has no row locks, so a no-op
    update first takes its database write lock, which serialises refreshes the same way.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(ChannelToken)
            .where(ChannelToken.channel == channel)
            .values(channel=ChannelToken.channel)
        )
    row = session.scalars(
        select(ChannelToken)
        .where(ChannelToken.channel == channel)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    return None if row is None else TokenPair(row.access_token, row.refresh_token, row.expires_at)


def store_token(session: Session, channel: str, pair: TokenPair) -> None:
    """Replace the channel's pair (call inside the transaction that locked it)."""
    session.execute(
        update(ChannelToken)
        .where(ChannelToken.channel == channel)
        .values(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_at=pair.expires_at,
        )
    )
