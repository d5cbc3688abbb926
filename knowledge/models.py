"""Database schema of the knowledge base (SQLAlchemy 2.0 typed models)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from knowledge.clock import utc_now


class Base(DeclarativeBase):
    pass


class Entry(Base):
    """One vetted answer, chosen by topic and by how well its example questions match."""

    __tablename__ = "kb_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    topic: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(300))
    round: Mapped[str] = mapped_column(String(20))
    verified: Mapped[bool] = mapped_column(Boolean)
    checked: Mapped[dt.date] = mapped_column(Date)
    questions: Mapped[list[str]] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="published")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Hash of the YAML version last loaded; None for entries created by staff.
    source_hash: Mapped[str | None] = mapped_column(String(64))
    # Staff account that last edited the entry in the database; None if it is as loaded.
    edited_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    # What the question is about and what the entry answers (docs/knowledge-format.md); last
    # because migration 0002 added them, so a new database has the columns in the same order.
    measure: Mapped[str] = mapped_column(
        String(30), default="amnesty", server_default="amnesty", index=True
    )
    facet: Mapped[str] = mapped_column(String(20), default="overview", server_default="overview")
    lead: Mapped[str] = mapped_column(Text, default="", server_default="")
    minors: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Ids of the legal texts the answer rests on (knowledge/kb/laws.yml).
    laws: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")


class Round(Base):
    """An amnesty round on the calendar: its decision, guidance, cut-off and release dates,
    status and results, each with its source (``sources``), and its rules as data (``rules``:
    the time each group must have served, the exclusions it adds), which the eligibility check
    reads from here, so a staff edit reaches it."""

    __tablename__ = "kb_round"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(300))
    guidance: Mapped[str | None] = mapped_column(String(300))
    release_decision: Mapped[str | None] = mapped_column(String(300))
    cutoff: Mapped[str | None] = mapped_column(String(40))
    verified: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)
    source_hash: Mapped[str | None] = mapped_column(String(64))
    edited_by: Mapped[str | None] = mapped_column(String(100))
    # The calendar and the rules (migration 0002).
    occasion: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(  # ROUND_STATUSES
        String(20), default="unknown", server_default="unknown"
    )
    decision_date: Mapped[dt.date | None] = mapped_column(Date)
    cutoff_date: Mapped[dt.date | None] = mapped_column(Date)
    release_date: Mapped[dt.date | None] = mapped_column(Date)
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")


class Law(Base):
    """A legal text answers rest on, with the dates it takes effect and ends."""

    __tablename__ = "kb_law"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    in_force: Mapped[dt.date | None] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date)
    read: Mapped[str] = mapped_column(String(20))  # text | copy | press | listing


class Recheck(Base):
    """An entry to re-check because a text it rests on took effect or ended on ``changed_on``.

    Unique per (entry, law, date), so several gateways flagging at once add it once.
    """

    __tablename__ = "kb_recheck"
    __table_args__ = (UniqueConstraint("entry_key", "law_id", "changed_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_key: Mapped[str] = mapped_column(String(100), index=True)
    law_id: Mapped[str] = mapped_column(String(60))
    changed_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(400))
    flagged_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- Staff accounts and audit (the staff web app) ----------------------------------------------


class StaffUser(Base):
    """A staff account of the web app; its role says what it may do."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # editor, reviewer or admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    last_login: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class StaffSession(Base):
    """A signed-in staff session, held on the server so that logging out, a password change or
    deactivation ends it, and so that it ends after a while without a request."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # sha256 of the random token the browser's signed cookie carries (never the token itself).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class AuditEntry(Base):
    """One thing a staff member (or someone trying to log in) did; never changed afterwards."""

    __tablename__ = "staff_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    actor: Mapped[str | None] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(*_args: Any) -> None:
    raise ValueError("the audit log is append-only")


class EntryVersion(Base):
    """A full snapshot of an entry as saved by staff (or as loaded, before the first edit)."""

    __tablename__ = "kb_entry_version"
    __table_args__ = (UniqueConstraint("entry_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("kb_entry.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    saved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    saved_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(200), default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)


# --- Families' feedback and complaints ---------------------------------------------------------


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FeedbackItem(Base):
    """One complaint, report, suggestion or question a family sent, in their own words."""

    __tablename__ = "feedback_item"
    # The id is the family's reference number: never reuse one, even after a deletion.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    content: Mapped[str] = mapped_column(Text)
    facility: Mapped[str | None] = mapped_column(String(300), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    sender_id: Mapped[str] = mapped_column(String(255), index=True)  # as wide as Rasa's
    # Identifies one delivery of the message: a retried delivery finds the same item.
    delivery_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    assignee: Mapped[str | None] = mapped_column(String(100))
    answer: Mapped[str | None] = mapped_column(Text)
    excerpt: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_utc_now, index=True
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_utc_now, onupdate=_utc_now
    )
    # Hash of the secret code given with the reference ("tra cứu" needs both); None for
    # items recorded before codes existed.
    lookup_hash: Mapped[str | None] = mapped_column(String(64))

    events: Mapped[list[FeedbackEvent]] = relationship(
        back_populates="item",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="FeedbackEvent.id",
    )


class FeedbackEvent(Base):
    """A status change or an internal note on a feedback item."""

    __tablename__ = "feedback_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_item.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    actor: Mapped[str] = mapped_column(String(100))
    # "status" or "note"
    kind: Mapped[str] = mapped_column(String(10))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    item: Mapped[FeedbackItem] = relationship(back_populates="events")


# --- Channel state (Zalo tokens, deliveries, messages kept while Rasa is down) -----------------


class ChannelToken(Base):
    """A channel's current credential pair (the Zalo OA access and single-use refresh token)."""

    __tablename__ = "channel_token"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Hash of the configured pair this chain started from: a newly configured pair replaces it.
    seed: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ChannelDelivery(Base):
    """An incoming event already accepted, so a channel's retry of it is recognised."""

    __tablename__ = "channel_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    sender: Mapped[str] = mapped_column(String(200), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class KeptMessage(Base):
    """A family's message that Rasa could not answer yet; resent when it is back."""

    __tablename__ = "channel_kept_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str] = mapped_column(String(200), index=True)
    # Exactly what goes to Rasa: typed text (marked) or a payload the assistant offered.
    message: Mapped[str] = mapped_column(Text)
    delivery_key: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class UndeliveredReply(Base):
    """A reply the channel refused for good (e.g. Zalo's 7-day window); kept for staff."""

    __tablename__ = "channel_undelivered"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str] = mapped_column(String(200), index=True)
    text: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class WaitingReply(Base):
    """Replies to a web chat message that was kept while Rasa was down: the page fetches them
    (channels that can push get theirs sent instead)."""

    __tablename__ = "channel_waiting_reply"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str] = mapped_column(String(200), index=True)
    # [{"text": ..., "buttons": [{"title": ..., "payload": ...}]}]
    replies: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


# --- Personal data across hosts ------------------------------------------------------------


class AppSecret(Base):
    """A secret every host must share, kept in the database (the salt of family keys)."""

    __tablename__ = "app_secret"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class ForgottenFamily(Base):
    """A family deleted on request, by salted key only: every host's spool worker deletes the
    drafts of that family it still holds (written before ``forgotten_at``) instead of storing
    them. Kept for the retention period."""

    __tablename__ = "forgotten_family"

    family: Mapped[str] = mapped_column(String(32), primary_key=True)
    forgotten_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


# --- Unanswered questions and ratings ----------------------------------------------------------


class QueuedQuestion(Base):
    """A family's message the assistant could not answer well, masked, waiting for staff."""

    __tablename__ = "queue_question"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asked_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, index=True
    )
    channel: Mapped[str] = mapped_column(String(20), index=True)
    # Salted hash of the sender id (never the id itself): counts families, forgets one.
    family: Mapped[str | None] = mapped_column(String(32), index=True)
    # The message with phone, ID-card numbers and e-mails masked.
    text: Mapped[str] = mapped_column(Text)
    # fallback, did_you_mean, low_confidence, no_match or unhelpful
    reason: Mapped[str] = mapped_column(String(20), index=True)
    intent: Mapped[str | None] = mapped_column(String(60), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    entry_key: Mapped[str | None] = mapped_column(String(100))
    # The entry's saved version when shown; None while it is as loaded from the YAML.
    entry_version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    resolution: Mapped[str | None] = mapped_column(String(200))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AnswerRating(Base):
    """A family's "useful / not useful" on one answer from the knowledge base."""

    __tablename__ = "answer_rating"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    channel: Mapped[str] = mapped_column(String(20))
    family: Mapped[str | None] = mapped_column(String(32), index=True)
    entry_key: Mapped[str] = mapped_column(String(100), index=True)
    entry_version: Mapped[int | None] = mapped_column(Integer)
    rating: Mapped[str] = mapped_column(String(10))  # helpful or unhelpful


class StaffTrainingExample(Base):
    """A question staff rewrote without personal data and marked as an example of an intent."""

    __tablename__ = "queue_training_example"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intent: Mapped[str] = mapped_column(String(60), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


# --- Retraining from the staff app ----------------------------------------------------------


class TrainingRun(Base):
    """One retraining: who asked, the held-out accuracy per split, and whether it was deployed."""

    __tablename__ = "training_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # running, deployed (passed every floor and swapped in), rejected (a split under its
    # floor, the served model kept) or failed (training or evaluation did not finish).
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    # Fingerprint of the repository's training inputs the run started from.
    base_fingerprint: Mapped[str] = mapped_column(String(20))
    staff_examples: Mapped[int] = mapped_column(Integer, default=0)
    # {split: accuracy} on the held-out set, and the floors it was held to.
    accuracy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    floors: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    model_path: Mapped[str | None] = mapped_column(String(500))
    message: Mapped[str | None] = mapped_column(Text)

    # At most one run at a time, even with several gateway replicas starting one at once.
    __table_args__ = (
        Index(
            "ix_training_run_one_running",
            "status",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )
