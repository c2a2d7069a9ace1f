"""What a process holds while it drives a campaign (DESIGN "Several daemons").

Sending is shared: every live worker on a campaign claims its own rows (``workers``), so a
``LeaseHandle`` names the campaign and the worker (its id and epoch) that drives it here.
Preparing stays single: one worker at a time holds the campaign's preparing lock (a row of
``leases``), taken only when no live worker has it; a campaign another worker is preparing is
what `daemon tick` reports as skipped, naming that worker's pid, host and last heartbeat.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.delivery.workers import (
    TIMEOUT_SECONDS,
    TIMEOUT_VARIABLE,
    WorkerId,
    timeout_seconds,
    workers,
)
from lettr_cli.store.tables import Lease, table_of
from lettr_cli.store.types import utcnow

__all__ = [
    "TIMEOUT_SECONDS",
    "TIMEOUT_VARIABLE",
    "Holder",
    "LeaseHandle",
    "acquire_preparing",
    "holds_preparing",
    "release_preparing",
    "timeout_seconds",
]

leases = table_of(Lease)


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, as `daemon tick` reports a skipped campaign."""

    pid: int | None
    host: str | None
    heartbeat_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "host": self.host, "heartbeat_at": self.heartbeat_at}

    def describe(self) -> str:
        beat = self.heartbeat_at.isoformat() if self.heartbeat_at else "never"
        return f"pid {self.pid} on {self.host}, last heartbeat {beat}"


@dataclass(frozen=True)
class LeaseHandle:
    """A campaign driven by this process's worker ``holder`` at ``epoch``."""

    campaign_id: str
    holder: str
    epoch: int

    @property
    def worker(self) -> WorkerId:
        return WorkerId(self.holder, self.epoch)


def _live_holder(conn: Connection, worker_id: str | None) -> Holder | None:
    if worker_id is None:
        return None
    row = conn.execute(
        sa.select(workers.c.pid, workers.c.host, workers.c.heartbeat_at).where(
            workers.c.id == worker_id, workers.c.heartbeat_at.isnot(None)
        )
    ).first()
    return None if row is None else Holder(row.pid, row.host, row.heartbeat_at)


def _insert_if_absent(conn: Connection, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING (two workers may take a new lock at once on
    PostgreSQL); True when this one inserted it."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(leases).values(**values).on_conflict_do_nothing()
    return conn.execute(statement).rowcount == 1


def acquire_preparing(conn: Connection, campaign_id: str, me: WorkerId) -> Holder | None:
    """Take the campaign's preparing lock for ``me`` (inside the caller's write transaction,
    after reaping); None when taken, else the live worker that holds it."""
    row = conn.execute(sa.select(leases).where(leases.c.campaign_id == campaign_id)).first()
    held = _live_holder(conn, row.holder if row is not None else None)
    if held is not None:
        return held
    values = {
        "holder": me.id,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "epoch": (row.epoch if row is not None else 0) + 1,
        "heartbeat_at": utcnow(),
    }
    if row is None:
        if _insert_if_absent(conn, {"campaign_id": campaign_id, **values}):
            return None
    else:
        # Taken only as it was read: a worker that took it meanwhile keeps it.
        taken = conn.execute(
            leases.update()
            .where(
                leases.c.campaign_id == campaign_id,
                leases.c.epoch == row.epoch,
                leases.c.holder.is_not_distinct_from(row.holder),
            )
            .values(**values)
        )
        if taken.rowcount == 1:
            return None
    now_row = conn.execute(sa.select(leases).where(leases.c.campaign_id == campaign_id)).one()
    return _live_holder(conn, now_row.holder) or Holder(now_row.pid, now_row.host, None)


def holds_preparing(conn: Connection, campaign_id: str, me: WorkerId) -> bool:
    """Whether ``me`` holds the campaign's preparing lock."""
    found = conn.execute(
        sa.select(leases.c.epoch).where(
            leases.c.campaign_id == campaign_id, leases.c.holder == me.id
        )
    )
    return found.first() is not None


def release_preparing(conn: Connection, campaign_id: str, me: WorkerId) -> None:
    """Give the preparing lock up; the row stays so that its epoch keeps counting."""
    conn.execute(
        leases.update()
        .where(leases.c.campaign_id == campaign_id, leases.c.holder == me.id)
        .values(holder=None, pid=None, heartbeat_at=None)
    )
