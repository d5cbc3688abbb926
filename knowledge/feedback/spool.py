"""A durable local spool for feedback the database could not take, and its retry worker.

A family is told their message was received only once it is committed to the database or
written, fsynced, to a spool file; the worker stores spooled drafts later, once each
(the delivery key makes every store idempotent).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from knowledge.db import DATABASE_ERRORS, UNAVAILABLE
from knowledge.feedback import forgotten
from knowledge.feedback.items import FeedbackDraft, record, reference, validate
from knowledge.local.files import (
    delete_naming,
    delete_older_than,
    fsync_directory,
    private_dir,
    write_durably,
)
from settings import Settings

logger = logging.getLogger(__name__)
# The sender of a draft, as FeedbackDraft.to_json writes it, found even in a damaged file.
_SENDER = re.compile(r'"sender_id": "((?:[^"\\]|\\.)*)"')


def spool_directory(settings: Settings) -> Path:
    """The spool folder of ``settings`` (``var_dir/spool`` unless configured)."""
    return settings.spool_dir or settings.var_dir / "spool"


def new_delivery_key() -> str:
    """A key for a message whose channel gave none, so its spooled copy is stored once."""
    return f"gen:{uuid.uuid4().hex}"


def with_delivery_key(draft: FeedbackDraft) -> FeedbackDraft:
    """``draft``, given a generated delivery key if it has none."""
    if draft.delivery_key:
        return draft
    return dataclasses.replace(draft, delivery_key=new_delivery_key())


class Spool:
    """One JSON file per draft in ``directory``; unreadable files go to ``directory/broken``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.broken = self.directory / "broken"

    def _path(self, delivery_key: str) -> Path:
        return self.directory / f"{hashlib.sha256(delivery_key.encode()).hexdigest()[:40]}.json"

    def put(self, draft: FeedbackDraft) -> Path:
        """Write ``draft`` durably (a redelivery overwrites its earlier copy); returns the file."""
        draft = with_delivery_key(draft)
        assert draft.delivery_key is not None
        private_dir(self.directory)
        path = write_durably(self._path(draft.delivery_key), draft.to_json().encode())
        logger.warning("Feedback kept in the spool as %s", path.name)
        return path

    def files(self) -> list[Path]:
        """The spooled drafts' files, oldest first."""
        if not self.directory.is_dir():
            return []
        paths = []
        for path in self.directory.glob("*.json"):
            try:
                paths.append((path.stat().st_mtime, path.name, path))
            except FileNotFoundError:  # drained meanwhile by another process
                continue
        return [path for _, _, path in sorted(paths)]

    def pending(self) -> list[FeedbackDraft]:
        """The drafts waiting to be stored (unreadable files are left for :meth:`drain`)."""
        drafts = []
        for path in self.files():
            try:
                drafts.append(FeedbackDraft.from_json(path.read_bytes()))
            except FileNotFoundError:
                continue
            except (ValueError, TypeError):
                logger.error("Spool file %s cannot be read", path.name)
        return drafts

    def drain(self, session_maker: sessionmaker[Session]) -> int:
        """Store every spooled draft, each in its own transaction; returns how many were stored.

        A file is deleted only after its commit. Raises the database error when the database
        is still unavailable (the remaining files stay for the next attempt).
        """
        stored = 0
        for path in self.files():
            try:
                draft = FeedbackDraft.from_json(path.read_bytes())
                validate(draft)
            except FileNotFoundError:
                continue
            except (ValueError, TypeError) as exc:
                self._set_aside(path, exc)
                continue
            written = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
            try:
                with session_maker.begin() as session:
                    if forgotten.was_forgotten(session, draft.sender_id, written):
                        item_id = None  # the family asked to be forgotten (on another host)
                    else:
                        item_id = record(session, draft).id
            except UNAVAILABLE:
                logger.warning("Database still unavailable; %s stays in the spool", path.name)
                raise
            except DBAPIError:
                # The database is up but refused this draft: keep it and tell the operator.
                logger.exception("Spooled draft %s was not stored; it stays", path.name)
                continue
            path.unlink(missing_ok=True)
            if item_id is None:
                logger.info("Spooled draft %s deleted: its family was forgotten", path.name)
                continue
            stored += 1
            logger.info("Spooled draft %s stored as feedback item %d", path.name, item_id)
        if stored:
            fsync_directory(self.directory)
        self._drop_forgotten_broken(session_maker)
        return stored

    def forget(self, sender_id: str) -> int:
        """Delete the spooled drafts of ``sender_id`` (a family's request to be forgotten),
        also those set aside in ``broken/`` that name it."""
        removed = 0
        for path in self.files():
            try:
                draft = FeedbackDraft.from_json(path.read_bytes())
            except (FileNotFoundError, ValueError, TypeError):
                continue
            if draft.sender_id == sender_id:
                path.unlink(missing_ok=True)
                removed += 1
        return removed + delete_naming(self.broken, json.dumps(sender_id))

    def _drop_forgotten_broken(self, session_maker: sessionmaker[Session]) -> None:
        """Delete the files in ``broken/`` naming a family forgotten (maybe on another host)
        after they were written."""
        if not self.broken.is_dir():
            return
        for path in list(self.broken.iterdir()):
            try:
                found = _SENDER.search(path.read_text(encoding="utf-8", errors="replace"))
                written = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
            except FileNotFoundError:
                continue
            if found is None:
                continue
            try:
                sender = json.loads(f'"{found.group(1)}"')
            except ValueError:
                continue
            with session_maker.begin() as session:
                if forgotten.was_forgotten(session, sender, written):
                    path.unlink(missing_ok=True)

    def purge_broken(self, before: dt.datetime) -> int:
        """Retention: delete files set aside in ``broken/`` before ``before``."""
        return delete_older_than(self.broken, before)

    def _set_aside(self, path: Path, error: Exception) -> None:
        private_dir(self.broken)
        target = self.broken / path.name
        if target.exists():
            target = self.broken / f"{path.stem}.{uuid.uuid4().hex[:8]}{path.suffix}"
        os.replace(path, target)
        logger.error(
            "Spool file %s cannot be read (%s); moved to %s: check it by hand",
            path.name,
            error.__class__.__name__,
            target,
        )


@dataclass(frozen=True)
class Saved:
    """Where a draft went: the database (``item_id``, ``reference``) or the spool."""

    item_id: int | None
    reference: str | None
    spooled: bool
    # The key the draft was stored under (generated when the channel gave none).
    delivery_key: str | None = None


def _store(session_maker: sessionmaker[Session], draft: FeedbackDraft) -> tuple[int, str]:
    with session_maker.begin() as session:
        item = record(session, draft)
        # Read before the commit: the caller's sessionmaker may expire objects on commit.
        return item.id, reference(item)


def save(
    session_maker: sessionmaker[Session],
    spool: Spool,
    draft: FeedbackDraft,
    *,
    attempts: int = 3,
    max_seconds: float = 2.0,
) -> Saved:
    """Commit ``draft`` to the database, retrying briefly; on a database error, spool it.

    Raises ValueError for a draft that can never be stored (unknown kind, empty content)
    and OSError when even the spool cannot be written: then nothing was kept.
    """
    draft = with_delivery_key(draft)
    validate(draft)
    try:
        for attempt in Retrying(
            retry=retry_if_exception_type(UNAVAILABLE),
            stop=stop_after_attempt(attempts) | stop_after_delay(max_seconds),
            wait=wait_exponential(multiplier=0.1, max=0.5),
            reraise=True,
        ):
            with attempt:
                item_id, ref = _store(session_maker, draft)
    except DATABASE_ERRORS as exc:
        logger.warning("Database unavailable (%s); spooling the feedback", exc.__class__.__name__)
        spool.put(draft)
        return Saved(None, None, spooled=True, delivery_key=draft.delivery_key)
    return Saved(item_id, ref, spooled=False, delivery_key=draft.delivery_key)


class SpoolWorker:
    """A daemon thread that drains the spool every ``interval`` seconds, backing off on errors."""

    def __init__(
        self,
        spool: Spool,
        session_maker: sessionmaker[Session],
        interval: float,
        *,
        max_interval: float | None = None,
    ) -> None:
        self.spool = spool
        self.session_maker = session_maker
        self.interval = interval
        self.max_interval = max_interval if max_interval is not None else max(interval * 16, 1.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start draining in the background (once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="feedback-spool", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current draft and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        delay = self.interval
        while not self._stop.wait(delay):
            try:
                self.spool.drain(self.session_maker)
            except DATABASE_ERRORS:
                delay = min(delay * 2, self.max_interval)
                continue
            except Exception:  # the worker must survive anything and keep the files
                logger.exception("Draining the feedback spool failed; retrying later")
                delay = min(delay * 2, self.max_interval)
                continue
            delay = self.interval
