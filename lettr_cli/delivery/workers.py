"""Workers: the processes that share the sending of campaigns (DESIGN "Several daemons").

A worker is registered when a process starts driving a campaign and removed when it winds up.
Its heartbeat is written by the database's clock (``store.clock``), so hosts whose clocks
disagree still agree on who is stale. A worker whose heartbeat is older than the timeout, or
whose pid is gone on this host, is reaped: its epoch moves (an asleep worker that wakes finds
that out before its next DATA), its ``claimed`` rows go back to the queue and its ``sending``
rows become ``in_doubt``. Nobody else's rows are touched.

On PostgreSQL heartbeats and reaps take only row locks (``store.server``). A heartbeat updates
the worker's row at its epoch; a reap moves the epoch only at the epoch it read and while the
row is still stale, in one statement: whichever of the two waits for the other's row lock
checks again on the row as the other left it, so a worker that beat is never reaped and a
reaped one's beat matches nothing. A heartbeat holds its row until its transaction commits, so
the marks of the same transaction cannot be reaped under it. A reaper locks a worker's row,
then its outbox rows; a worker's claim or group of marks beats first, so it locks them in the
same order (a group of results alone takes no worker row). A deadlock that still happens (two
transactions over several campaigns' rows) is rolled back and run again by
``Store.transact``.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.delivery import outbox
from lettr_cli.store.clock import db_ago, db_now
from lettr_cli.store.tables import Lease, Worker, table_of

workers = table_of(Worker)
_leases = table_of(Lease)
TIMEOUT_SECONDS = 30.0
# Tests shorten the time after which a silent worker is reaped; operators have no reason to.
TIMEOUT_VARIABLE = "LETTR_LEASE_TIMEOUT"
# Reaped rows are kept a while (an asleep worker learns from its row that it was reaped).
FORGET_REAPED_SECONDS = 24 * 3600.0


def timeout_seconds(environ: Any = os.environ) -> float:
    try:
        return max(0.5, float(environ.get(TIMEOUT_VARIABLE, TIMEOUT_SECONDS)))
    except ValueError:
        return TIMEOUT_SECONDS


@dataclass(frozen=True)
class WorkerId:
    """This process's registration: its id and the epoch its fenced updates carry."""

    id: str
    epoch: int


def register(conn: Connection) -> WorkerId:
    """Add a worker for this process (inside the caller's write transaction)."""
    me = WorkerId(uuid.uuid4().hex, 1)
    conn.execute(
        workers.insert().values(
            id=me.id,
            host=socket.gethostname(),
            pid=os.getpid(),
            epoch=me.epoch,
            heartbeat_at=db_now(),
            started_at=db_now(),
        )
    )
    return me


def _mine(me: WorkerId) -> Any:
    return (
        (workers.c.id == me.id) & (workers.c.epoch == me.epoch) & workers.c.heartbeat_at.isnot(None)
    )


# Built once: the lease check runs with every group of marks.
_HEARTBEAT = (
    workers.update()
    .where(
        workers.c.id == sa.bindparam("me_id"),
        workers.c.epoch == sa.bindparam("me_epoch"),
        workers.c.heartbeat_at.isnot(None),
    )
    .values(heartbeat_at=db_now())
)


def heartbeat(conn: Connection, me: WorkerId) -> bool:
    """Renew the heartbeat; False when the worker was reaped. On PostgreSQL the row stays locked
    until the commit, so a reaper waits for it and then finds it fresh: this is the lease check
    of a group of marks (DESIGN "Fencing")."""
    return conn.execute(_HEARTBEAT, {"me_id": me.id, "me_epoch": me.epoch}).rowcount == 1


def beat(conn: Connection, me: WorkerId, timeout: float) -> int | None:
    """One beat of a running worker: renew its heartbeat and reap the workers that died; None
    when this worker was reaped, else how many workers live."""
    if not heartbeat(conn, me):
        return None
    reap(conn, timeout)
    return live(conn, timeout)


def holds(conn: Connection, me: WorkerId) -> bool:
    """Whether the worker is still alive in the store (not reaped), without writing."""
    return conn.execute(sa.select(workers.c.id).where(_mine(me))).first() is not None


def deregister(conn: Connection, me: WorkerId) -> None:
    """Remove the worker (its rows were released or finished by its run)."""
    conn.execute(workers.delete().where(workers.c.id == me.id))
    conn.execute(
        _leases.update()
        .where(_leases.c.holder == me.id)
        .values(holder=None, pid=None, heartbeat_at=None)
    )


def live(conn: Connection, timeout: float) -> int:
    """How many workers have a heartbeat younger than ``timeout`` (``sending.rate`` is shared
    among them)."""
    query = sa.select(sa.func.count()).where(workers.c.heartbeat_at >= db_ago(timeout))
    return int(conn.execute(query).scalar_one())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap(conn: Connection, timeout: float) -> int:
    """Reap every worker that is stale or whose pid is gone on this host, and put back rows that
    carry no worker (claimed before workers existed); returns how many rows became
    ``in_doubt``. Each reap is conditional on what was read (epoch, and staleness in the same
    statement), so a worker that beat meanwhile is left alone."""
    doubted = 0
    # Workers are reaped in id order: two reapers lock their rows in the same order.
    stale = conn.execute(
        sa.select(workers.c.id, workers.c.epoch)
        .where(workers.c.heartbeat_at.isnot(None), workers.c.heartbeat_at < db_ago(timeout))
        .order_by(workers.c.id)
    ).all()
    for row in stale:
        doubted += _reap_one(
            conn, WorkerId(row.id, row.epoch), workers.c.heartbeat_at < db_ago(timeout)
        )
    here = conn.execute(
        sa.select(workers.c.id, workers.c.epoch, workers.c.pid)
        .where(workers.c.heartbeat_at.isnot(None), workers.c.host == socket.gethostname())
        .order_by(workers.c.id)
    ).all()
    for worker in here:
        if worker.pid != os.getpid() and not _alive(worker.pid):
            doubted += _reap_one(conn, WorkerId(worker.id, worker.epoch), sa.true())
    doubted += outbox.recover_rows(conn, outbox.outbox.c.worker_id.is_(None))
    conn.execute(
        workers.delete().where(
            workers.c.heartbeat_at.is_(None), workers.c.reaped_at < db_ago(FORGET_REAPED_SECONDS)
        )
    )
    return doubted


def _reap_one(conn: Connection, victim: WorkerId, condition: Any) -> int:
    moved = conn.execute(
        workers.update()
        .where(workers.c.id == victim.id, workers.c.epoch == victim.epoch, condition)
        .values(epoch=victim.epoch + 1, heartbeat_at=None, reaped_at=db_now())
    )
    if moved.rowcount != 1:
        return 0
    conn.execute(
        _leases.update()
        .where(_leases.c.holder == victim.id)
        .values(holder=None, pid=None, heartbeat_at=None)
    )
    return outbox.recover_rows(conn, outbox.worker_rows(victim.id, victim.epoch))
