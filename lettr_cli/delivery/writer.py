"""The single writer of a campaign run: claims, ``sending`` marks and results, grouped.

Every mark must be committed before its DATA starts (DESIGN's invariant). Connections ask for
marks and hand in results; whatever has piled up while the last commit ran goes into the next
one, so the result of message k and the mark of message k+1 share a commit. Every row update
is fenced in SQL by its claim token, its worker and epoch, and the status it expects; each
group of marks and each claim also renews the worker's heartbeat in the same transaction,
which is its lease check (``workers.heartbeat``: a reaped worker's epoch moved). A row update
that matches nothing means another process took the row over, and the run stops before its
next DATA (DESIGN "Fencing").

The SQL runs on one thread of its own, so the event loop keeps talking SMTP meanwhile.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from lettr_cli.delivery import claims, fencing, leases, outbox, workers
from lettr_cli.delivery.claims import Claimed
from lettr_cli.delivery.effects import Effects
from lettr_cli.delivery.outcomes import RetryPolicy, Verdict, judge
from lettr_cli.store.engine import BeginMode, Store
from lettr_cli.store.types import utcnow
from lettr_cli.transport.smtp import Outcome

T = TypeVar("T")
# The longest a group of marks waits for the replies of the messages on the wire.
LINGER_SECONDS = 0.002


def boottime() -> float:
    """Seconds on a clock that keeps counting while the process is stopped or the machine
    sleeps (a laptop lid), so that a holder can tell it may have been away."""
    clock = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(clock) if clock is not None else time.monotonic()


@dataclass
class Tally:
    """What the run's commits did, for progress and the run's summary."""

    sent: int = 0
    failed: int = 0
    bounced: int = 0
    skipped: int = 0
    in_doubt: int = 0
    retrying: int = 0


class _TakenOver(Exception):
    """Some row of a group's results is no longer this holder's (see ``Writer._results``)."""


@dataclass
class _Batch:
    marks: list[tuple[Claimed, asyncio.Future[bool]]] = field(default_factory=list)
    results: list[tuple[Claimed, Outcome]] = field(default_factory=list)
    releases: list[Claimed] = field(default_factory=list)
    failures: list[tuple[Claimed, str]] = field(default_factory=list)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.marks or self.results or self.releases or self.failures or self.waiters)


class Writer:
    def __init__(self, store: Store, handle: leases.LeaseHandle, policy: RetryPolicy) -> None:
        self.store = store
        self.handle = handle
        self.worker = handle.worker
        self.campaign_id = handle.campaign_id
        self.policy = policy
        self.tally = Tally()
        self.lease_lost = False
        # Rows whose update matched nothing (their claim token or status had changed: taken
        # over); any makes the run stop as if the lease were lost.
        self.fenced = 0
        self.confirmed_at = boottime()  # when a commit last found the lease still ours
        self.on_commit: Callable[[], None] = lambda: None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lettr-writer")
        self._pending = _Batch()
        self._running: asyncio.Task[None] | None = None
        self.failure: Exception | None = None  # a group that could not be committed
        # Messages whose transaction is under way (kept by the connections): their replies,
        # and the marks that follow them, are worth a short wait (``_linger``).
        self.on_the_wire = 0
        self._handed_in: asyncio.Future[None] | None = None

    # -- plain calls on the writer's thread --------------------------------------------------
    async def call(
        self, work: Callable[[Connection], T], *, write: bool = True, admin: bool = False
    ) -> T:
        """Run ``work`` in one transaction on the writer's thread: a hot-path write (row locks
        only on PostgreSQL), or with ``admin`` under the store's write lock (preparing). A
        transaction the store found busy is run again (``Store.transact``); the tally and the
        count of fenced rows are put back first, so that what it counts is counted once."""
        begin: BeginMode = "IMMEDIATE" if admin else "ROWS" if write else "DEFERRED"

        def run() -> T:
            tally, fenced = dataclasses.replace(self.tally), self.fenced

            def attempt(conn: Connection) -> T:
                self.tally, self.fenced = dataclasses.replace(tally), fenced
                return work(conn)

            return self.store.transact(attempt, begin)

        return await asyncio.get_running_loop().run_in_executor(self._thread, run)

    def close(self) -> None:
        self._thread.shutdown(wait=True)

    # -- claims ------------------------------------------------------------------------------
    async def claim(self, limit: int) -> list[Claimed]:
        """Claim up to ``limit`` due rows; rows of contacts no longer subscribed, or no longer
        in the audience of a campaign that targets topics, are skipped."""
        token = uuid.uuid4().hex
        return await self.call(lambda conn: self._claim(conn, token, limit))

    def _claim(self, conn: Connection, token: str, limit: int) -> list[Claimed]:
        if not self._beat(conn):
            return []
        items, skipped = claims.claim_rows(conn, self.campaign_id, self.worker, token, limit)
        self.tally.skipped += skipped
        return items

    # -- grouped marks and results -----------------------------------------------------------
    async def mark(self, item: Claimed) -> bool:
        """Mark ``item`` sending and wait for the commit; False: do not send it (fenced).
        Raises what made an earlier group fail to commit: the run must not go on as if its
        results were kept."""
        if self.failure is not None:
            raise self.failure
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.marks.append((item, future))
        self._kick()
        return await future

    def record(self, item: Claimed, result: Outcome) -> None:
        """Hand in a reply; it is committed with the next group (``flush`` waits for it)."""
        self._pending.results.append((item, result))
        if self._handed_in is not None and not self._handed_in.done():
            self._handed_in.set_result(None)
        self._kick()

    def release(self, items: Sequence[Claimed]) -> None:
        """Rows claimed but not sent go back to the queue."""
        self._pending.releases.extend(items)
        self._kick()

    def fail(self, item: Claimed, reason: str) -> None:
        """A claimed row whose message cannot be built fails without an attempt."""
        self._pending.failures.append((item, reason))
        self._kick()

    async def flush(self) -> None:
        if self.failure is not None:
            raise self.failure
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.waiters.append(future)
        self._kick()
        await future

    def _kick(self) -> None:
        if self._running is None or self._running.done():
            self._running = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            if self._pending.marks and not self._pending.waiters and self.on_the_wire:
                await self._linger()
            batch, self._pending = self._pending, _Batch()
            try:
                granted = await self._commit(batch)
            except BaseException as exc:
                for _, future in batch.marks:
                    if not future.done():
                        future.set_exception(exc)
                for waiter in batch.waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                # Kept for the next mark or flush rather than left in this task, where no one
                # would see it: the group's results are lost, and their rows stay `sending`.
                self.failure = self.failure or exc
                continue
            for (_, future), ok in zip(batch.marks, granted, strict=True):
                if not future.done():
                    future.set_result(ok)
            for waiter in batch.waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self.on_commit()

    async def _linger(self) -> None:
        """Let the messages on the wire hand in their replies (and their connections their
        next marks) for at most ``LINGER_SECONDS``, so that they share this group's commit
        rather than each wait for one of their own."""
        loop = asyncio.get_running_loop()
        end = loop.time() + LINGER_SECONDS
        while self.on_the_wire and (left := end - loop.time()) > 0:
            self._handed_in = loop.create_future()
            await asyncio.wait([self._handed_in], timeout=left)
        self._handed_in = None

    async def _commit(self, batch: _Batch) -> list[bool]:
        try:
            return await self.call(lambda conn: self._apply(conn, batch, one_by_one=False))
        except _TakenOver:
            return await self.call(lambda conn: self._apply(conn, batch, one_by_one=True))

    def _apply(self, conn: Connection, batch: _Batch, *, one_by_one: bool) -> list[bool]:
        now = utcnow()
        effects = Effects()
        # A group with marks renews the heartbeat (its lease check) first: the worker's row is
        # locked before its outbox rows, in the order a reaper locks them (``workers.reap``).
        alive = not batch.marks or self._beat(conn)
        if batch.results:
            # A group that must be applied again has changed no row of this writer yet.
            self._results(conn, batch.results, now, effects, one_by_one=one_by_one)
        if batch.releases:
            self._release(conn, batch.releases, now)
        if batch.failures:
            self._failures(conn, batch.failures, now)
        items = [item for item, _ in batch.marks]
        granted = self._marks(conn, items, now) if alive else [False] * len(items)
        effects.write(conn, self.campaign_id, now)
        return granted

    def _beat(self, conn: Connection) -> bool:
        if not workers.heartbeat(conn, self.worker):
            self.lease_lost = True
            return False
        self.confirmed_at = boottime()
        return True

    def _taken_over(self, count: int) -> None:
        """``count`` rows matched none of their updates: another process has them. The run
        stops before its next DATA, as when its lease is lost."""
        if count:
            self.fenced += count
            self.lease_lost = True

    def _marks(self, conn: Connection, items: list[Claimed], now: datetime) -> list[bool]:
        if not items:
            return []
        mine = (self.worker.id, self.worker.epoch)
        marked = fencing.fenced_update(conn, fencing.MARK, claims.by_token(items), now, mine)
        skipped: set[int] = set()
        if len(marked) < len(items):
            # Rows of contacts who left since the claim are skipped; any other was taken over.
            rest = claims.by_token([item for item in items if item.row_id not in marked])
            skipped = fencing.fenced_update(conn, fencing.SKIP, rest, now, mine)
            self.tally.skipped += len(skipped)
        self._taken_over(len(items) - len(skipped) - len(marked))
        return [item.row_id in marked for item in items]

    def _release(self, conn: Connection, items: Sequence[Claimed], now: datetime) -> None:
        mine = (self.worker.id, self.worker.epoch)
        released = fencing.fenced_update(conn, fencing.RELEASE, claims.by_token(items), now, mine)
        self._taken_over(len(items) - len(released))

    def _failures(
        self, conn: Connection, failures: Sequence[tuple[Claimed, str]], now: datetime
    ) -> None:
        for item, reason in failures:
            params = {
                "row_id": item.row_id,
                "token": item.token,
                "worker": self.worker.id,
                "epoch": self.worker.epoch,
                "expected": outbox.CLAIMED,
                "new_reply": reason[:1000],
                "now": now,
            }
            if fencing.update_row(conn, fencing.FAIL, params):
                self.tally.failed += 1
            else:
                self._taken_over(1)

    def _results(
        self,
        conn: Connection,
        results: Sequence[tuple[Claimed, Outcome]],
        now: datetime,
        effects: Effects,
        *,
        one_by_one: bool,
    ) -> None:
        planned = [self._plan(item, result, now) for item, result in results]
        if not one_by_one and len(planned) > 1:
            # One statement for the group; if some row is no longer this holder's, the group
            # is rolled back and applied again row by row, to learn which.
            if fencing.update_many(conn, fencing.RESULT, [p[2] for p in planned]) < len(planned):
                raise _TakenOver
            for (item, result), (verdict, injects, _) in zip(results, planned, strict=True):
                self._count(item, verdict, result, injects, effects)
            return
        for (item, result), (verdict, injects, params) in zip(results, planned, strict=True):
            if fencing.update_row(conn, fencing.RESULT, params):
                self._count(item, verdict, result, injects, effects)
                continue
            # Not `sending` with this holder's token any more: taken over. A takeover while
            # this holder slept made the row in_doubt and counted its injection; a final reply
            # still tells what happened to it. One that asks for a retry leaves it in doubt
            # (the new holder never sends it, and may be done).
            self._taken_over(1)
            if verdict.status not in (outbox.SENT, outbox.FAILED, outbox.BOUNCED):
                continue
            doubted = {**params, "expected": outbox.IN_DOUBT, "injected": None}
            if fencing.update_row(conn, fencing.RESULT, doubted):
                self._count(item, verdict, result, False, effects)

    def _plan(
        self, item: Claimed, result: Outcome, now: datetime
    ) -> tuple[Verdict, bool, dict[str, Any]]:
        """The verdict on ``result``, whether it is the row's first injection, and the
        parameters of its RESULT update."""
        verdict = judge(result, item.attempts + 1, self.policy, now)
        requeued = verdict.status == outbox.QUEUED
        injects = verdict.attempted and not item.injected
        params = {
            "row_id": item.row_id,
            "token": item.token,
            "worker": self.worker.id,
            "epoch": self.worker.epoch,
            "expected": outbox.SENDING,
            "new_status": verdict.status,
            "new_reply": result.reply[:1000],
            "new_class": outbox.class_of(result) if verdict.attempted else None,
            "new_token": None if requeued else item.token,
            "new_worker": None if requeued else self.worker.id,
            "new_epoch": None if requeued else self.worker.epoch,
            "next_at": verdict.next_attempt_at if requeued else None,
            "new_attempts": item.attempts + (1 if verdict.attempted else 0),
            "accepted": now if verdict.delivered else None,
            "injected": now if injects else None,
            "now": now,
        }
        return verdict, injects, params

    def _count(
        self, item: Claimed, verdict: Verdict, result: Outcome, injects: bool, effects: Effects
    ) -> None:
        effects.add(item, verdict, result, injects)
        tally = self.tally
        if verdict.status == outbox.SENT:
            tally.sent += 1
        elif verdict.status == outbox.FAILED:
            tally.failed += 1
        elif verdict.status == outbox.BOUNCED:
            tally.bounced += 1
        elif verdict.status == outbox.IN_DOUBT:
            tally.in_doubt += 1
        elif verdict.attempted:
            tally.retrying += 1
