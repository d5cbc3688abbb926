"""Entries know their measure, facet, lead and the laws they rest on; rounds are a calendar
with their rules; the table of laws and the entries to re-check when a law changes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("kb_entry") as batch:
        batch.add_column(
            sa.Column("measure", sa.String(30), nullable=False, server_default="amnesty")
        )
        batch.add_column(
            sa.Column("facet", sa.String(20), nullable=False, server_default="overview")
        )
        batch.add_column(sa.Column("lead", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("minors", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("laws", sa.JSON(), nullable=False, server_default="[]"))
        batch.create_index("ix_kb_entry_measure", ["measure"])
    with op.batch_alter_table("kb_round") as batch:
        batch.add_column(sa.Column("occasion", sa.String(200), nullable=True))
        batch.add_column(
            sa.Column("status", sa.String(20), nullable=False, server_default="unknown")
        )
        batch.add_column(sa.Column("decision_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("cutoff_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("release_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("results", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("sources", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("rules", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "kb_law",
        sa.Column("id", sa.String(60), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("in_force", sa.Date(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("read", sa.String(20), nullable=False),
    )
    op.create_table(
        "kb_recheck",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_key", sa.String(100), nullable=False),
        sa.Column("law_id", sa.String(60), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("entry_key", "law_id", "changed_on"),
    )
    op.create_index("ix_kb_recheck_entry_key", "kb_recheck", ["entry_key"])


def downgrade() -> None:
    op.drop_index("ix_kb_recheck_entry_key", "kb_recheck")
    op.drop_table("kb_recheck")
    op.drop_table("kb_law")
    with op.batch_alter_table("kb_round") as batch:
        for column in (
            "rules",
            "sources",
            "results",
            "release_date",
            "cutoff_date",
            "decision_date",
            "status",
            "occasion",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("kb_entry") as batch:
        batch.drop_index("ix_kb_entry_measure")
        for column in ("laws", "minors", "lead", "facet", "measure"):
            batch.drop_column(column)
