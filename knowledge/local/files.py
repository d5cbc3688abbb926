"""Files that hold personal data or secrets: made private (0600 files, 0700 folders), written
durably (temporary file, fsync, rename, fsync of the folder), secrets made once and never empty.

The process umask (:func:`private_umask`, set by the command-line entry points) covers what
other programs create for us (Rasa's tracker database, logs); the functions here set the
modes explicitly, so they hold whatever the umask.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import secrets
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


class EmptySecret(RuntimeError):
    """A secret file exists but is empty (left by an older version that crashed)."""


def private_umask() -> None:
    """Make every file and folder this process and its children create private to its user."""
    os.umask(0o077)


def _tighten(path: Path, mode: int) -> None:
    """Give ``path`` ``mode`` unless it is already as private; a path we do not own is left."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current & ~mode:
            os.chmod(path, mode)
    except PermissionError:
        logger.warning("Cannot make %s private (not ours): check its permissions", path)
    except FileNotFoundError:
        pass


def _make_missing(path: Path) -> None:
    """Create ``path`` and its missing parents as 0700 folders (existing ones are left)."""
    missing = []
    here = Path(path)
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue
        _tighten(folder, PRIVATE_DIR)  # mkdir's mode is filtered by the umask


def private_dir(path: Path) -> Path:
    """``path``, a folder of ours, as 0700: made so when missing, tightened when it exists.

    Only for folders the assistant owns (var_dir, the spool): never a shared one like /tmp.
    """
    _make_missing(Path(path))
    _tighten(Path(path), PRIVATE_DIR)
    return Path(path)


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, 0600 either way; missing folders are made 0700."""
    _make_missing(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    _tighten(path, PRIVATE_FILE)
    return path


def fsync_directory(directory: Path) -> None:
    """Make a rename or deletion in ``directory`` durable."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a directory
        pass
    finally:
        os.close(fd)


def _temporary(path: Path, data: bytes) -> Path:
    """``data`` written and fsynced to a new 0600 file beside ``path``."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_durably(path: Path, data: bytes) -> Path:
    """Replace ``path`` by ``data`` atomically and durably, as a 0600 file (its folder must
    exist; :func:`private_dir` makes one)."""
    tmp = _temporary(path, data)
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_directory(path.parent)
    return path


def secret_file(path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(48)) -> str:
    """The secret kept in ``path``, made once with ``make`` (0600).

    The file appears whole or not at all (written aside, then hard-linked into place), so a
    reader never sees it half written and two processes starting at once agree on one value.
    Raises :class:`EmptySecret` for an empty file, which no secret may ever be.
    """
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    _make_missing(path.parent)
    tmp = _temporary(path, make().encode())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process made it first: use that one
    finally:
        tmp.unlink(missing_ok=True)
    fsync_directory(path.parent)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise EmptySecret(f"{path} is empty: delete it and start again (a new one is made)")
    _tighten(path, PRIVATE_FILE)
    return value


def delete_naming(folder: Path, text: str) -> int:
    """Delete the files of ``folder`` whose raw bytes contain ``text`` (for files that cannot
    be parsed, e.g. set aside as broken); returns how many."""
    if not folder.is_dir():
        return 0
    needle = text.encode()
    removed = 0
    for path in folder.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and needle in path.read_bytes():
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def delete_older_than(folder: Path, cutoff: dt.datetime) -> int:
    """Delete the files of ``folder`` last written before ``cutoff``; returns how many."""
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and path.stat().st_mtime < cutoff.timestamp():
                path.unlink(missing_ok=True)
                removed += 1
    return removed
