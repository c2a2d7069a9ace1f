"""A send from the wizard: the engine runs on a thread of its own (its own event loop), and its
observer hands copies of the progress to the app through ``call_from_thread``, a few times a
second. Stopping sets the run's stop event, as SIGINT does for `campaign send`."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from lettr_cli.delivery.observer import RunResult, Snapshot
from lettr_cli.delivery.progress import Progress, progress_of, state_line
from lettr_cli.workspace import Workspace

if TYPE_CHECKING:
    from lettr_cli.delivery.leases import LeaseHandle

EVERY = 0.25  # seconds between two progress updates on screen


class Throttled:
    """The engine's observer: copies each snapshot (the writer mutates its tally) and passes
    at most one every ``every`` seconds on, the last one always."""

    def __init__(
        self,
        progress: Callable[[Progress], None],
        state: Callable[[str], None],
        every: float = EVERY,
    ) -> None:
        self._progress, self._state, self.every = progress, state, every
        self._last = 0.0

    def progress(self, snapshot: Snapshot) -> None:
        now = time.monotonic()
        if now - self._last < self.every and snapshot.done < snapshot.total:
            return
        self._last = now
        self._progress(progress_of(replace(snapshot, tally=replace(snapshot.tally))))

    def state(self, campaign_id: str, name: str, status: str, detail: str) -> None:
        self._state(state_line(name, status, detail))


class StopSwitch:
    """Asks a run on another thread to stop claiming and drain."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self.asked = False

    def arm(self, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
        with self._lock:
            self._loop, self._event = loop, event
            if self.asked:
                event.set()

    def stop(self) -> None:
        with self._lock:
            self.asked = True
            if self._loop is not None and self._event is not None:
                self._loop.call_soon_threadsafe(self._event.set)


def drive(
    workspace: Workspace, handle: LeaseHandle, observer: Throttled, switch: StopSwitch
) -> RunResult:
    """Drive the campaign whose lease ``handle`` holds until it ends or is stopped; run on a
    worker thread."""
    from lettr_cli.delivery.engine import CampaignRun

    async def run() -> RunResult:
        stop = asyncio.Event()
        switch.arm(asyncio.get_running_loop(), stop)
        return await CampaignRun(workspace, handle, observer=observer, stop=stop).drive()

    return asyncio.run(run())


def outcome_lines(workspace: Workspace, result: RunResult, stopped: bool) -> list[str]:
    """What the run came to, in the words `campaign send` uses."""
    from lettr_cli.campaigns.campaigns import find_campaign
    from lettr_cli.delivery.objects import campaign_json
    from lettr_cli.delivery.run_outcome import Left, describe_result
    from lettr_cli.errors import EXIT_SIGINT

    with workspace.store.read() as session:
        body = campaign_json(session, find_campaign(session, result.campaign_id))
    left = Left(body["id"], body["status"], body["outbox"])
    outcome = describe_result(result, signalled=EXIT_SIGINT if stopped else None, left=left)
    lines = list(outcome.lines)
    if outcome.error is not None:
        lines.append(outcome.error.message)
    return [f"{body['name']}: {body['status']}", *lines]
