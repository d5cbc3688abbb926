"""Vietnam's clock, and stored times made aware (SQLite returns UTC times without a zone).

Vietnam has no summer time, so a fixed UTC+7 zone is exact and needs no tz database.
"""

from __future__ import annotations

import datetime as dt

VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored time with its zone: a naive value is UTC, as SQLite keeps them."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def vietnam_today(now: dt.datetime | None = None) -> dt.date:
    """The date on Vietnam's clock at ``now`` (default: this moment)."""
    return as_utc(now or utc_now()).astimezone(VIETNAM).date()


def vietnam_midnight(day: dt.date) -> dt.datetime:
    """The start of ``day`` on Vietnam's clock, as a UTC time (as times are stored)."""
    return dt.datetime.combine(day, dt.time(), VIETNAM).astimezone(dt.UTC)


def vn_date_time(value: dt.datetime | None, empty: str = "") -> str:
    """A stored time as Vietnam's clock shows it, e.g. "05/03/2026 14:30"."""
    if value is None:
        return empty
    return as_utc(value).astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")
