"""`lettr daemon tick`: one pass for cron. Promote the scheduled campaigns that are due, then
drive every campaign that is preparing or sending and not leased by a live process, until
nothing it holds is due or the deadline passes (CONTRACT "Sending, from the command line"); then
send the confirmation mails that a double opt-in import queued (``optin.queue``)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from lettr_cli.delivery import leases, outbox
from lettr_cli.delivery.control import drivable, take_lease
from lettr_cli.delivery.engine import CampaignRun, paused
from lettr_cli.delivery.observer import Observer, Quiet, RunResult
from lettr_cli.optin.queue import QueueResult, send_queued
from lettr_cli.workspace import Workspace


@dataclass
class Skipped:
    campaign_id: str
    name: str
    holder: leases.Holder


@dataclass
class TickResult:
    runs: list[RunResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    paused: bool = False
    relay_failure: str | None = None
    interrupted: bool = False
    archived: dict[str, int] = field(default_factory=dict)  # campaign id → events archived
    archive_failure: str | None = None
    confirmations: QueueResult = field(default_factory=QueueResult)

    def to_json(self, workspace: Workspace) -> dict[str, Any]:
        campaigns = []
        with workspace.store.connect() as conn, conn.begin():
            for run in self.runs:
                campaigns.append(
                    {
                        "id": run.campaign_id,
                        "name": run.name,
                        "status": run.status,
                        **outbox.summary(conn, run.campaign_id).results(),
                        "failure_reason": run.failure_reason,
                    }
                )
        body: dict[str, Any] = {
            "campaigns": campaigns,
            "skipped": [{"id": s.campaign_id, "holder": s.holder.to_json()} for s in self.skipped],
        }
        if self.confirmations.anything:  # only once double opt-in imports queued something
            body["confirmations"] = self.confirmations.to_json()
        return body


async def tick(
    workspace: Workspace,
    *,
    observer: Observer | None = None,
    stop: asyncio.Event | None = None,
    max_seconds: float | None = None,
) -> TickResult:
    observer = observer or Quiet()
    stop = stop or asyncio.Event()
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    result = TickResult()
    await asyncio.to_thread(archive, workspace, result)
    await asyncio.to_thread(promote, workspace, observer)
    if await asyncio.to_thread(paused, workspace):
        result.paused = True
        return result
    for campaign_id, name in await asyncio.to_thread(drivable, workspace):
        if stop.is_set() or (deadline is not None and time.monotonic() >= deadline):
            break
        taken = await asyncio.to_thread(take_lease, workspace, campaign_id)
        if isinstance(taken, leases.Holder):
            result.skipped.append(Skipped(campaign_id, name, taken))
            observer.state(campaign_id, name, "skipped", f"being prepared by {taken.describe()}")
            continue
        run = CampaignRun(workspace, taken, observer=observer, stop=stop, deadline=deadline)
        outcome = await run.drive()
        result.runs.append(outcome)
        if outcome.relay_failure is not None:
            result.relay_failure = outcome.relay_failure
            break
        if outcome.paused:
            result.paused = True
            break
    if result.relay_failure is None and not result.paused:
        result.confirmations = await send_queued(workspace, stop=stop, deadline=deadline)
        result.relay_failure = result.confirmations.relay_failure
    result.interrupted = stop.is_set()
    return result


def archive(workspace: Workspace, result: TickResult) -> None:
    """Events of campaigns past their 30-day window go to the archive CSV (counters stay). A
    failure to write the archive is reported and leaves the events in place; sending goes on."""
    from lettr_cli.analytics.archive import archive_due

    try:
        result.archived = archive_due(workspace.store, home=workspace.home).archived
    except OSError as error:
        result.archive_failure = f"{error.filename or ''}: {error.strerror or error}".lstrip(": ")


def promote(workspace: Workspace, observer: Observer) -> None:
    """Scheduled campaigns that are due start preparing, or fail with their reason."""
    from lettr_cli.campaigns import scheduling

    for promotion in scheduling.promote_due(workspace):
        observer.state(promotion.id, promotion.name, promotion.status, promotion.reason or "")
