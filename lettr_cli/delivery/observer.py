"""What a campaign run tells the outside: progress snapshots and state changes through an
``Observer`` (the CLI's live table or log lines, the demo), and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from lettr_cli.delivery.writer import Tally


@dataclass(frozen=True)
class Snapshot:
    """How far a run has come, for the live display and the log lines."""

    campaign_id: str
    name: str
    total: int
    tally: Tally
    elapsed: float
    baseline: int = 0  # sent before the clock started (a watcher joining a send midway)

    @property
    def done(self) -> int:
        t = self.tally
        return t.sent + t.failed + t.bounced + t.skipped + t.in_doubt

    @property
    def rate(self) -> float:
        sent = self.tally.sent - self.baseline
        return sent / self.elapsed if self.elapsed > 0 else 0.0


class Observer(Protocol):
    def progress(self, snapshot: Snapshot) -> None: ...

    def state(self, campaign_id: str, name: str, status: str, detail: str) -> None: ...


class Quiet:
    """An observer that shows nothing."""

    def progress(self, snapshot: Snapshot) -> None:
        return None

    def state(self, campaign_id: str, name: str, status: str, detail: str) -> None:
        return None


@dataclass
class RunResult:
    campaign_id: str
    name: str
    status: str
    tally: Tally = field(default_factory=Tally)
    in_doubt: int = 0
    retry_at: datetime | None = None
    relay_failure: str | None = None
    paused: bool = False
    lease_lost: bool = False
    interrupted: bool = False
    failure_reason: str | None = None
