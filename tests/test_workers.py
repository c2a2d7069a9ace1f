"""Per-worker leases (issue 17): reaping a worker that is stale or whose pid is gone touches only
its rows; a worker whose epoch moved changes nothing (fencing in SQL); `daemon tick` joins a
campaign that another live worker sends and skips only one another worker is preparing.

Other workers are simulated by writing their rows into the store, as another process would."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lettr_cli.delivery import leases, workers
from lettr_cli.delivery.control import take_lease
from lettr_cli.delivery.outcomes import RetryPolicy
from lettr_cli.delivery.preparing import prepare_campaign
from lettr_cli.delivery.writer import Claimed, Writer
from lettr_cli.workspace import Workspace
from tests.conftest import store_location
from tests.sending_helpers import make_campaign
from tests.store_access import on_server, store_connect

RECIPIENTS = 8
pytestmark = pytest.mark.usefixtures("each_engine")


@dataclass
class Shared:
    workspace: Workspace
    campaign_id: str
    home: Path

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        with store_connect(self.home) as conn:
            cursor = conn.execute(statement, params)
            return list(cursor.fetchall()) if cursor.description else []

    def join(self) -> leases.LeaseHandle:
        taken = take_lease(self.workspace, self.campaign_id)
        assert isinstance(taken, leases.LeaseHandle)
        return taken

    def writer(self, handle: leases.LeaseHandle) -> Writer:
        policy = RetryPolicy.from_settings(self.workspace.settings())
        return Writer(self.workspace.store, handle, policy)

    def reap(self, timeout: float = 30.0) -> int:
        with self.workspace.store.connect("IMMEDIATE") as conn, conn.begin():
            return workers.reap(conn, timeout)

    def rows(self, worker_id: str) -> list[tuple[str, str | None, int | None]]:
        return [
            (r[0], r[1], r[2])
            for r in self.sql(
                "SELECT status, claim_token, worker_epoch FROM outbox WHERE worker_id = ? "
                "ORDER BY id",
                worker_id,
            )
        ]

    def worker(self, worker_id: str) -> tuple[int, str | None]:
        [(epoch, beat)] = self.sql(
            "SELECT epoch, heartbeat_at FROM workers WHERE id = ?", worker_id
        )
        return int(epoch), beat


@pytest.fixture
def shared(
    lettr: Any, verified_domain: Any, tmp_path: Path, isolated_home: Path
) -> Iterator[Shared]:
    """A campaign prepared and sending, no worker on it."""
    verified_domain()
    emails = [f"user{n}@example.org" for n in range(RECIPIENTS)]
    campaign_id = make_campaign(lettr, tmp_path, emails)
    assert lettr("campaign", "send", "Sale", "--detach", "--yes").exit_code == 0
    workspace = Workspace.open(store_location(isolated_home), home=isolated_home, environ={})
    state = Shared(workspace, campaign_id, isolated_home)
    handle = state.join()
    with workspace.store.connect("IMMEDIATE") as conn, conn.begin():
        assert prepare_campaign(workspace, conn, handle)[0] == "sending"
        workers.deregister(conn, handle.worker)
    try:
        yield state
    finally:
        workspace.close()


def claim_and_mark(writer: Writer, claim: int, mark: int) -> list[Claimed]:
    async def scenario() -> list[Claimed]:
        items = await writer.claim(claim)
        for item in items[:mark]:
            assert await writer.mark(item)
        return items

    return asyncio.run(scenario())


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_stale_worker_is_reaped_and_only_its_rows_move(shared: Shared) -> None:
    a, b = shared.join(), shared.join()
    writer_a, writer_b = shared.writer(a), shared.writer(b)
    try:
        claim_and_mark(writer_a, 3, 1)
        claim_and_mark(writer_b, 3, 1)
    finally:
        writer_a.close()
        writer_b.close()
    shared.sql("UPDATE workers SET heartbeat_at = '2000-01-01 00:00:00.000' WHERE id = ?", a.holder)
    b_before = shared.rows(b.holder)
    assert shared.reap() == 1  # a's one `sending` row
    assert shared.worker(a.holder) == (2, None)  # the epoch moved; no heartbeat
    assert shared.worker(b.holder)[0] == 1
    # a's `sending` row is in doubt and keeps its claim (a late reply may still land on it);
    # its claimed rows went back to the queue without a worker.
    assert [status for status, _, _ in shared.rows(a.holder)] == ["in_doubt"]
    assert shared.rows(b.holder) == b_before
    assert [s for s, _, _ in b_before] == ["sending", "claimed", "claimed"]
    [(queued,)] = shared.sql("SELECT count(*) FROM outbox WHERE status = 'queued'")
    assert queued == RECIPIENTS - 4
    assert shared.reap() == 0  # nothing more to reap


def test_a_worker_whose_pid_is_gone_on_this_host_is_reaped_at_once(shared: Shared) -> None:
    a = shared.join()
    writer = shared.writer(a)
    try:
        claim_and_mark(writer, 2, 1)
    finally:
        writer.close()
    gone = dead_pid()
    shared.sql("UPDATE workers SET pid = ? WHERE id = ?", gone, a.holder)
    # The same pid on another host says nothing: that worker is only reaped when stale.
    now = "now()" if on_server() else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    shared.sql(
        "INSERT INTO workers (id, host, pid, epoch, heartbeat_at, started_at) "
        f"VALUES ('elsewhere', 'another-host', ?, 1, {now}, {now})",
        gone,
    )
    assert shared.reap() == 1
    assert shared.worker(a.holder) == (2, None)
    assert shared.worker("elsewhere")[0] == 1
    assert shared.rows(a.holder)[0][0] == "in_doubt"


def test_a_mark_or_claim_with_an_old_epoch_changes_nothing(shared: Shared) -> None:
    """A worker reaped while it was asleep wakes up: its marks and claims match nothing (its
    epoch moved) and it stops, as when a lease is lost."""
    a = shared.join()
    writer = shared.writer(a)

    async def scenario() -> tuple[bool, list[Claimed]]:
        items = await writer.claim(3)
        shared.sql(
            "UPDATE workers SET epoch = epoch + 1, heartbeat_at = NULL WHERE id = ?", a.holder
        )
        # Another worker's reaper would have put the rows back; here they are left claimed
        # with a's token, so that only the epoch fences the mark.
        marked = await writer.mark(items[0])
        return marked, await writer.claim(3)

    try:
        marked, again = asyncio.run(scenario())
    finally:
        writer.close()
    assert marked is False
    assert again == []
    assert writer.lease_lost
    assert [status for status, _, _ in shared.rows(a.holder)] == ["claimed"] * 3
    [(attempts,)] = shared.sql("SELECT sum(attempts) FROM outbox")
    assert attempts == 0


def test_a_result_with_an_old_epoch_in_the_row_changes_nothing(shared: Shared) -> None:
    """The row's epoch is part of the fence: a row claimed at another epoch of the same worker
    is not this writer's."""
    a = shared.join()
    writer = shared.writer(a)

    async def scenario() -> bool:
        [item] = await writer.claim(1)
        shared.sql("UPDATE outbox SET worker_epoch = 7 WHERE id = ?", item.row_id)
        return await writer.mark(item)

    try:
        assert asyncio.run(scenario()) is False
    finally:
        writer.close()
    assert writer.fenced == 1
    assert shared.rows(a.holder) == [("claimed", shared.rows(a.holder)[0][1], 7)]


def test_tick_joins_a_campaign_another_live_worker_sends(
    lettr: Any, smtp_server: Any, shared: Shared
) -> None:
    other = shared.join()  # this test process: alive, on this host, fresh
    result = lettr("daemon", "tick", "--json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["skipped"] == []
    assert [(c["id"], c["status"], c["sent"]) for c in body["campaigns"]] == [
        (shared.campaign_id, "sent", RECIPIENTS)
    ]
    assert shared.worker(other.holder)[0] == 1  # a live worker is never reaped
    assert len(smtp_server.messages) == RECIPIENTS


def test_tick_skips_only_a_campaign_another_worker_is_preparing(
    lettr: Any, smtp_server: Any, verified_domain: Any, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    campaign_id = make_campaign(lettr, tmp_path, [f"p{n}@example.org" for n in range(3)])
    assert lettr("campaign", "send", "Sale", "--detach", "--yes").exit_code == 0
    workspace = Workspace.open(store_location(isolated_home), home=isolated_home, environ={})
    try:
        preparer = take_lease(workspace, campaign_id)  # holds the preparing lock
        assert isinstance(preparer, leases.LeaseHandle)
        skipped = lettr("daemon", "tick", "--json")
        assert skipped.exit_code == 0, skipped.stderr
        [held] = skipped.json()["skipped"]
        assert held["id"] == campaign_id
        assert (held["holder"]["pid"], held["holder"]["host"]) == (
            os.getpid(),
            socket.gethostname(),
        )
        assert "being prepared by" in skipped.stderr
        assert not smtp_server.messages
        with workspace.store.connect("IMMEDIATE") as conn, conn.begin():
            workers.deregister(conn, preparer.worker)  # as its run ends
    finally:
        workspace.close()
    done = lettr("daemon", "tick", "--json")
    assert done.json()["skipped"] == []
    assert [c["status"] for c in done.json()["campaigns"]] == ["sent"]


def test_sending_rate_is_shared_among_the_live_workers(
    lettr: Any, smtp_server: Any, shared: Shared
) -> None:
    """`sending.rate` is a budget for all workers together: with another live worker, a run
    takes half of it."""
    from lettr_cli.delivery.engine import CampaignRun

    assert lettr("config", "set", "sending.rate", "1000").exit_code == 0
    other = shared.join()
    mine = shared.join()
    run = CampaignRun(shared.workspace, mine)
    result = asyncio.run(run.drive())
    assert result.status == "sent"
    assert run.bucket.rate == 500
    assert shared.worker(other.holder)[0] == 1
