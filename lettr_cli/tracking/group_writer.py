"""The tracking server's writes, grouped (issue 18, "the tracking server under a burst").

One writer thread takes every write the hot endpoints ask for (opens, clicks, one-click and
link unsubscribes) from a queue and commits them in groups: whatever waited while the last
group was being written goes into the next, in one transaction and one commit (``ROWS``: on
PostgreSQL row locks only, no wait for a daemon or an admin write; see ``recording``).
Under a burst that turns hundreds of transactions (and their fight for SQLite's one write
lock, each loser sleeping in the busy handler) into a few, and each request still gets its own
result: a write's future is resolved only after its group's commit, so the server answers an
open, a click or an unsubscribe once what it recorded is committed, and a crash loses only
requests that were not answered yet.

What a group holds is written by ``write_all`` (by default each work is a callable run on the
connection in turn; the tracking server passes ``group_writes.write_group``, which writes the
group's opens, clicks and unsubscribes as sets). A work that raises rolls its group back; the
group is then written again one work per transaction, so one bad request never costs another
its write. A group the store found busy (a deadlock, a lock timeout) is run again
(``Store.transact``: works are functions of the connection and may run twice, and
``write_all`` reads what it needs in the transaction); one that stays busy past
``store.busy_timeout`` gives each of its works ``StoreBusy``.
No web imports here: the app awaits the futures, which the writer settles a group at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from lettr_cli.errors import StoreUnavailable
from lettr_cli.store.engine import Store
from lettr_cli.tracking.recording import busy_error

Work = Any  # what ``write_all`` takes: by default a callable run on the connection
WriteAll = Callable[[Connection, list[Any]], list[Any]]
Entry = tuple[Work, "asyncio.Future[Any]"]
Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]  # its result, or its error
MAX_GROUP = 500  # works per commit; a burst beyond it is written in several groups
log = logging.getLogger("lettr.tracking")


class GroupWriter:
    """Writes works in groups on a thread of its own, started on the first ``submit``."""

    def __init__(
        self, store: Store, max_group: int = MAX_GROUP, write_all: WriteAll | None = None
    ) -> None:
        self.store = store
        self.write_all: WriteAll = write_all or _each
        self.max_group = max_group
        self._queue: queue.SimpleQueue[Entry | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, work: Work) -> asyncio.Future[Any]:
        """Queue ``work`` for the next group (called on an event loop's thread); its future
        holds what it returned (or raised) once the group is committed. The futures of a group
        are settled together, with one wake-up of their loop."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the tracking writer is closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="lettr-tracking-writer", daemon=True
                )
                self._thread.start()
            self._queue.put((work, done))
        return done

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._queue.put(None)
        if thread is not None:
            thread.join(timeout)

    # -- the writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            last = False
            while len(group) < self.max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    last = True
                    break
                group.append(item)
            _settle(self._write(group))
            if last:
                return

    def _write(self, group: list[Entry]) -> list[Outcome]:
        live = [(work, done) for work, done in group if not done.cancelled()]
        if not live:
            return []
        works = [work for work, _ in live]
        try:
            results = self.store.transact(lambda conn: self.write_all(conn, works))
        except (OperationalError, StoreUnavailable) as exc:
            busy = busy_error(self.store, exc)
            if busy is None:
                return self._one_by_one(live)
            return [(done, None, busy) for _, done in live]
        except Exception:
            return self._one_by_one(live)
        return [(done, result, None) for (_, done), result in zip(live, results, strict=True)]

    def _one_by_one(self, live: list[Entry]) -> list[Outcome]:
        """A group that failed, written again one work per transaction."""
        outcomes: list[Outcome] = []
        for work, done in live:
            try:
                result = self._write_one(work)
            except (OperationalError, StoreUnavailable) as exc:
                outcomes.append((done, None, busy_error(self.store, exc) or exc))
            except Exception as exc:
                log.exception("a tracking write failed")
                outcomes.append((done, None, exc))
            else:
                outcomes.append((done, result, None))
        return outcomes

    def _write_one(self, work: Work) -> Any:
        (result,) = self.store.transact(lambda conn: self.write_all(conn, [work]))
        return result


def _settle(outcomes: list[Outcome]) -> None:
    """Hand each loop its futures' outcomes, in one call per loop (from the writer thread)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].get_loop(), []).append(outcome)
    for loop, mine in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(_settle_on_loop, mine)


def _settle_on_loop(outcomes: list[Outcome]) -> None:
    for done, result, error in outcomes:
        if done.cancelled():
            continue
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)


def _each(conn: Connection, works: list[Any]) -> list[Any]:
    """Each work a callable, run on ``conn`` in turn."""
    return [work(conn) for work in works]
