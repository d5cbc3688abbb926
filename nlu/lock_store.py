"""Rasa's Redis lock store, except that a turn waiting for its conversation keeps its ticket.

Rasa 3.6 gives every turn of a conversation a ticket that expires ``TICKET_LOCK_LIFETIME``
seconds after it was *issued*, and a waiting turn drops expired tickets, its own included,
once a second. A turn that waits longer than the lifetime behind a slow turn of the same
family therefore removes its own ticket, the lock is left with no ticket that nobody deletes,
and the turn is never served: the caller's request times out (reproduced with a 1 s lifetime:
the second of two overlapping turns hung until the client's 60 s ReadTimeout;
docs/deployment.md, known limits). Here a waiting turn renews its own ticket each time it
looks (puts it back if a concurrent write lost it), so only tickets of turns whose replica
died expire. The holder's ticket still expires one lifetime after it was issued, as in Rasa:
keep ``TICKET_LOCK_LIFETIME`` above the slowest turn.

Rasa also changes a lock by reading it, changing it and writing it back, so a turn that takes
its ticket while another finishes could lose it (the other's write wins), find no lock and fail
with a ``LockError``: seen when two replicas got one family's messages 50 ms apart. Here every
change of a conversation's lock is made under a short Redis mutex of that conversation.

``endpoints.yml``: ``lock_store: type: nlu.lock_store.PatientRedisLockStore`` with the same
keys as Rasa's ``redis`` type (url, port, db, password, key_prefix...).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)
MUTEX_SECONDS = 5  # the longest a lock change may take (a few Redis round trips)


def renewed(lock: TicketLock, ticket: int, lifetime: float) -> TicketLock:
    """``lock`` without expired tickets, with ``ticket`` (kept or put back) valid again."""
    lock.remove_expired_tickets()
    others = [t for t in lock.tickets if t.number != ticket]
    tickets = sorted([*others, Ticket(ticket, time.time() + lifetime)], key=lambda t: t.number)
    lock.tickets = deque(tickets)  # Rasa's type: a deque, as from_dict makes it
    return lock


class PatientRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose waiting turns never lose their place."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)
        self._lifetimes: dict[tuple[str, int], float] = {}

    def _mutex(self, conversation_id: str) -> Any:
        """Held while this conversation's lock is read, changed and written back."""
        return self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex",
            timeout=MUTEX_SECONDS,
            blocking_timeout=MUTEX_SECONDS,
        )

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            ticket = super().issue_ticket(conversation_id, lock_lifetime)
        self._lifetimes[(conversation_id, ticket)] = lock_lifetime
        return ticket

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self._lifetimes.pop((conversation_id, ticket_number), None)
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)

    def keep_waiting(self, conversation_id: str, ticket: int) -> None:
        """Rasa's ``update_lock`` (drop expired tickets), renewing this waiting ticket."""
        with self._mutex(conversation_id):
            lock = self.get_lock(conversation_id)
            if lock:
                lifetime = self._lifetimes.get((conversation_id, ticket), LOCK_LIFETIME)
                self.save_lock(renewed(lock, ticket, lifetime))

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if not lock:
                break
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            self.keep_waiting(conversation_id, ticket)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
