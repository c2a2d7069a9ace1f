"""How far a send has come, as plain data any face can show: counts, rate and the time left,
computed from a run's ``Snapshot`` (the engine's observer or the store-polled watch); and the
one-line words the CLI's log lines use."""

from __future__ import annotations

from dataclasses import dataclass

from lettr_cli.campaigns import lifecycle
from lettr_cli.delivery.observer import Snapshot

# What a campaign's state change means, in the words of the log lines and the live display.
STATE_WORDS = {
    lifecycle.SENDING: "prepared; sending",
    lifecycle.IN_REVIEW: "parked in review",
    lifecycle.FAILED: "failed",
    lifecycle.SENT: "sent",
    "paused": "paused (sending.paused or the PAUSE file): nothing new is claimed",
    "relay_failed": "the relay failed",
    "skipped": "skipped",
    lifecycle.PREPARING: "due; preparing",
}


def eta_seconds(snapshot: Snapshot) -> int | None:
    """Whole seconds until every recipient is done at the current rate; None when nothing is
    left, or nothing was sent yet to measure a rate by."""
    left = snapshot.total - snapshot.done
    if left <= 0 or snapshot.rate <= 0:
        return None
    return int(left / snapshot.rate)


def eta_text(seconds: int | None) -> str:
    """``12m05s``, or ``-`` when there is no estimate."""
    if seconds is None:
        return "-"
    return f"{seconds // 60}m{seconds % 60:02d}s"


@dataclass(frozen=True)
class Progress:
    """A snapshot's figures: ``done`` counts every row with a final answer; ``failed`` includes
    bounces; ``rate`` is messages sent per second since the clock started."""

    campaign_id: str
    name: str
    total: int
    done: int
    sent: int
    failed: int
    retrying: int
    skipped: int
    in_doubt: int
    rate: float
    eta_seconds: int | None

    @property
    def eta(self) -> str:
        return eta_text(self.eta_seconds)


def progress_of(snapshot: Snapshot) -> Progress:
    t = snapshot.tally
    return Progress(
        campaign_id=snapshot.campaign_id,
        name=snapshot.name,
        total=snapshot.total,
        done=snapshot.done,
        sent=t.sent,
        failed=t.failed + t.bounced,
        retrying=t.retrying,
        skipped=t.skipped,
        in_doubt=t.in_doubt,
        rate=snapshot.rate,
        eta_seconds=eta_seconds(snapshot),
    )


def describe(snapshot: Snapshot) -> str:
    """One line: ``Sale: 30/120 sent, 12/s, 0 failed, ... ETA 0m07s``."""
    p = progress_of(snapshot)
    return (
        f"{p.name}: {p.sent}/{p.total} sent, {p.rate:.0f}/s, "
        f"{p.failed} failed, {p.retrying} retries waiting, "
        f"{p.skipped} skipped, {p.in_doubt} in doubt, ETA {p.eta}"
    )


def state_line(name: str, status: str, detail: str) -> str:
    """One line for a state change: ``Sale: prepared; sending``, with the detail if any."""
    words = STATE_WORDS.get(status, status)
    return f"{name}: {words}{f': {detail}' if detail else ''}"
