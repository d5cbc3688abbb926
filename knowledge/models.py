"""Database schema of the knowledge base (SQLAlchemy 2.0 typed models)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


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


class Round(Base):
    """An amnesty round: its decision, guidance, cut-off date and what is verified."""

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


# --- Staff accounts and audit (the staff web app) ----------------------------------------------


# --- Families' feedback and complaints ---------------------------------------------------------


# --- Channel state (Zalo tokens, deliveries, messages kept while Rasa is down) -----------------
