"""Transactions run again when the store was busy (issue 17: "serialization failure, deadlock,
lock timeout → retried, then ``store_unavailable``").

On PostgreSQL the hot paths take row locks without the store-wide write lock (``server``), so
two of them may deadlock (PostgreSQL then rolls one back) or wait past their lock timeout. Such
a transaction changed nothing, and running it again usually succeeds: the other one has
finished. ``transact`` runs it up to ``ATTEMPTS`` times, each attempt waiting for locks its share
of what is left of ``store.busy_timeout`` (``lock_timeout``), after a short random pause; the
whole stays within ``store.busy_timeout`` (plus the pauses). Then the last error is raised: on
PostgreSQL CONTRACT's ``store_unavailable`` ("the store was busy …: run the command again;
nothing was half-written"). On SQLite a busy store has already waited ``store.busy_timeout`` for
its one write lock, so its error is raised as before.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.engine import Connection

from lettr_cli.store.failures import is_busy

if TYPE_CHECKING:
    from lettr_cli.store.engine import BeginMode, Store

T = TypeVar("T")
ATTEMPTS = 4


def transact(store: Store, work: Callable[[Connection], T], begin: BeginMode = "ROWS") -> T:
    """Run ``work`` in one transaction that begins in ``begin`` mode and commit it; when the
    store was busy it is rolled back and ``work`` runs again. ``work`` may therefore run more
    than once: what it changes outside the transaction must be what it returns."""
    from lettr_cli.store.engine import LOCK_TIMEOUT_OPTION

    deadline = time.monotonic() + store.busy_timeout
    for attempt in range(ATTEMPTS):
        share = max(0.001, (deadline - time.monotonic()) / (ATTEMPTS - attempt))
        try:
            with store.connect(begin) as conn:
                timed = conn.execution_options(**{LOCK_TIMEOUT_OPTION: share})
                with timed.begin():
                    return work(timed)
        except Exception as exc:
            pause = random.uniform(0.005, 0.02) * 2**attempt  # noqa: S311 (jitter, not a secret)
            if attempt == ATTEMPTS - 1 or not is_busy(exc) or time.monotonic() + pause >= deadline:
                raise
        time.sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")
