"""Baseline: every table as Base.metadata.create_all made it before migrations.

Revision ID: 0001
Revises:
Create Date: 2026-12-01

A database made earlier by create_all is adopted at this revision: the tables it has are kept
as they are and only the ones it lacks are created (knowledge.migrations logs which).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_existing: set[str] = set()


def _create(name: str, *elements: Any, indexed: tuple[str, ...] = (), **kw: Any) -> bool:
    """Create table ``name`` with an index ``ix_<name>_<column>`` per ``indexed`` column,
    unless the database already has it; returns whether it was created."""
    if name in _existing:
        return False
    op.create_table(name, *elements, **kw)
    for column in indexed:
        op.create_index(f"ix_{name}_{column}", name, [column])
    return True


def upgrade() -> None:
    _existing.clear()
    if not context.is_offline_mode():
        _existing.update(sa.inspect(op.get_bind()).get_table_names())

    _create(
        "kb_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("round", sa.String(length=20), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("checked", sa.Date(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=True),
        sa.Column("edited_by", sa.String(length=100), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        indexed=("topic",),
    )
    _create(
        "kb_round",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=300), nullable=False),
        sa.Column("guidance", sa.String(length=300), nullable=True),
        sa.Column("release_decision", sa.String(length=300), nullable=True),
        sa.Column("cutoff", sa.String(length=40), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=True),
        sa.Column("edited_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )

    # --- staff accounts and audit
    _create(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    _create(
        "staff_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        indexed=("action", "actor", "at"),
    )
    _create(
        "kb_entry_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=100), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id", "number"),
        sa.ForeignKeyConstraint(["entry_id"], ["kb_entry.id"]),
        indexed=("entry_id",),
    )

    # --- families' feedback
    _create(
        "feedback_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("facility", sa.String(length=300), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("delivery_key", sa.String(length=200), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("excerpt", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_key"),
        # Reference numbers are never reused, even after a deletion.
        sqlite_autoincrement=True,
        indexed=("created_at", "facility", "kind", "sender_id", "status", "urgent"),
    )
    _create(
        "feedback_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["feedback_item.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        indexed=("item_id",),
    )

    # --- channel state
    _create(
        "channel_token",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("channel"),
    )
    _create(
        "channel_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        indexed=("sender",),
    )
    _create(
        "channel_kept_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("delivery_key", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        indexed=("sender",),
    )
    _create(
        "channel_undelivered",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        indexed=("sender",),
    )

    # --- unanswered questions, ratings, training examples
    _create(
        "queue_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("intent", sa.String(length=60), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("entry_key", sa.String(length=100), nullable=True),
        sa.Column("entry_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("resolution", sa.String(length=200), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        indexed=("asked_at", "channel", "family", "intent", "reason", "status"),
    )
    _create(
        "answer_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=True),
        sa.Column("entry_key", sa.String(length=100), nullable=False),
        sa.Column("entry_version", sa.Integer(), nullable=True),
        sa.Column("rating", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        indexed=("entry_key", "family"),
    )
    _create(
        "queue_training_example",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intent", sa.String(length=60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        indexed=("intent",),
    )

    # --- retraining from the staff app
    if _create(
        "training_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("base_fingerprint", sa.String(length=20), nullable=False),
        sa.Column("staff_examples", sa.Integer(), nullable=False),
        sa.Column("accuracy", sa.JSON(), nullable=True),
        sa.Column("floors", sa.JSON(), nullable=True),
        sa.Column("model_path", sa.String(length=500), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        indexed=("status",),
    ):
        # At most one run at a time.
        op.create_index(
            "ix_training_run_one_running",
            "training_run",
            ["status"],
            unique=True,
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        )


def downgrade() -> None:
    for name in (
        "training_run",
        "queue_training_example",
        "answer_rating",
        "queue_question",
        "channel_undelivered",
        "channel_kept_message",
        "channel_delivery",
        "channel_token",
        "feedback_event",
        "feedback_item",
        "kb_entry_version",
        "staff_audit",
        "staff_user",
        "kb_round",
        "kb_entry",
    ):
        op.drop_table(name)
