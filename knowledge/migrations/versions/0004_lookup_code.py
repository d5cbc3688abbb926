"""The secret code given with a feedback reference: "tra cứu" needs both.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # SQLite: copy the table (batch mode), so its schema reads exactly as create_all writes it;
    # the copy keeps AUTOINCREMENT (reference numbers are never reused). PostgreSQL: ALTER.
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "feedback_item",
        recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True},
    ) as batch:
        batch.add_column(sa.Column("lookup_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback_item", table_kwargs={"sqlite_autoincrement": True}) as b:
        b.drop_column("lookup_hash")
