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
from lettr_cli.delivery.build import Builder, Built, FactorySpec
from lettr_cli.delivery.observer import Observer, Quiet, RunResult, Snapshot
from lettr_cli.delivery.outcomes import RetryPolicy
from lettr_cli.delivery.preparing import factory_spec, prepare_campaign
from lettr_cli.delivery.ratelimit import TokenBucket
from lettr_cli.delivery.writer import Claimed, Writer, boottime
from lettr_cli.errors import LettrError, StoreUnavailable
from lettr_cli.store.types import utcnow
from lettr_cli.transport.replies import ReplyClass
from lettr_cli.transport.smtp import Outcome, Relay, RelayFailure, RelaySettings
from lettr_cli.workspace import Workspace

CLAIM_BATCH = 64
BRAKE_CHECK_SECONDS = 1.0
OTHERS_POLL_SECONDS = 0.5  # while other workers hold the campaign's last rows
# New connections in a row that dropped before the server answered their first MAIL FROM: then
# the relay has failed (DESIGN's relay row), not the recipients.
DROPS_TO_RELAY_FAILURE = 3


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
        self.relay_failure: str | None = None
        self.store_failure: StoreUnavailable | None = None  # halts the run; raised at its end
        self.braked = False
        self.timeout = leases.timeout_seconds(workspace.environ)
        self.stale_after = self.timeout / 3
        self.bucket = TokenBucket(self.settings.number("sending.rate"), clock=clock)
        self.in_flight = 0  # rows claimed and not yet answered, released or failed
        self.fresh_drops = 0  # see DROPS_TO_RELAY_FAILURE
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
            if self.store_failure is not None:
                raise self.store_failure
        status = await self.writer.call(self._finish)
        if status == lifecycle.SENT:
            self.observer.state(campaign_id, self.name, status, "")
        left = await self.writer.call(lambda conn: outbox.summary(conn, campaign_id), write=False)
        return self._result(
            status,
            retry_at=left.retry_at,
            in_doubt=left.in_doubt,
            relay_failure=self.relay_failure,
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
            or self.relay_failure is not None
            or self.store_failure is not None
            or self.writer.lease_lost
            or (self.deadline is not None and self.clock() >= self.deadline)
        )

    async def _send(self, spec: FactorySpec) -> None:
        concurrency = self.settings.integer("sending.concurrency")
        queue: asyncio.Queue[tuple[Claimed, Built] | None] = asyncio.Queue(CLAIM_BATCH * 2)
        self.queue = queue
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
            asyncio.create_task(self._connection(queue, bucket)) for _ in range(concurrency)
        ]
        try:
            await self._produce(queue, spec)
            for _ in connections:
                await queue.put(None)
            await self._wait_for(connections)
        finally:
            for task in (*watchers, *connections):
                task.cancel()
            await asyncio.gather(*watchers, *connections, return_exceptions=True)
            self._release_queued()
            await self.writer.flush()

    def _release_queued(self) -> None:
        """Rows built and waiting for a connection go back to the queue at once (the brake, a
        stop request), not when the messages in flight are answered."""
        leftovers = []
        ends = 0  # the end-of-work markers stay for the connections
        while not self.queue.empty():
            entry = self.queue.get_nowait()
            if entry is None:
                ends += 1
            else:
                leftovers.append(entry[0])
        for _ in range(ends):
            self.queue.put_nowait(None)
        if leftovers:
            self._done_with(leftovers, release=True)

    async def _wait_for(self, connections: list[asyncio.Task[None]]) -> None:
        """Let in-flight messages finish; after a stop request, for ``drain_seconds`` at most
        (rows still unanswered then stay ``sending`` and become ``in_doubt``)."""
        drain = float(self.settings.integer("sending.drain_seconds"))
        stopping = asyncio.create_task(self.stop.wait())
        try:
            everything = asyncio.gather(*connections, return_exceptions=True)
            first: set[asyncio.Future[Any]] = {everything, stopping}
            await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
            if not everything.done():
                await asyncio.wait(connections, timeout=drain)
        finally:
            stopping.cancel()

    async def _produce(
        self, queue: asyncio.Queue[tuple[Claimed, Built] | None], spec: FactorySpec
    ) -> None:
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
                    if self.in_flight:
                        await self._settled()
                        continue
                    await self.writer.flush()
                    batch = await self.writer.claim(CLAIM_BATCH)
                    if not batch:
                        if not await self._others_hold_rows():
                            return
                        await asyncio.sleep(OTHERS_POLL_SECONDS)
                        continue
                self.in_flight += len(batch)
                built = await builder.build(
                    [(item.row_id, item.email, item.merge_values) for item in batch]
                )
                for index, (item, result) in enumerate(zip(batch, built, strict=True)):
                    if self.halted():
                        self._done_with(batch[index:], release=True)
                        return
                    if isinstance(result, str):
                        self.writer.fail(item, result)
                        self._done_with([item])
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

    def _done_with(self, items: list[Claimed], *, release: bool = False) -> None:
        if release:
            self.writer.release(items)
        self.in_flight -= len(items)

    async def _settled(self) -> None:
        """Wait for the next commit (or a short while)."""
        self.committed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.committed.wait(), timeout=0.25)

    async def _connection(
        self, queue: asyncio.Queue[tuple[Claimed, Built] | None], bucket: TokenBucket
    ) -> None:
        relay: Relay | None = None
        used = 0
        per_connection = self.settings.integer("sending.max_per_connection")
        try:
            while (entry := await queue.get()) is not None:
                item, built = entry
                if self.halted():
                    self._done_with([item], release=True)
                    continue
                if relay is not None and (relay.broken or used >= per_connection):
                    await relay.__aexit__(None, None, None)
                    relay = None
                if relay is None:
                    try:
                        relay = await Relay(RelaySettings.from_settings(self.settings)).__aenter__()
                    except RelayFailure as exc:
                        self._relay_failed(exc.reply)
                        self._done_with([item], release=True)
                        continue
                    used = 0
                await bucket.take()
                try:
                    marked = await self.writer.mark(item)
                except StoreUnavailable as exc:
                    # Not marked, so not sent; the run winds down (nothing must wait for a
                    # connection that is gone) and raises it at its end.
                    self.store_failure = self.store_failure or exc
                    self._done_with([item], release=True)
                    continue
                if not marked or not await self._still_ours():
                    self._done_with([item])
                    continue
                try:
                    outcome = await relay.send(built.envelope_from, built.recipient, built.message)
                except RelayFailure as exc:
                    self._relay_failed(exc.reply)
                    outcome = Outcome(built.recipient, ReplyClass.RELAY, exc.reply)
                except Exception as exc:
                    # Whatever went wrong, the row gets a result: one left `sending` would
                    # stall the run until someone interrupts it.
                    relay.broken = True
                    relay.close()
                    reply = f"the outcome is unknown: {type(exc).__name__}: {exc}"
                    outcome = Outcome(built.recipient, ReplyClass.UNKNOWN, reply)
                self._count_drop(outcome, fresh=used == 0)
                self.writer.record(item, outcome)
                self._done_with([item])
                used += 1
        finally:
            if relay is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(relay.__aexit__(None, None, None))

    def _count_drop(self, outcome: Outcome, *, fresh: bool) -> None:
        if not outcome.unanswered:
            self.fresh_drops = 0
            return
        if fresh:
            self.fresh_drops += 1
        if self.fresh_drops >= DROPS_TO_RELAY_FAILURE:
            self._relay_failed(
                f"the relay closed {self.fresh_drops} new connections in a row before answering "
                f"MAIL FROM ({outcome.reply})"
            )

    async def _still_ours(self) -> bool:
        """Before DATA: a holder that may have been asleep since its mark was committed (a
        stopped process, a laptop lid) makes sure the lease is still its own."""
        if boottime() - self.writer.confirmed_at < self.stale_after:
            return True
        if await self.writer.call(
            lambda conn: workers.holds(conn, self.handle.worker), write=False
        ):
            self.writer.confirmed_at = boottime()
            return True
        self.writer.lease_lost = True
        return False

    def _relay_failed(self, reply: str) -> None:
        if self.relay_failure is None:
            self.relay_failure = reply
            self.observer.state(self.handle.campaign_id, self.name, "relay_failed", reply)

    async def _heartbeat(self) -> None:
        """Renew this worker's heartbeat, reap the workers that died, and take this worker's
        share of ``sending.rate`` (the rate over the live workers)."""
        interval = min(5.0, self.timeout / 3)
        rate = self.settings.number("sending.rate")
        while True:
            await asyncio.sleep(interval)
            beat = await self.writer.call(self._beat)
            if beat is None:
                self.writer.lease_lost = True
                return
            self.bucket.set_rate(rate / max(1, beat))

    def _beat(self, conn: Connection) -> int | None:
        """One heartbeat: None when this worker was reaped, else how many workers live."""
        if not workers.heartbeat(conn, self.handle.worker):
            return None
        workers.reap(conn, self.timeout)
        return workers.live(conn, self.timeout)

    async def _watch_brake(self) -> None:
        while True:
            await asyncio.sleep(BRAKE_CHECK_SECONDS)
            if await asyncio.to_thread(paused, self.workspace):
                self.braked = True
                self.observer.state(self.handle.campaign_id, self.name, "paused", "")
                self._release_queued()
                return

    async def _watch_stop(self) -> None:
        await self.stop.wait()
        self._release_queued()

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
