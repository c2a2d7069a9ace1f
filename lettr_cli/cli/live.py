"""How a send looks while it runs: a Rich live table on a terminal (per campaign: sent/total,
rate, failures, retries waiting, ETA), else one plain line per batch and per state change on
stderr, for cron's mail and log files. The engine reports through the ``Observer`` protocol."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from lettr_cli.cli.progress import _is_terminal
from lettr_cli.delivery.progress import describe, progress_of, state_line
from lettr_cli.errors import EXIT_SIGINT, EXIT_SIGTERM

T = TypeVar("T")

if TYPE_CHECKING:
    from lettr_cli.delivery.observer import Snapshot
    from lettr_cli.workspace import Workspace

LINE_EVERY = 64  # rows between two plain progress lines (one claim batch)


class PlainDisplay:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.shown: dict[str, int] = {}

    def _write(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.out.write(f"{stamp} {text}\n")
        self.out.flush()

    def progress(self, snapshot: Snapshot) -> None:
        last = self.shown.get(snapshot.campaign_id, 0)
        if snapshot.done - last >= LINE_EVERY or (snapshot.done >= snapshot.total > last):
            self.shown[snapshot.campaign_id] = snapshot.done
            self._write(describe(snapshot))

    def state(self, campaign_id: str, name: str, status: str, detail: str) -> None:
        self._write(state_line(name, status, detail))


class LiveDisplay(PlainDisplay):
    def __init__(self, out: TextIO) -> None:
        from rich.console import Console
        from rich.live import Live

        super().__init__(out)
        self.console = Console(file=out, markup=False, highlight=False, emoji=False)
        self.rows: dict[str, Snapshot] = {}
        self.live = Live(self._table(), console=self.console, refresh_per_second=4)

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(box=None, header_style="bold")
        for column in ("campaign", "sent", "rate", "failed", "retrying", "skipped", "ETA"):
            table.add_column(column)
        for snap in self.rows.values():
            p = progress_of(snap)
            table.add_row(
                p.name,
                f"{p.sent}/{p.total}",
                f"{p.rate:.0f}/s",
                str(p.failed),
                str(p.retrying),
                str(p.skipped),
                p.eta,
            )
        return table

    def progress(self, snapshot: Snapshot) -> None:
        self.rows[snapshot.campaign_id] = snapshot
        self.live.update(self._table())

    def state(self, campaign_id: str, name: str, status: str, detail: str) -> None:
        self.console.print(state_line(name, status, detail))


@contextmanager
def display(stream: TextIO | None = None) -> Iterator[PlainDisplay]:
    out = stream or sys.stderr
    if _is_terminal(out) and not _no_live():
        shown = LiveDisplay(out)
        with shown.live:
            yield shown
    else:
        yield PlainDisplay(out)


def _no_live() -> bool:
    import os

    return os.environ.get("TERM") == "dumb"


def run_until_signal(work: Callable[[asyncio.Event], Awaitable[T]]) -> tuple[T, int | None]:
    """Run ``work(stop)`` in an event loop; SIGINT or SIGTERM sets ``stop`` (the engine drains)
    instead of killing the process. Returns the result and the exit code a signal asks for."""
    received: list[int] = []

    async def main() -> T:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def stopping(signum: int) -> None:
            received.append(signum)
            stop.set()

        handled = (signal.SIGINT, signal.SIGTERM)
        for signum in handled:
            loop.add_signal_handler(signum, stopping, signum)
        try:
            return await work(stop)
        finally:
            for signum in handled:
                loop.remove_signal_handler(signum)

    result = asyncio.run(main())
    if not received:
        return result, None
    return result, EXIT_SIGINT if received[0] == signal.SIGINT else EXIT_SIGTERM


def watch_campaign(ws: Workspace, campaign_id: str, *, interval: float = 1.0) -> None:
    """Follow a campaign that another process sends, from the store, until it ends (sent,
    failed, in review, back to draft) or Ctrl-C; the same display as a foreground send."""
    from lettr_cli.delivery.watch import watch

    async def follow(shown: PlainDisplay) -> None:
        async for polled in watch(ws, campaign_id, interval):
            if polled.changed:
                snapshot = polled.snapshot
                shown.state(campaign_id, snapshot.name, polled.status, polled.failure_reason)
            shown.progress(polled.snapshot)

    with display() as shown:
        asyncio.run(follow(shown))
