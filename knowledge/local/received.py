"""Channel events accepted but not yet handled, kept on this host's disk: one file each.

A Zalo event is written here before its HTTP 200, a Telegram webhook update likewise, and a
Telegram update fetched by long polling when handling it met a database error. Each file is
deleted once its event has been handled. While the database is down the events wait here
(across a restart too), and the gateway hands them back to their channel once it is up; the
delivery key recorded in the database makes handling one twice harmless.

Files are private (0600 in a 0700 folder), written like the feedback spool (temporary file,
fsync, rename, fsync of the folder). They hold families' words: forgetting a family and the
retention period cover them (knowledge/feedback/privacy.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.local.files import delete_naming, delete_older_than, private_dir, write_durably
from settings import Settings

logger = logging.getLogger(__name__)


def received_directory(settings: Settings) -> Path:
    return settings.var_dir / "received"


@dataclass(frozen=True)
class Held:
    """One event waiting to be handled."""

    path: Path
    channel: str
    key: str
    sender: str
    event: dict[str, Any]


class Received:
    """The folder of events accepted and not yet handled; unreadable files go to ``broken/``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.broken = self.directory / "broken"

    def _path(self, key: str) -> Path:
        return self.directory / f"{hashlib.sha256(key.encode()).hexdigest()[:40]}.json"

    def put(self, channel: str, key: str, sender: str, event: dict[str, Any]) -> Path:
        """Keep ``event`` durably under its delivery ``key`` (a redelivery overwrites it)."""
        private_dir(self.directory)
        record = {"channel": channel, "key": key, "sender": sender, "event": event}
        return write_durably(self._path(key), json.dumps(record).encode())

    def holds(self, key: str) -> bool:
        return self._path(key).exists()

    def done(self, key: str) -> None:
        """The event of ``key`` has been handled: forget it."""
        self._path(key).unlink(missing_ok=True)

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.glob("*.json"):
            try:
                found.append((path.stat().st_mtime, path.name, path))
            except FileNotFoundError:
                continue
        return [path for _, _, path in sorted(found)]

    def held(self) -> list[Held]:
        """The events waiting, oldest first."""
        events = []
        for path in self._files():
            try:
                record = json.loads(path.read_bytes())
                events.append(
                    Held(
                        path,
                        str(record["channel"]),
                        str(record["key"]),
                        str(record["sender"]),
                        dict(record["event"]),
                    )
                )
            except FileNotFoundError:
                continue
            except (ValueError, KeyError, TypeError):
                self._set_aside(path)
        return events

    def forget(self, sender: str) -> int:
        """Delete the events of ``sender`` (also unreadable ones naming it); returns how many."""
        removed = 0
        for held in self.held():
            if held.sender == sender:
                held.path.unlink(missing_ok=True)
                removed += 1
        return removed + delete_naming(self.broken, json.dumps(sender))

    def purge_older_than(self, cutoff: dt.datetime) -> int:
        """Delete events (and unreadable files) written before ``cutoff``; returns how many."""
        return delete_older_than(self.directory, cutoff) + delete_older_than(self.broken, cutoff)

    def _set_aside(self, path: Path) -> None:
        private_dir(self.broken)
        os.replace(path, self.broken / f"{path.stem}.{uuid.uuid4().hex[:8]}{path.suffix}")
        logger.error("Received event %s cannot be read; moved to %s", path.name, self.broken)
