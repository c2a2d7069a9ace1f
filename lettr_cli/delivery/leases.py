"""Leases: one process drives a campaign at a time (CONTRACT "Sending, from the command line").

A lease names its holder (a random token), pid, host and last heartbeat. It is taken over when
its heartbeat is older than the timeout, or when its pid is gone on this host; every takeover
moves the epoch, and the engine checks holder and epoch in the same transaction as each
``sending`` mark, so a holder that was only asleep cannot send again (DESIGN "Fencing").
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.store.tables import Lease, table_of
from lettr_cli.store.types import utcnow

leases = table_of(Lease)
TIMEOUT_SECONDS = 30.0
# Tests shorten the takeover time; operators have no reason to.
TIMEOUT_VARIABLE = "LETTR_LEASE_TIMEOUT"


def timeout_seconds(environ: Any = os.environ) -> float:
    try:
        return max(0.5, float(environ.get(TIMEOUT_VARIABLE, TIMEOUT_SECONDS)))
    except ValueError:
        return TIMEOUT_SECONDS


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
    campaign_id: str
    holder: str
    epoch: int


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free(row: Any, now: datetime, timeout: float) -> bool:
    if row is None or row.holder is None:
        return True
    if row.heartbeat_at is None or now - row.heartbeat_at > timedelta(seconds=timeout):
        return True
    return bool(row.host == socket.gethostname() and row.pid and not _alive(row.pid))


def acquire(conn: Connection, campaign_id: str, *, timeout: float) -> LeaseHandle | Holder:
    """Take the campaign's lease (inside the caller's write transaction), or say who has it."""
    now = utcnow()
    row = conn.execute(sa.select(leases).where(leases.c.campaign_id == campaign_id)).first()
    if not _free(row, now, timeout):
        assert row is not None
        return Holder(row.pid, row.host, row.heartbeat_at)
    handle = LeaseHandle(campaign_id, uuid.uuid4().hex, (row.epoch if row else 0) + 1)
    values = {
        "holder": handle.holder,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "epoch": handle.epoch,
        "heartbeat_at": now,
    }
    if row is None:
        conn.execute(leases.insert().values(campaign_id=campaign_id, **values))
        return handle
    # Taken only as it was read: a holder that renewed its heartbeat meanwhile (one that was
    # preparing in a long transaction) keeps it, and so does a process that took it first.
    taken = conn.execute(
        leases.update()
        .where(
            leases.c.campaign_id == campaign_id,
            leases.c.epoch == row.epoch,
            leases.c.holder.is_not_distinct_from(row.holder),
            leases.c.heartbeat_at.is_not_distinct_from(row.heartbeat_at),
        )
        .values(**values)
    )
    if taken.rowcount != 1:
        now_row = conn.execute(sa.select(leases).where(leases.c.campaign_id == campaign_id)).one()
        return Holder(now_row.pid, now_row.host, now_row.heartbeat_at)
    return handle


def _mine(handle: LeaseHandle) -> Any:
    return (
        (leases.c.campaign_id == handle.campaign_id)
        & (leases.c.holder == handle.holder)
        & (leases.c.epoch == handle.epoch)
    )


_HOLDS = sa.select(leases.c.epoch).where(
    leases.c.campaign_id == sa.bindparam("campaign_id"),
    leases.c.holder == sa.bindparam("holder"),
    leases.c.epoch == sa.bindparam("epoch"),
)


def holds(conn: Connection, handle: LeaseHandle) -> bool:
    """Whether ``handle`` is still the campaign's lease (asked before every group of marks)."""
    found = conn.execute(
        _HOLDS,
        {"campaign_id": handle.campaign_id, "holder": handle.holder, "epoch": handle.epoch},
    )
    return found.first() is not None


def heartbeat(conn: Connection, handle: LeaseHandle) -> bool:
    """Renew the lease; False when it was taken over."""
    result = conn.execute(leases.update().where(_mine(handle)).values(heartbeat_at=utcnow()))
    return result.rowcount == 1


def release(conn: Connection, handle: LeaseHandle) -> None:
    """Give the lease up; the row stays so that the epoch keeps counting."""
    conn.execute(
        leases.update().where(_mine(handle)).values(holder=None, pid=None, heartbeat_at=None)
    )
