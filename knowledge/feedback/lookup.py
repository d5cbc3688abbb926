""" "tra cứu PA-…": the secret code given with a reference, and the throttle on look-ups.

When an item is recorded the family gets its reference and a six-digit code; only the hash of
the code is stored (salted with the item's delivery key). A look-up needs both, so a phone
number (not a secret) or a walked sequence of references reveals nothing. Look-ups are
counted before they are checked, per reference and per conversation (``AMNESTY_LOOKUP_RATE``,
in Redis when the action servers share one), and every one is audited.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from knowledge.feedback.items import FeedbackDraft, lookup_hash
from knowledge.feedback.spool import with_delivery_key
from settings import Settings

CODE_DIGITS = 6
_CODE = re.compile(r"(?<![\d-])(\d{6})(?![\d-])")
_REFERENCE = re.compile(r"(?i)pa[\s\-_./:#]*\d{4}[\s\-_./:#]*\d{1,6}")


def new_code() -> str:
    """A fresh six-digit code (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def with_code(draft: FeedbackDraft, code: str) -> FeedbackDraft:
    """``draft`` carrying the hash of ``code`` (and the delivery key the hash is salted with)."""
    draft = with_delivery_key(draft)
    return dataclasses.replace(draft, lookup_hash=lookup_hash(draft.delivery_key, code))


def code_in(text: str) -> str | None:
    """The six-digit code of a look-up message, the reference itself set aside.

    >>> code_in("tra cứu PA-2026-000123 mã 048213")
    '048213'
    >>> code_in("tra cứu PA-2026-000123") is None
    True
    """
    match = _CODE.search(_REFERENCE.sub(" ", text))
    return match.group(1) if match else None


class LookupThrottle:
    """Counts look-ups per reference and per conversation before they are checked."""

    def __init__(self, rate: str, storage: Storage) -> None:
        try:
            self.rate: RateLimitItem = parse(rate)
        except ValueError:
            raise SystemExit(f"AMNESTY_LOOKUP_RATE must look like '5/hour', not {rate!r}") from None
        self.limiter = MovingWindowRateLimiter(storage)

    def allow(self, reference: str, sender_id: str) -> bool:
        """Count this look-up; False when the reference or the conversation is over the rate."""
        return self.limiter.hit(self.rate, "reference", reference) and self.limiter.hit(
            self.rate, "sender", sender_id
        )


@lru_cache(maxsize=4)
def throttle(settings: Settings) -> LookupThrottle:
    """The process's throttle (shared through Redis when ``AMNESTY_REDIS_URL`` is set)."""
    storage: Storage = (
        RedisStorage(settings.redis_url, key_prefix="amnesty:lookup", wrap_exceptions=True)
        if settings.redis_url
        else MemoryStorage()
    )
    return LookupThrottle(settings.lookup_rate, storage)
