"""What SQLite's "cannot write" errors mean for the operator, said in one place.

A read-only store (its file, its folder, its file system) and a full disk reach lettr as
``sqlite3.OperationalError`` from any statement, a commit or the connection itself. The store's
engine hands every such error to :func:`store_unavailable`, which names the cause it can see
on disk and what to do. SQLite rolls back the transaction that met the error, so nothing is
half-written and the same command can simply be run again.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from lettr_cli.errors import StoreUnavailable

# SQLite's primary result codes (the low byte of an extended code).
_CANTOPEN = 14
_FULL = 13
_IOERR = 10
_READONLY = 8
_PERM = 3

_BY_MESSAGE = {
    "attempt to write a readonly database": _READONLY,
    "unable to open database file": _CANTOPEN,
    "database or disk is full": _FULL,
    "disk i/o error": _IOERR,
}
_NOTHING_LOST = "nothing was half-written"
_AGAIN = "run the command again"


def with_next_step(error: StoreUnavailable, step: str) -> StoreUnavailable:
    """``error`` with "run the command again" replaced by ``step``, for work that another
    command finishes (a send that left draft is finished by ``lettr daemon tick``)."""
    if _AGAIN in error.message:
        return StoreUnavailable(error.message.replace(_AGAIN, step))
    return StoreUnavailable(f"{error.message}; {step}")


def store_unavailable(path: Path, error: BaseException) -> StoreUnavailable | None:
    """The ``StoreUnavailable`` that ``error`` (a SQLite error met on the store at ``path``)
    means, or None when it is not about the store's file or disk (a constraint, a bad query)."""
    code = _primary_code(error)
    if code is None:
        return None
    if code == _FULL:
        return StoreUnavailable(_full(path))
    read_only = _read_only(path)
    if read_only is not None:
        return StoreUnavailable(read_only)
    if _no_space(path):
        return StoreUnavailable(_full(path))
    if code == _IOERR:
        return StoreUnavailable(
            f"a disk error on the store {path} ({error}): check the disk, then {_AGAIN}; "
            f"{_NOTHING_LOST}"
        )
    return StoreUnavailable(
        f"the store {path} cannot be written ({error}): check that it and its folder can be "
        f"written, then {_AGAIN}; {_NOTHING_LOST}"
    )


def describe_os_error(path: Path, error: OSError) -> StoreUnavailable:
    """A store file or folder that lettr could not create (before SQLite was involved)."""
    if error.errno == errno.ENOSPC:
        return StoreUnavailable(_full(path))
    read_only = _read_only(path)
    if read_only is not None:
        return StoreUnavailable(read_only)
    where = error.filename or path
    return StoreUnavailable(
        f"cannot create the store {path}: {where}: {error.strerror or error}: check the "
        f"folder's permissions, or point --db (LETTR_DB) elsewhere"
    )


def backup_failed(destination: Path, error: BaseException) -> StoreUnavailable:
    """A backup that could not be written (the copy was removed; the store is untouched)."""
    untouched = "the store is untouched and no partial backup was left"
    code = _primary_code(error)
    number = error.errno if isinstance(error, OSError) else None
    if code == _FULL or number == errno.ENOSPC or _no_space(destination):
        return StoreUnavailable(
            f"no space left on the device holding {destination.parent}: free space (or choose "
            f"another place), then {_AGAIN}; {untouched}"
        )
    reason = (error.strerror if isinstance(error, OSError) else None) or str(error)
    return StoreUnavailable(
        f"cannot write the backup {destination}: {reason}: check that its folder can be "
        f"written (or choose another place), then {_AGAIN}; {untouched}"
    )


def _primary_code(error: BaseException) -> int | None:
    if not isinstance(error, sqlite3.OperationalError):
        return None
    extended = getattr(error, "sqlite_errorcode", None)
    if isinstance(extended, int):
        code = extended & 0xFF
        known = (_CANTOPEN, _FULL, _IOERR, _READONLY, _PERM)
        return _READONLY if code == _PERM else (code if code in known else None)
    return _BY_MESSAGE.get(str(error).strip().lower())


def _full(path: Path) -> str:
    return (
        f"no space left on the device holding the store {path}: free space, then {_AGAIN}; "
        f"{_NOTHING_LOST}"
    )


def _read_only(path: Path) -> str | None:
    """Why the store cannot be written, when the file system shows it; else None."""
    existing = path.parent
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    try:
        if os.statvfs(existing).f_flag & os.ST_RDONLY:
            return (
                f"the store {path} is on a read-only file system: remount it read-write (or "
                f"point --db, LETTR_DB, at a copy in a writable place), then {_AGAIN}; "
                f"{_NOTHING_LOST}"
            )
    except OSError:
        return None
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists() and not os.access(candidate, os.W_OK):
            return (
                f"the store {candidate} is read-only: check its permissions and owner (and "
                f"the immutable flag, `lsattr`), then {_AGAIN}; {_NOTHING_LOST}"
            )
    if existing == path.parent and not os.access(existing, os.W_OK | os.X_OK):
        return (
            f"the folder {existing} holding the store is read-only (SQLite writes its -wal "
            f"and -shm files beside the store): check the folder's permissions, then "
            f"{_AGAIN}; {_NOTHING_LOST}"
        )
    return None


def _no_space(path: Path) -> bool:
    try:
        stats = os.statvfs(path.parent)
    except OSError:
        return False
    return stats.f_bavail == 0 or stats.f_favail == 0


def is_busy(error: BaseException) -> bool:
    """Another writer kept the store past ``store.busy_timeout``: SQLite's "database is
    locked", or PostgreSQL's lock timeout, deadlock or serialization failure (``server``)."""
    from lettr_cli.store.server import is_busy as server_busy

    if server_busy(error):
        return True
    cause = getattr(error, "orig", None) or error
    text = str(cause).lower()
    return isinstance(cause, sqlite3.OperationalError) and ("locked" in text or "busy" in text)
