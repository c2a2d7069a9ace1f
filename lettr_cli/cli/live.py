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
from lettr_cli.errors import EXIT_SIGINT, EXIT_SIGTERM

T = TypeVar("T")

if TYPE_CHECKING:
    from lettr_cli.delivery.observer import Snapshot
    from lettr_cli.workspace import Workspace

LINE_EVERY = 64  # rows between two plain progress lines (one claim batch)

STATE_WORDS = {
    "sending": "prepared; sending",
    "in_review": "parked in review",
    "failed": "failed",
    "sent": "sent",
    "paused": "paused (sending.paused or the PAUSE file): nothing new is claimed",
    "relay_failed": "the relay failed",
    "skipped": "skipped",
    "preparing": "due; preparing",
}


def _eta(snapshot: Snapshot) -> str:
    left = snapshot.total - snapshot.done
    if left <= 0 or snapshot.rate <= 0:
        return "-"
    seconds = int(left / snapshot.rate)
    return f"{seconds // 60}m{seconds % 60:02d}s"


def describe(snapshot: Snapshot) -> str:
    t = snapshot.tally
    return (
        f"{snapshot.name}: {t.sent}/{snapshot.total} sent, {snapshot.rate:.0f}/s, "
        f"{t.failed + t.bounced} failed, {t.retrying} retries waiting, "
        f"{t.skipped} skipped, {t.in_doubt} in doubt, ETA {_eta(snapshot)}"
    )


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
        words = STATE_WORDS.get(status, status)
        self._write(f"{name}: {words}{f': {detail}' if detail else ''}")


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
            t = snap.tally
            table.add_row(
                snap.name,
                f"{t.sent}/{snap.total}",
                f"{snap.rate:.0f}/s",
                str(t.failed + t.bounced),
                str(t.retrying),
                str(t.skipped),
                _eta(snap),
            )
        return table

    def progress(self, snapshot: Snapshot) -> None:
        self.rows[snapshot.campaign_id] = snapshot
        self.live.update(self._table())

    def state(self, campaign_id: str, name: str, status: str, detail: str) -> None:
        words = STATE_WORDS.get(status, status)
        self.console.print(f"{name}: {words}{f': {detail}' if detail else ''}")


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


WATCHED_UNTIL = frozenset({"sent", "failed", "in_review", "draft"})


def watch_campaign(ws: Workspace, campaign_id: str, *, interval: float = 1.0) -> None:
    """Follow a campaign that another process sends, from the store, until it ends (sent,
    failed, in review, back to draft) or Ctrl-C; the same display as a foreground send."""
    from lettr_cli.delivery import outbox
    from lettr_cli.delivery.observer import Snapshot
    from lettr_cli.delivery.writer import Tally

    started = time.monotonic()
    first_sent: int | None = None
    last_status = ""
    with display() as shown:
        while True:
            with ws.store.connect() as conn, conn.begin():
                row = conn.execute(
                    outbox.campaigns.select().where(outbox.campaigns.c.id == campaign_id)
                ).one()
                counts = outbox.counts(conn, campaign_id)
                retrying = outbox.waiting_retries(conn, campaign_id)
            if row.status != last_status:
                shown.state(campaign_id, row.name, row.status, row.failure_reason or "")
                last_status = row.status
            first_sent = counts["sent"] if first_sent is None else first_sent
            tally = Tally(
                sent=counts["sent"],
                failed=counts["failed"],
                bounced=counts["bounced"],
                skipped=counts["skipped"],
                in_doubt=counts["in_doubt"],
                retrying=retrying,
            )
            elapsed = time.monotonic() - started
            shown.progress(
                Snapshot(campaign_id, row.name, row.total_recipients, tally, elapsed, first_sent)
            )
            if row.status in WATCHED_UNTIL:
                return
            time.sleep(interval)
