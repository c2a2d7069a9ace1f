"""Follow a campaign that another process sends, from the store alone (`campaign show --watch`,
the wizard's progress page): an async generator of what each poll saw, until the campaign is
sent, failed, parked in review or back in draft. Safe inside any running event loop: each read
runs on a worker thread, and the wait between polls is an ``asyncio.sleep``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from lettr_cli.campaigns import lifecycle
from lettr_cli.delivery import outbox
from lettr_cli.delivery.observer import Snapshot
from lettr_cli.delivery.writer import Tally
from lettr_cli.workspace import Workspace

# The statuses a watch ends on: the send is over, or waits on an operator.
WATCHED_UNTIL = frozenset({lifecycle.SENT, lifecycle.FAILED, lifecycle.IN_REVIEW, lifecycle.DRAFT})


@dataclass(frozen=True)
class Watched:
    """One poll: the campaign's status (``changed`` when it differs from the previous poll's,
    and on the first), its failure reason (empty if none) and its progress."""

    status: str
    failure_reason: str
    changed: bool
    snapshot: Snapshot

    @property
    def final(self) -> bool:
        """The last poll of the watch."""
        return self.status in WATCHED_UNTIL


@dataclass(frozen=True)
class _Read:
    name: str
    status: str
    failure_reason: str
    total: int
    outbox: outbox.Summary


def _read(workspace: Workspace, campaign_id: str) -> _Read:
    with workspace.store.connect() as conn, conn.begin():
        row = conn.execute(
            outbox.campaigns.select().where(outbox.campaigns.c.id == campaign_id)
        ).one()
        left = outbox.summary(conn, campaign_id)
    return _Read(
        str(row.name),
        str(row.status),
        str(row.failure_reason or ""),
        int(row.total_recipients),
        left,
    )


async def watch(
    workspace: Workspace,
    campaign_id: str,
    interval: float = 1.0,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[Watched]:
    """Poll the campaign every ``interval`` seconds and yield what was seen, the last time with
    a status in ``WATCHED_UNTIL``. The rate counts what was sent after the first poll (a
    watcher may join a send midway); ``clock`` gives the seconds elapsed."""
    started = clock()
    first_sent: int | None = None
    last_status = ""
    while True:
        seen = await asyncio.to_thread(_read, workspace, campaign_id)
        counts = seen.outbox.counts
        first_sent = counts[outbox.SENT] if first_sent is None else first_sent
        tally = Tally(
            sent=counts[outbox.SENT],
            failed=counts[outbox.FAILED],
            bounced=counts[outbox.BOUNCED],
            skipped=counts[outbox.SKIPPED],
            in_doubt=counts[outbox.IN_DOUBT],
            retrying=seen.outbox.retrying,
        )
        snapshot = Snapshot(
            campaign_id, seen.name, seen.total, tally, clock() - started, first_sent
        )
        polled = Watched(seen.status, seen.failure_reason, seen.status != last_status, snapshot)
        last_status = seen.status
        yield polled
        if polled.final:
            return
        await asyncio.sleep(interval)
