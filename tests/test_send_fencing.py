"""Fencing in SQL (DESIGN "Fencing"): every mark and result of a run is an update conditional on
the row's claim token and expected status, and one that matches nothing is reported and stops
the run before its next DATA. And a long prepare keeps its lease alive.

A takeover is simulated by changing rows in the store between a claim and its mark, as another
process would (on PostgreSQL nothing serialises it with this holder's transactions)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lettr_cli.delivery import leases
from lettr_cli.delivery.control import take_lease
from lettr_cli.delivery.engine import CampaignRun
from lettr_cli.delivery.outcomes import RetryPolicy
from lettr_cli.delivery.preparing import prepare_campaign
from lettr_cli.delivery.writer import Claimed, Writer
from lettr_cli.transport.replies import ReplyClass
from lettr_cli.transport.smtp import Outcome
from lettr_cli.workspace import Workspace
from tests.conftest import store_location
from tests.sending_helpers import make_campaign
from tests.smtp_relay import Relay
from tests.store_access import store_connect

RECIPIENTS = 6
pytestmark = pytest.mark.usefixtures("each_engine")


@dataclass
class Run:
    workspace: Workspace
    handle: leases.LeaseHandle
    campaign_id: str
    home: Path

    def writer(self) -> Writer:
        policy = RetryPolicy.from_settings(self.workspace.settings())
        return Writer(self.workspace.store, self.handle, policy)

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """What another process does to the store, through a connection of its own."""
        with store_connect(self.home) as conn:
            cursor = conn.execute(statement, params)
            return list(cursor.fetchall()) if cursor.description else []

    def row(self, row_id: int) -> tuple[str, str | None, int]:
        [found] = self.sql("SELECT status, claim_token, attempts FROM outbox WHERE id = ?", row_id)
        return found[0], found[1], found[2]


@pytest.fixture
def run(lettr: Any, verified_domain: Any, tmp_path: Path, isolated_home: Path) -> Iterator[Run]:
    """A campaign moved to ``preparing``, its lease taken by this process, and not prepared."""
    verified_domain()
    emails = [f"user{n}@example.org" for n in range(RECIPIENTS)]
    campaign_id = make_campaign(lettr, tmp_path, emails)
    assert lettr("config", "set", "sending.concurrency", "1").exit_code == 0
    sent = lettr("campaign", "send", "Sale", "--detach", "--yes")
    assert sent.exit_code == 0, sent.stderr
    workspace = Workspace.open(store_location(isolated_home), home=isolated_home, environ={})
    handle = take_lease(workspace, campaign_id)
    assert isinstance(handle, leases.LeaseHandle)
    try:
        yield Run(workspace, handle, campaign_id, isolated_home)
    finally:
        workspace.close()


def prepared(run: Run) -> Run:
    with run.workspace.store.connect("IMMEDIATE") as conn, conn.begin():
        status, _ = prepare_campaign(run.workspace, conn, run.handle)
    assert status == "sending"
    return run


def delivered(item: Claimed) -> Outcome:
    return Outcome(item.email, ReplyClass.DELIVERED, "250 2.0.0 Message accepted")


def test_a_mark_of_a_row_taken_over_or_not_claimed_updates_nothing_and_is_reported(
    run: Run,
) -> None:
    prepared(run)
    writer = run.writer()

    async def scenario() -> list[bool]:
        try:
            items = await writer.claim(RECIPIENTS)
            assert len(items) == RECIPIENTS
            taken, unclaimed, kept = items[0], items[1], items[2]
            run.sql("UPDATE outbox SET claim_token = 'thief' WHERE id = ?", taken.row_id)
            run.sql("UPDATE outbox SET status = 'queued' WHERE id = ?", unclaimed.row_id)
            return [await writer.mark(item) for item in (taken, unclaimed, kept)]
        finally:
            writer.close()

    items_granted = asyncio.run(scenario())
    assert items_granted == [False, False, True]
    assert writer.fenced == 2
    assert writer.lease_lost  # the run stops before its next DATA
    ids = [row[0] for row in run.sql("SELECT id FROM outbox ORDER BY id")]
    assert run.row(ids[0]) == ("claimed", "thief", 0)  # left as the other process has it
    assert run.row(ids[1])[0::2] == ("queued", 0)
    status, _, attempts = run.row(ids[2])
    assert (status, attempts) == ("sending", 1)


def test_results_releases_and_failures_of_rows_taken_over_update_nothing(run: Run) -> None:
    """A reply for a row whose token changed is not written or counted; a row another holder
    made in_doubt takes a final reply (counted once) but not a retry; releases and failures of
    rows taken over leave them to their new holder."""
    prepared(run)
    writer = run.writer()

    async def scenario() -> list[Claimed]:
        try:
            items = await writer.claim(RECIPIENTS)
            for item in items[:4]:
                assert await writer.mark(item)
            stolen, doubted, retried, fine, released, failed = items
            run.sql("UPDATE outbox SET claim_token = 'thief' WHERE id = ?", stolen.row_id)
            run.sql(
                "UPDATE outbox SET status = 'in_doubt' WHERE id IN (?, ?)",
                doubted.row_id,
                retried.row_id,
            )
            run.sql(
                "UPDATE outbox SET claim_token = 'thief' WHERE id IN (?, ?)",
                released.row_id,
                failed.row_id,
            )
            writer.record(stolen, delivered(stolen))
            writer.record(doubted, delivered(doubted))
            writer.record(retried, Outcome(retried.email, ReplyClass.SOFT, "451 4.3.0 later"))
            writer.record(fine, delivered(fine))
            writer.release([released])
            writer.fail(failed, "the message cannot be built")
            await writer.flush()
            return items
        finally:
            writer.close()

    stolen, doubted, retried, fine, released, failed = asyncio.run(scenario())
    assert writer.tally.sent == 2  # fine, and doubted (its final reply)
    assert writer.tally.failed == 0
    assert writer.tally.retrying == 0
    assert writer.fenced == 5  # stolen, doubted, retried, released, failed
    assert writer.lease_lost
    assert run.row(stolen.row_id) == ("sending", "thief", 1)
    assert run.row(doubted.row_id)[0] == "sent"
    assert run.row(retried.row_id)[0] == "in_doubt"
    assert run.row(fine.row_id)[0] == "sent"
    assert run.row(released.row_id) == ("claimed", "thief", 0)
    assert run.row(failed.row_id) == ("claimed", "thief", 0)
    [(sent_count,)] = run.sql("SELECT sent_count FROM campaigns WHERE id = ?", run.campaign_id)
    assert sent_count == 2


def test_a_holder_whose_next_row_was_taken_over_starts_no_further_data(run: Run) -> None:
    """The mark of the row taken over matches nothing: the run stops there, rather than skip
    the row and go on sending the rows after it, and reports the lease as lost."""
    with Relay() as relay:
        # While the first message's DATA is open, another process takes the next row of the
        # queue (its claim token changes).
        relay.at(
            "data",
            lambda: run.sql(
                "UPDATE outbox SET claim_token = 'thief' WHERE id = "
                "(SELECT min(id) FROM outbox WHERE status = 'claimed')"
            ),
        )
        run.workspace.set_config("smtp.port", str(relay.port))
        engine = CampaignRun(run.workspace, run.handle)
        result = asyncio.run(engine.drive())
    rows = run.sql("SELECT email, status, attempts FROM outbox ORDER BY id")
    assert [rcpt for _, rcpts, _ in relay.messages for rcpt in rcpts] == [rows[0][0]]
    assert result.lease_lost
    assert result.tally.sent == 1
    assert engine.writer.fenced >= 1
    assert rows[0][1:] == ("sent", 1)
    # No other row was marked: its claim (the thief's too, as this holder still had the lease
    # and recovered the rows at its end) went back to the queue.
    assert [(status, attempts) for _, status, attempts in rows[1:]] == [("queued", 0)] * (
        RECIPIENTS - 1
    )


def test_preparing_renews_the_lease_so_a_long_prepare_is_not_taken_over(run: Run) -> None:
    """The worker's heartbeat is long past the timeout when preparing starts (a prepare that
    took long to get its transaction); preparing renews it, so that when it commits no other
    process reaps the worker as dead: another one joins the campaign (it is sending now) and
    leaves this worker's epoch alone. (Issue 17: workers share a sending campaign; the other
    used to be refused the lease.)"""
    run.sql("UPDATE workers SET heartbeat_at = '2000-01-01 00:00:00.000000'")
    prepared(run)
    other = Workspace.open(store_location(run.home), home=run.home, environ={})
    try:
        taken = take_lease(other, run.campaign_id)
    finally:
        other.close()
    assert isinstance(taken, leases.LeaseHandle)
    assert taken.holder != run.handle.holder
    [(epoch, beat)] = run.sql(
        "SELECT epoch, heartbeat_at FROM workers WHERE id = ?", run.handle.holder
    )
    assert epoch == run.handle.epoch
    assert beat is not None and not str(beat).startswith("2000")
