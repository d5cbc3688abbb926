"""The staff login's guard: every attempt is counted before its password is checked.

- Per (account, client address) at ``login_rate`` and per client address at
  ``login_address_rate``, with the ``limits`` library's ``hit()``, which counts and checks in
  one atomic step (a lock in memory, a Lua script in Redis): requests sent at once are counted
  one by one, and those over the limit are refused (429) without being hashed.
- Per account alone, beyond ``login_account_rate``, each attempt first waits
  ``login_account_delay`` seconds: guessing gets slower, but nothing is refused, so nobody can
  lock a named staff member out from the outside.
- At most ``login_hashes`` argon2 checks (64 MiB each) run at once in this process; one more
  is refused (429) rather than queued on a small host that also serves Rasa.

The counts live in memory, or in Redis (``storage``) so every gateway replica shares them;
when Redis fails, this process counts alone until it is back (logged). Admins can clear the
counts of an account or of an address (the users page).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from settings import Settings

logger = logging.getLogger(__name__)


class Verdict(enum.Enum):
    """What may happen to one login attempt, decided before any password is checked."""

    ALLOWED = "allowed"
    SLOWED = "slowed"  # the account alone is over its rate: wait, then check
    BLOCKED = "blocked"  # this address, or this account from this address, is over its rate


def _rate(name: str, value: str) -> RateLimitItem:
    try:
        return parse(value)
    except ValueError:
        raise SystemExit(f"{name} must look like '5/minute' or '20/hour', not {value!r}") from None


class LoginGuard:
    """Counts login attempts, bounds the password checks in flight, and unlocks."""

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.pair = _rate("AMNESTY_LOGIN_RATE", settings.login_rate)
        self.address = _rate("AMNESTY_LOGIN_ADDRESS_RATE", settings.login_address_rate)
        self.account = _rate("AMNESTY_LOGIN_ACCOUNT_RATE", settings.login_account_rate)
        self.delay = float(settings.login_account_delay)
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared = MovingWindowRateLimiter(storage) if storage is not None else None
        self._slots = threading.BoundedSemaphore(settings.login_hashes)

    async def admit(self, account: str, address: str) -> Verdict:
        """Count this attempt and say whether its password may be checked."""
        if self.shared is None:
            return self._admit(self.local, account, address)
        try:
            return await asyncio.to_thread(self._admit, self.shared, account, address)
        except Exception:
            logger.exception("Shared login limiter unavailable; counting in this process")
            return self._admit(self.local, account, address)

    def _admit(self, limiter: MovingWindowRateLimiter, account: str, address: str) -> Verdict:
        if not limiter.hit(self.address, "addr", address):
            return Verdict.BLOCKED
        if not limiter.hit(self.pair, "pair", account, address):
            return Verdict.BLOCKED
        if not limiter.hit(self.account, "user", account):
            return Verdict.SLOWED
        return Verdict.ALLOWED

    @contextmanager
    def hashing(self) -> Iterator[bool]:
        """A password-check slot: True while held, False when every slot is taken."""
        held = self._slots.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                self._slots.release()

    async def signed_in(self, account: str, address: str) -> None:
        """A correct password from ``address``: its earlier failures on the account are done."""
        await self._clear([(self.pair, ("pair", account, address))])

    async def unlock(self, account: str | None, addresses: Iterable[str] = ()) -> None:
        """Clear the counts of ``account`` (alone and from each of ``addresses``), or of the
        addresses themselves when no account is named."""
        keys: list[tuple[RateLimitItem, tuple[str, ...]]] = []
        if account:
            keys.append((self.account, ("user", account)))
            keys += [(self.pair, ("pair", account, a)) for a in addresses]
        else:
            keys += [(self.address, ("addr", a)) for a in addresses]
        await self._clear(keys)

    async def _clear(self, keys: list[tuple[RateLimitItem, tuple[str, ...]]]) -> None:
        for item, identifiers in keys:
            self.local.clear(item, *identifiers)
        if self.shared is not None:
            shared = self.shared

            def clear_shared() -> None:
                for item, identifiers in keys:
                    shared.clear(item, *identifiers)

            try:
                await asyncio.to_thread(clear_shared)
            except Exception:
                logger.exception("Shared login limiter unavailable; cleared in this process")
