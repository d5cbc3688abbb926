"""The family's messages as the tracker holds them (Rasa keeps the raw text in its events)."""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from vietnamese.text import fold

# "dừng", "hủy", "thôi"...: the family stops the form it is in (nothing is kept).
STOP = re.compile(
    r"^\W*(dung|dung lai|huy|huy bo|thoi|ngung|stop|khong kiem tra nua|khong gui nua|"
    r"thoi khong hoi nua)\W*$"
)


def typed_texts(tracker: Tracker) -> list[str]:
    """Every user message of the conversation, exactly as sent, oldest first."""
    return [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]


def raw_text(tracker: Tracker) -> str:
    """The latest message exactly as sent (the model sees a normalised copy, cut to its limit)."""
    texts = typed_texts(tracker)
    return texts[-1].strip() if texts else ""


def starting_text(tracker: Tracker) -> str:
    """The words that started a form: the latest typed message among the last few, since a
    button press ("/check_eligibility") follows the message it is about."""
    return next((t for t in reversed(typed_texts(tracker)[-4:]) if not t.startswith("/")), "")


def stopped(tracker: Tracker) -> bool:
    """Whether the latest message asks to stop the form."""
    return bool(STOP.match(fold((tracker.latest_message or {}).get("text") or "")))
