"""Driving one campaign as one worker: prepare it (under its preparing lock), then send until
nothing is due, sharing the campaign with every other live worker (DESIGN "Several daemons").

One event loop: a producer claims rows and builds their messages (on a thread of its own), and
``sending.concurrency`` connections send them; the single writer commits marks and results in
groups (DESIGN "Sending engine"). The run stops claiming when the brake is set, the relay
fails, the worker is reaped, the deadline passes or the caller asks it to stop, lets in-flight
messages finish (for at most ``sending.drain_seconds`` after a stop request), puts its claimed
rows back, and removes its worker. While its own rows are done and other workers still hold
some, it waits, reaping the ones that died, so that the last one standing finishes the campaign.

Preparing and compiling the content run under the store's write lock (``admin``): like admin
writes they check and then write (the risk check counts other campaigns; the first tracking key
is made once). Every other transaction of a run (claims, marks, results, heartbeats, reaps, the
move to ``sent``) takes only row locks on PostgreSQL and is run again when the store was busy
(``Writer.call``; ``store.server`` says why each stays correct).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.campaigns import lifecycle
from lettr_cli.delivery import leases, outbox, workers
from lettr_cli.delivery.build import Builder, FactorySpec
from lettr_cli.delivery.connections import Connections, Queue
from lettr_cli.delivery.observer import Observer, Quiet, RunResult, Snapshot
from lettr_cli.delivery.outcomes import RetryPolicy
from lettr_cli.delivery.preparing import factory_spec, prepare_campaign
from lettr_cli.delivery.ratelimit import TokenBucket
from lettr_cli.delivery.writer import Writer
from lettr_cli.errors import LettrError, StoreUnavailable
from lettr_cli.store.types import utcnow
from lettr_cli.workspace import Workspace

CLAIM_BATCH = 64
BRAKE_CHECK_SECONDS = 1.0
OTHERS_POLL_SECONDS = 0.5  # while other workers hold the campaign's last rows


def paused(workspace: Workspace) -> bool:
    """The emergency brake: ``sending.paused``, or the file ``$LETTR_HOME/PAUSE``."""
    return (workspace.home / "PAUSE").exists() or workspace.settings().flag("sending.paused")


class CampaignRun:
    def __init__(
        self,
        workspace: Workspace,
        handle: leases.LeaseHandle,
        *,
        observer: Observer | None = None,
        stop: asyncio.Event | None = None,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workspace = workspace
        self.settings = workspace.settings()
        self.handle = handle
        self.observer = observer or Quiet()
        self.stop = stop or asyncio.Event()
        self.deadline = deadline
        self.clock = clock
        self.writer = Writer(workspace.store, handle, RetryPolicy.from_settings(self.settings))
        self.name = ""
        self.total = 0
        self.braked = False
        self.timeout = leases.timeout_seconds(workspace.environ)
        self.bucket = TokenBucket(self.settings.number("sending.rate"), clock=clock)
        self.connections = Connections(
            self.writer,
            handle.worker,
            self.settings,
            self.bucket,
            queue_size=CLAIM_BATCH * 2,
            stale_after=self.timeout / 3,
            halted=self.halted,
            on_relay_failure=self._relay_failed,
        )
        self.committed = asyncio.Event()
        self._started = clock()

    # -- the whole run -----------------------------------------------------------------------
    async def drive(self) -> RunResult:
        # The heartbeat runs from the start: preparing and compiling the content may take
        # longer than the lease timeout (a beat waits for the transaction in progress).
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            return await self._drive()
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.writer.call(self._wind_up)
            self.writer.close()

    async def _drive(self) -> RunResult:
        campaign_id = self.handle.campaign_id
        status, self.name = await self.writer.call(self._status, write=False)
        if status == lifecycle.PREPARING:
            # Preparing claims nothing, so the brake does not hold it up.
            status, reason = await self.writer.call(
                lambda conn: prepare_campaign(self.workspace, conn, self.handle), admin=True
            )
            # Prepared: other workers may join now.
            await self.writer.call(
                lambda conn: leases.release_preparing(conn, campaign_id, self.handle.worker)
            )
            self.observer.state(campaign_id, self.name, status, reason or "")
            if status != lifecycle.SENDING:
                return self._result(status, failure_reason=reason)
        if status != lifecycle.SENDING:
            return self._result(status)
        self.total = await self.writer.call(
            lambda conn: outbox.total(conn, campaign_id), write=False
        )
        try:
            spec = await self.writer.call(
                lambda conn: factory_spec(self.workspace, conn, campaign_id), admin=True
            )
        except StoreUnavailable:
            raise  # the store's trouble, not the campaign's: it must not fail the campaign
        except LettrError as exc:
            reason = exc.message
            status = await self.writer.call(lambda conn: self._fail(conn, reason))
            self.observer.state(campaign_id, self.name, status, reason)
            return self._result(status, failure_reason=reason)
        self.braked = await asyncio.to_thread(paused, self.workspace)
        if self.braked:
            self.observer.state(campaign_id, self.name, "paused", "")
        else:
            await self._send(spec)
            if self.connections.store_failure is not None:
                raise self.connections.store_failure
        status = await self.writer.call(self._finish)
        if status == lifecycle.SENT:
            self.observer.state(campaign_id, self.name, status, "")
        left = await self.writer.call(lambda conn: outbox.summary(conn, campaign_id), write=False)
        return self._result(
            status,
            retry_at=left.retry_at,
            in_doubt=left.in_doubt,
            relay_failure=self.connections.relay_failure,
            paused=self.braked,
            lease_lost=self.writer.lease_lost,
            interrupted=self.stop.is_set(),
        )

    def _result(self, status: str, **extra: Any) -> RunResult:
        return RunResult(self.handle.campaign_id, self.name, status, self.writer.tally, **extra)

    def _status(self, conn: Connection) -> tuple[str, str]:
        c = outbox.campaigns
        row = conn.execute(
            sa.select(c.c.status, c.c.name).where(c.c.id == self.handle.campaign_id)
        ).one()
        return str(row.status), str(row.name)

    def _fail(self, conn: Connection, reason: str) -> str:
        if not workers.holds(conn, self.handle.worker):
            return self._status(conn)[0]
        if not lifecycle.sending_to_failed(conn, self.handle.campaign_id, reason):
            return self._status(conn)[0]
        return lifecycle.FAILED

    def _finish(self, conn: Connection) -> str:
        """Put back what this worker claimed and did not send; the campaign is sent when no
        row of anyone's is left (a conditional update: two workers finishing together move it
        once)."""
        campaign_id = self.handle.campaign_id
        if not workers.holds(conn, self.handle.worker):
            return self._status(conn)[0]
        outbox.recover_rows(conn, self._mine())
        status = self._status(conn)[0]
        if status == lifecycle.SENDING:
            # When its last message was accepted, not when the run wound up (after a drain, a
            # stop request or a retry of rows that stayed in doubt).
            sent_at = outbox.last_accepted_at(conn, campaign_id) or utcnow()
            unfinished = outbox.unfinished_clause(campaign_id)
            if lifecycle.sending_to_sent(conn, campaign_id, sent_at, unless=unfinished):
                return lifecycle.SENT
            return self._status(conn)[0]
        return status

    def _mine(self) -> Any:
        worker = self.handle.worker
        return (outbox.outbox.c.campaign_id == self.handle.campaign_id) & outbox.worker_rows(
            worker.id, worker.epoch
        )

    def _wind_up(self, conn: Connection) -> None:
        if workers.holds(conn, self.handle.worker):
            outbox.recover_rows(conn, self._mine())
        workers.deregister(conn, self.handle.worker)

    # -- sending -----------------------------------------------------------------------------
    def halted(self) -> bool:
        return bool(
            self.stop.is_set()
            or self.braked
            or self.connections.failed
            or (self.deadline is not None and self.clock() >= self.deadline)
        )

    async def _send(self, spec: FactorySpec) -> None:
        concurrency = self.settings.integer("sending.concurrency")
        queue = self.connections.queue
        self.writer.on_commit = self._report
        bucket = self.bucket
        # This worker's share of sending.rate from the start (the heartbeat keeps it current).
        live = await self.writer.call(lambda conn: workers.live(conn, self.timeout), write=False)
        bucket.set_rate(self.settings.number("sending.rate") / max(1, live))
        watchers = [
            asyncio.create_task(self._watch_brake()),
            asyncio.create_task(self._watch_stop()),
        ]
        connections = [
            asyncio.create_task(self.connections.connection()) for _ in range(concurrency)
        ]
        try:
            try:
                await self._produce(queue, spec)
            except StoreUnavailable as exc:
                # A claim or a flush met the store's trouble (a full disk). Messages whose mark
                # was committed are on their way: cancelling them would leave rows `sending`
                # that were never sent. The run halts as when a connection meets it (queued
                # rows are released, not sent), lets those messages finish, and raises it at
                # its end.
                self.connections.store_failure = self.connections.store_failure or exc
            for _ in connections:
                await queue.put(None)
            drain = float(self.settings.integer("sending.drain_seconds"))
            await self.connections.wait_for(connections, self.stop, drain)
        finally:
            for task in (*watchers, *connections):
                task.cancel()
            await asyncio.gather(*watchers, *connections, return_exceptions=True)
            self.connections.release_queued()
            await self.writer.flush()

    async def _produce(self, queue: Queue, spec: FactorySpec) -> None:
        """Claim and build until nothing is due; rows whose reply sends them back to the queue
        (soft failures due now, lost connections) are claimed again once they are committed."""
        left = await self.writer.call(
            lambda conn: outbox.unfinished(conn, self.handle.campaign_id), write=False
        )
        builder = Builder(spec, left)
        try:
            while not self.halted():
                batch = await self.writer.claim(CLAIM_BATCH)
                if not batch:
                    if self.connections.in_flight:
                        await self._settled()
                        continue
                    await self.writer.flush()
                    batch = await self.writer.claim(CLAIM_BATCH)
                    if not batch:
                        if not await self._others_hold_rows():
                            return
                        await asyncio.sleep(OTHERS_POLL_SECONDS)
                        continue
                self.connections.in_flight += len(batch)
                built = await builder.build(
                    [(item.row_id, item.email, item.merge_values) for item in batch]
                )
                for index, (item, result) in enumerate(zip(batch, built, strict=True)):
                    if self.halted():
                        self.connections.done_with(batch[index:], release=True)
                        return
                    if isinstance(result, str):
                        self.writer.fail(item, result)
                        self.connections.done_with([item])
                        continue
                    await queue.put((item, result))
        finally:
            await asyncio.to_thread(builder.close)

    async def _others_hold_rows(self) -> bool:
        """Whether other workers still hold rows of the campaign, once the dead ones among
        them are reaped (their rows come back to the queue, or become in doubt)."""

        def others(conn: Connection) -> int:
            workers.reap(conn, self.timeout)
            return outbox.held_by_others(conn, self.handle.campaign_id, self.handle.holder)

        return await self.writer.call(others) > 0

    async def _settled(self) -> None:
        """Wait for the next commit (or a short while)."""
        self.committed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.committed.wait(), timeout=0.25)

    def _relay_failed(self, reply: str) -> None:
        self.observer.state(self.handle.campaign_id, self.name, "relay_failed", reply)

    async def _heartbeat(self) -> None:
        """Renew this worker's heartbeat, reap the workers that died, and take this worker's
        share of ``sending.rate`` (the rate over the live workers)."""
        interval = min(5.0, self.timeout / 3)
        rate = self.settings.number("sending.rate")
        while True:
            await asyncio.sleep(interval)
            beat = await self.writer.call(
                lambda conn: workers.beat(conn, self.handle.worker, self.timeout)
            )
            if beat is None:
                self.writer.lease_lost = True
                return
            self.bucket.set_rate(rate / max(1, beat))

    async def _watch_brake(self) -> None:
        while True:
            await asyncio.sleep(BRAKE_CHECK_SECONDS)
            if await asyncio.to_thread(paused, self.workspace):
                self.braked = True
                self.observer.state(self.handle.campaign_id, self.name, "paused", "")
                self.connections.release_queued()
                return

    async def _watch_stop(self) -> None:
        await self.stop.wait()
        self.connections.release_queued()

    def _report(self) -> None:
        self.committed.set()
        self.observer.progress(
            Snapshot(
                self.handle.campaign_id,
                self.name,
                self.total,
                self.writer.tally,
                self.clock() - self._started,
            )
        )
