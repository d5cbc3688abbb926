"""What a fake API received, readable from the test thread while the server runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class Recorder:
    """A thread-safe list of records with a wait-until helper."""

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []
        self._changed = threading.Condition()

    def add(self, item: dict[str, Any]) -> None:
        with self._changed:
            self._items.append({**item, "at": time.monotonic()})
            self._changed.notify_all()

    @property
    def items(self) -> list[dict[str, Any]]:
        with self._changed:
            return list(self._items)

    def wait_for(
        self, condition: Callable[[list[dict[str, Any]]], bool], timeout: float = 60
    ) -> list[dict[str, Any]]:
        """Block until ``condition(items)`` holds; fails the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self._items):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; received so far: {self._items!r:.2000}")
                self._changed.wait(left)
            return list(self._items)
