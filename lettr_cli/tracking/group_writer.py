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

A work that raises rolls its group back; the group is then written again one work per
transaction, so one bad request never costs another its write. A group the store found busy
(a deadlock, a lock timeout) is run again (``Store.transact``: works are functions of the
connection and may run twice); one that stays busy past ``store.busy_timeout`` gives each of
its works ``StoreBusy``.
No web imports here: the app awaits the futures (``asyncio.wrap_future``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from lettr_cli.errors import StoreUnavailable
from lettr_cli.store.engine import Store
from lettr_cli.tracking.recording import busy_error

T = TypeVar("T")
Work = Callable[[Connection], Any]
MAX_GROUP = 500  # works per commit; a burst beyond it is written in several groups
log = logging.getLogger("lettr.tracking")


class GroupWriter:
    """Writes works in groups on a thread of its own, started on the first ``submit``."""

    def __init__(self, store: Store, max_group: int = MAX_GROUP) -> None:
        self.store = store
        self.max_group = max_group
        self._queue: queue.SimpleQueue[tuple[Work, Future[Any]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, work: Callable[[Connection], T]) -> Future[T]:
        """Queue ``work`` for the next group; its future holds what it returned (or raised)
        once the group is committed."""
        done: Future[T] = Future()
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
            self._write(group)
            if last:
                return

    def _write(self, group: list[tuple[Work, Future[Any]]]) -> None:
        live = [(work, done) for work, done in group if done.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self.store.transact(lambda conn: [work(conn) for work, _ in live])
        except (OperationalError, StoreUnavailable) as exc:
            busy = busy_error(self.store, exc)
            if busy is None:
                self._one_by_one(live)
            else:
                for _, done in live:
                    done.set_exception(busy)
            return
        except Exception:
            self._one_by_one(live)
            return
        for (_, done), result in zip(live, results, strict=True):
            done.set_result(result)

    def _one_by_one(self, live: list[tuple[Work, Future[Any]]]) -> None:
        """A group that failed, written again one work per transaction."""
        for work, done in live:
            try:
                result = self.store.transact(work)
            except (OperationalError, StoreUnavailable) as exc:
                done.set_exception(busy_error(self.store, exc) or exc)
            except Exception as exc:
                log.exception("a tracking write failed")
                done.set_exception(exc)
            else:
                done.set_result(result)
