"""The SMTP connections of a campaign run (DESIGN "Sending engine").

Each connection takes built messages from the run's queue, one at a time: it waits for the
token bucket, asks the writer to commit the row's ``sending`` mark, makes sure the lease is still
its own, sends, and hands the reply to the writer. At most one message is in flight on a
connection, so at most one row per connection can end in doubt. What the connections share —
the rows in flight, the relay's failure, the store's failure, the count of new connections
dropped in a row — lives here, beside them; the run reads it to know when to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from lettr_cli.delivery.build import Built
from lettr_cli.delivery.claims import Claimed
from lettr_cli.delivery.ratelimit import TokenBucket
from lettr_cli.delivery.workers import WorkerId, holds
from lettr_cli.delivery.writer import Writer, boottime
from lettr_cli.errors import StoreUnavailable
from lettr_cli.settings import Settings
from lettr_cli.transport.replies import ReplyClass
from lettr_cli.transport.smtp import Outcome, Relay, RelayFailure, RelaySettings

# New connections in a row that dropped before the server answered their first MAIL FROM: then
# the relay has failed (DESIGN's relay row), not the recipients.
DROPS_TO_RELAY_FAILURE = 3

Queue = asyncio.Queue[tuple[Claimed, Built] | None]  # None: no more work for a connection


class Connections:
    """The connections of one run and the state they share with it."""

    def __init__(
        self,
        writer: Writer,
        worker: WorkerId,
        settings: Settings,
        bucket: TokenBucket,
        *,
        queue_size: int,
        stale_after: float,
        halted: Callable[[], bool],
        on_relay_failure: Callable[[str], None],
    ) -> None:
        self.writer = writer
        self.worker = worker
        self.settings = settings
        self.bucket = bucket
        self.stale_after = stale_after
        self.halted = halted
        self.on_relay_failure = on_relay_failure
        self.queue: Queue = asyncio.Queue(queue_size)
        self.in_flight = 0  # rows claimed and not yet answered, released or failed
        self.relay_failure: str | None = None
        self.store_failure: StoreUnavailable | None = None  # halts the run; raised at its end
        self.fresh_drops = 0  # see DROPS_TO_RELAY_FAILURE

    @property
    def failed(self) -> bool:
        """The relay failed, the store failed or the lease is lost: claim and send no more."""
        return (
            self.relay_failure is not None
            or self.store_failure is not None
            or self.writer.lease_lost
        )

    def done_with(self, items: list[Claimed], *, release: bool = False) -> None:
        if release:
            self.writer.release(items)
        self.in_flight -= len(items)

    def release_queued(self) -> None:
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
            self.done_with(leftovers, release=True)

    async def wait_for(
        self, connections: list[asyncio.Task[None]], stop: asyncio.Event, drain: float
    ) -> None:
        """Let in-flight messages finish; after a stop request, for ``drain`` seconds at most
        (rows still unanswered then stay ``sending`` and become ``in_doubt``)."""
        stopping = asyncio.create_task(stop.wait())
        try:
            everything = asyncio.gather(*connections, return_exceptions=True)
            first: set[asyncio.Future[Any]] = {everything, stopping}
            await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
            if not everything.done():
                await asyncio.wait(connections, timeout=drain)
        finally:
            stopping.cancel()

    async def connection(self) -> None:
        """One connection: send what the queue gives until it gives None."""
        queue = self.queue
        relay: Relay | None = None
        used = 0
        per_connection = self.settings.integer("sending.max_per_connection")
        try:
            while (entry := await queue.get()) is not None:
                item, built = entry
                if self.halted():
                    self.done_with([item], release=True)
                    continue
                if relay is not None and (relay.broken or used >= per_connection):
                    await relay.__aexit__(None, None, None)
                    relay = None
                if relay is None:
                    try:
                        relay = await Relay(RelaySettings.from_settings(self.settings)).__aenter__()
                    except RelayFailure as exc:
                        self.relay_failed(exc.reply)
                        self.done_with([item], release=True)
                        continue
                    used = 0
                await self.bucket.take()
                try:
                    marked = await self.writer.mark(item)
                except StoreUnavailable as exc:
                    # Not marked, so not sent; the run winds down (nothing must wait for a
                    # connection that is gone) and raises it at its end.
                    self.store_failure = self.store_failure or exc
                    self.done_with([item], release=True)
                    continue
                if not marked or not await self._still_ours():
                    self.done_with([item])
                    continue
                self.writer.on_the_wire += 1
                try:
                    outcome = await self._send(relay, built)
                finally:
                    self.writer.on_the_wire -= 1
                self._count_drop(outcome, fresh=used == 0)
                self.writer.record(item, outcome)
                self.done_with([item])
                used += 1
        finally:
            if relay is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(relay.__aexit__(None, None, None))

    async def _send(self, relay: Relay, built: Built) -> Outcome:
        try:
            return await relay.send(built.envelope_from, built.recipient, built.message)
        except RelayFailure as exc:
            self.relay_failed(exc.reply)
            return Outcome(built.recipient, ReplyClass.RELAY, exc.reply)
        except Exception as exc:
            # Whatever went wrong, the row gets a result: one left `sending` would stall the
            # run until someone interrupts it.
            relay.broken = True
            relay.close()
            reply = f"the outcome is unknown: {type(exc).__name__}: {exc}"
            return Outcome(built.recipient, ReplyClass.UNKNOWN, reply)

    def _count_drop(self, outcome: Outcome, *, fresh: bool) -> None:
        if not outcome.unanswered:
            self.fresh_drops = 0
            return
        if fresh:
            self.fresh_drops += 1
        if self.fresh_drops >= DROPS_TO_RELAY_FAILURE:
            self.relay_failed(
                f"the relay closed {self.fresh_drops} new connections in a row before answering "
                f"MAIL FROM ({outcome.reply})"
            )

    async def _still_ours(self) -> bool:
        """Before DATA: a holder that may have been asleep since its mark was committed (a
        stopped process, a laptop lid) makes sure the lease is still its own."""
        writer = self.writer
        if boottime() - writer.confirmed_at < self.stale_after:
            return True
        if await writer.call(lambda conn: holds(conn, self.worker), write=False):
            writer.confirmed_at = boottime()
            return True
        writer.lease_lost = True
        return False

    def relay_failed(self, reply: str) -> None:
        if self.relay_failure is None:
            self.relay_failure = reply
            self.on_relay_failure(reply)
