"""The store: one SQLite file in WAL mode, private, with the same pragmas on every connection,
or a PostgreSQL database (``server``).

Reads run in deferred transactions; writes begin ``IMMEDIATE`` so that a read-then-write never
fails with "database is locked" half-way (deliverability checklist R-DB-2). On PostgreSQL an
``IMMEDIATE`` (or ``EXCLUSIVE``) transaction takes the store's advisory transaction lock instead,
which gives the same one writer at a time: the admin writes rely on it. The hot paths (sending,
tracking, feedback) begin ``ROWS``: ``BEGIN IMMEDIATE`` on SQLite, exactly as a write, but on
PostgreSQL no advisory lock, only the row locks their statements take (``server`` says why that
stays correct). :meth:`Store.transact` runs a transaction again when the store was busy (a
deadlock, a lock timeout, a serialization failure; ``retrying``). No connection is made at
import time.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from lettr_cli.errors import StoreUnavailable, ValidationError
from lettr_cli.store.failures import backup_failed, describe_os_error, store_unavailable
from lettr_cli.store.location import (
    PRIVATE_FILE_MODE,
    ServerUrl,
    StoreLocation,
    create_private_file,
)

if TYPE_CHECKING:
    from sqlmodel import Session

BeginMode = Literal["DEFERRED", "IMMEDIATE", "EXCLUSIVE", "ROWS"]
_BEGIN_OPTION = "lettr_begin"
LOCK_TIMEOUT_OPTION = "lettr_lock_timeout"  # seconds; one attempt's share of busy_timeout
DEFAULT_BUSY_TIMEOUT = 30.0
T = TypeVar("T")


__all__ = ["BeginMode", "Store", "StoreUnavailable"]


class Store:
    """An open store: :meth:`read` and :meth:`write` give sessions; :meth:`close` ends."""

    def __init__(
        self,
        location: StoreLocation,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        durability: str = "normal",
    ) -> None:
        self.location = location
        self.busy_timeout = busy_timeout
        self.durability = durability
        # How long a thread waits for one of the pool's connections (set when the pool is made).
        self._pool_timeout = busy_timeout
        if isinstance(location, ServerUrl):
            from lettr_cli.store import server

            self.created = False  # told by the migrations: a database with no schema yet
            self.engine: Engine = server.create_server_engine(
                location, lambda: self.busy_timeout, pool_timeout=busy_timeout
            )
            self._write_engine = self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            return
        path = location
        try:
            self.created = create_private_file(path)
        except OSError as exc:
            raise describe_os_error(path, exc) from None
        self.engine = create_engine(
            f"sqlite:///{path}",
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
            pool_timeout=busy_timeout,
        )
        event.listen(self.engine, "connect", self._on_connect)
        event.listen(self.engine, "begin", _on_begin)
        event.listen(self.engine, "handle_error", self._on_error)
        self._write_engine = self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})

    @property
    def file(self) -> Path | None:
        """The SQLite file; None on PostgreSQL."""
        return self.location if isinstance(self.location, Path) else None

    @property
    def path(self) -> Path:
        """The SQLite file; a store on a server has none (``file`` says which it is)."""
        if not isinstance(self.location, Path):
            raise ValidationError(f"the store {self.location} is on a server, not in a file")
        return self.location

    @property
    def where(self) -> str:
        """The store as people may see it: its path, or its URL without the password."""
        return str(self.location)

    @property
    def on_server(self) -> bool:
        return isinstance(self.location, ServerUrl)

    # -- connection set-up -------------------------------------------------------------------
    def _on_connect(self, dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # The driver must not open transactions by itself; the "begin" hook does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            synchronous = "FULL" if self.durability == "full" else "NORMAL"
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
        except sqlite3.DatabaseError as exc:
            raise store_unavailable(self.path, exc) or StoreUnavailable(
                f"cannot open the store {self.path}: {exc}"
            ) from None
        finally:
            cursor.close()
        self._keep_side_files_private()

    def _on_error(self, context: ExceptionContext) -> None:
        # One place for every statement, commit and connection of this store: a read-only or
        # full store becomes store_unavailable, whichever command or service met it.
        translated = store_unavailable(self.path, context.original_exception)
        if translated is not None:
            raise translated from None

    def _keep_side_files_private(self) -> None:
        # SQLite gives -wal and -shm the database file's mode; this holds if the store was
        # made 0600 by someone else's umask rules or copied in.
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            try:
                if side.stat().st_mode & 0o077:
                    os.chmod(side, PRIVATE_FILE_MODE)
            except FileNotFoundError:
                continue

    def tune(self, *, busy_timeout: float, durability: str) -> None:
        """Apply ``store.busy_timeout`` and ``store.durability`` to every later connection."""
        if (busy_timeout, durability) == (self.busy_timeout, self.durability):
            return
        self.busy_timeout = busy_timeout
        self.durability = durability
        if not self.on_server:  # on a server the lock timeout is set per transaction
            self.engine.dispose()

    # -- sessions ----------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session in a deferred (read) transaction, rolled back at the end."""
        from sqlmodel import Session  # the ORM and pydantic: only where sessions are used

        with self._pooled(), Session(self.engine) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a ``BEGIN IMMEDIATE`` transaction; commits on success, else rolls back."""
        from sqlmodel import Session

        with (
            self._pooled(),
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def connect(self, begin: BeginMode = "DEFERRED") -> Iterator[Connection]:
        """A Core connection whose transactions begin in ``begin`` mode."""
        with self._pooled(), self.engine.connect() as conn:
            yield conn.execution_options(**{_BEGIN_OPTION: begin})

    @contextmanager
    def _pooled(self) -> Iterator[None]:
        """Waiting too long for one of this process's pooled connections (every one of them in
        use by its other threads) is CONTRACT's ``store_unavailable``, not a traceback: the
        work that waited had not begun, so nothing of it was written."""
        try:
            yield
        except PoolTimeout:
            raise StoreUnavailable(
                f"the store {self.where} was busy: every connection of this process's pool "
                f"stayed in use for {self._pool_timeout:g} s (store.busy_timeout); run the "
                "command again; nothing was half-written"
            ) from None

    def transact(self, work: Callable[[Connection], T], begin: BeginMode = "ROWS") -> T:
        """Run ``work`` in one transaction and commit it, again when the store was busy
        (``retrying.transact``)."""
        from lettr_cli.store.retrying import transact

        return transact(self, work, begin)

    @contextmanager
    def bulk(self, cache_kib: int = 32 * 1024) -> Iterator[Connection]:
        """A Core connection of its own for a bulk load (an import), with a large page cache.

        Its transactions begin deferred; :meth:`begin_as` switches them to ``IMMEDIATE`` for the
        final write. Afterwards the connection is closed rather than pooled: its temporary
        tables and its cache go with it.
        """
        with self._pooled():
            conn = self.engine.connect()
        try:
            if not self.on_server:
                with conn.begin():
                    conn.exec_driver_sql(f"PRAGMA cache_size = -{int(cache_kib)}")
            yield conn
        finally:
            conn.invalidate()
            conn.close()

    @staticmethod
    def begin_as(conn: Connection, begin: BeginMode) -> Connection:
        """Make the later transactions of ``conn`` begin in ``begin`` mode."""
        return conn.execution_options(**{_BEGIN_OPTION: begin})

    # -- maintenance -------------------------------------------------------------------------
    def backup_destination(self, destination: Path) -> Path:
        """Where a backup to ``destination`` goes (absolute), or why it cannot go there."""
        if self.on_server:
            raise ValidationError(
                f"`store backup` copies a SQLite file; the store {self.where} is on PostgreSQL: "
                "back it up with pg_dump (for example `pg_dump --format=custom --file=FILE "
                "DATABASE`), or copy it into a SQLite file with `lettr store copy --to FILE`"
            )
        destination = destination.expanduser().absolute()
        if destination.exists() and destination.resolve() == self.path.resolve():
            raise ValidationError.field("file", "the backup cannot overwrite the store itself")
        if destination.is_dir():
            raise ValidationError.field("file", f"{destination} is a folder; name a file")
        if not destination.parent.is_dir():
            raise ValidationError.field("file", f"no folder {destination.parent}")
        return destination

    def backup(self, destination: Path) -> int:
        """Write a consistent copy of the store to ``destination`` (0600); returns its size.

        SQLite's online backup copies one snapshot while other processes keep writing; the copy is
        written beside the destination and renamed over it, so a cut never leaves half a file.
        """
        destination = self.backup_destination(destination)
        temporary = destination.with_name(f".{destination.name}.{uuid.uuid4().hex}.tmp")
        try:
            create_private_file(temporary)
        except OSError as exc:
            raise backup_failed(destination, exc) from None
        try:
            raw = self.engine.raw_connection()
            try:
                source = raw.driver_connection
                assert isinstance(source, sqlite3.Connection)
                target = sqlite3.connect(temporary)
                try:
                    source.backup(target)
                    # A backup is one self-contained file, not a WAL pair.
                    target.execute("PRAGMA journal_mode = DELETE")
                finally:
                    target.close()
            finally:
                raw.close()
            os.replace(temporary, destination)
        except BaseException as exc:
            temporary.unlink(missing_ok=True)
            if isinstance(exc, OSError | sqlite3.Error):
                raise backup_failed(destination, exc) from None
            raise
        return destination.stat().st_size

    def server_version(self) -> str:
        """The server's name and version (``PostgreSQL 15.8``); SQLite's library version."""
        if not self.on_server:
            return f"SQLite {sqlite3.sqlite_version}"
        with self.connect() as conn, conn.begin():
            number = conn.exec_driver_sql("SHOW server_version").scalar_one()
        return f"PostgreSQL {str(number).split()[0]}"

    def integrity_problems(self, limit: int = 10) -> list[str]:
        """What SQLite's ``PRAGMA quick_check`` finds wrong, in its words; empty when sound.

        At most ``limit`` problems are listed. A store too damaged to be read at all gives the
        error SQLite raised instead (such as "database disk image is malformed"); this never
        raises for a damaged file. The check reads every page, so it takes a while on a large
        store, and changes nothing.
        """
        try:
            with self.connect() as conn, conn.begin():
                rows = conn.exec_driver_sql(f"PRAGMA quick_check({int(limit)})").scalars().all()
        except StoreUnavailable as exc:
            return [exc.message]
        except DBAPIError as exc:
            return [str(exc.orig)]
        problems: list[str] = []
        for row in rows:
            lines = (line.strip() for line in str(row).splitlines())
            problems += [
                line for line in lines if line and line != "ok" and not line.startswith("***")
            ]
        return problems[:limit]

    def close(self) -> None:
        self.engine.dispose()


def _on_begin(conn: Connection) -> None:
    mode: Any = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    # SQLite has one writer: a transaction that takes row locks elsewhere takes the write lock.
    conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'ROWS' else mode}")


def begin_mode(conn: Connection) -> BeginMode:
    """How the transactions of ``conn`` begin (``server`` takes its lock by it)."""
    mode: Any = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    return mode  # type: ignore[no-any-return]
