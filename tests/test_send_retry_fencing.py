"""`campaign retry` fenced in SQL (issue 14, item 5): the campaign moves `sent → sending` only if
it is still sent (a conditional update, its rowcount checked), and only the rows still in the
state chosen are requeued (RETURNING). A retry whose checks went stale (another retry came
first, the rows moved on) writes nothing.

A sent campaign with in-doubt and soft-failed rows is set up the way a run leaves one; the other
process is simulated by changing the store through a connection of its own between a retry's
check and its write, as would happen on PostgreSQL, where nothing serialises them. Also the one
outbox summary (``outbox.summary``) of such a campaign."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lettr_cli.delivery import leases, outbox, workers
from lettr_cli.delivery.control import check_retry, retry, retry_checked, take_lease
from lettr_cli.delivery.preparing import prepare_campaign
from lettr_cli.errors import LettrError
from lettr_cli.workspace import Workspace
from tests.conftest import store_location
from tests.sending_helpers import make_campaign
from tests.store_access import store_connect

RECIPIENTS = 6
pytestmark = pytest.mark.usefixtures("each_engine")


@dataclass
class Sent:
    workspace: Workspace
    campaign_id: str
    home: Path
    ids: list[int]  # the outbox rows, in order: 2 in doubt, 1 soft failure, 1 5xx, 2 sent

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """What another process does to the store, through a connection of its own."""
        with store_connect(self.home) as conn:
            cursor = conn.execute(statement, params)
            return list(cursor.fetchall()) if cursor.description else []

    def status(self) -> str:
        [(status,)] = self.sql("SELECT status FROM campaigns WHERE id = ?", self.campaign_id)
        return str(status)

    def rows(self) -> list[tuple[str, int]]:
        return [
            (str(status), int(attempts))
            for status, attempts in self.sql(
                "SELECT status, attempts FROM outbox WHERE campaign_id = ? ORDER BY id",
                self.campaign_id,
            )
        ]


@pytest.fixture
def sent(lettr: Any, verified_domain: Any, tmp_path: Path, isolated_home: Path) -> Iterator[Sent]:
    """A campaign prepared by this process, then left by its run as `sent` with rows in doubt
    and failed, and its lease released."""
    verified_domain()
    emails = [f"user{n}@example.org" for n in range(RECIPIENTS)]
    campaign_id = make_campaign(lettr, tmp_path, emails)
    started = lettr("campaign", "send", "Sale", "--detach", "--yes")
    assert started.exit_code == 0, started.stderr
    workspace = Workspace.open(store_location(isolated_home), home=isolated_home, environ={})
    handle = take_lease(workspace, campaign_id)
    assert isinstance(handle, leases.LeaseHandle)
    with workspace.store.connect("IMMEDIATE") as conn, conn.begin():
        status, _ = prepare_campaign(workspace, conn, handle)
        assert status == "sending"
        workers.deregister(conn, handle.worker)  # as its run ends
    state = Sent(workspace, campaign_id, isolated_home, [])
    state.ids = [row[0] for row in state.sql("SELECT id FROM outbox ORDER BY id")]
    doubt1, doubt2, soft, hard, *done = state.ids
    state.sql(
        "UPDATE outbox SET status = 'in_doubt', attempts = 1, claim_token = 'old' "
        "WHERE id IN (?, ?)",
        doubt1,
        doubt2,
    )
    state.sql(
        "UPDATE outbox SET status = 'failed', attempts = 3, reply_class = 'soft' WHERE id = ?", soft
    )
    state.sql(
        "UPDATE outbox SET status = 'failed', attempts = 1, reply_class = 'permanent' WHERE id = ?",
        hard,
    )
    for row_id in done:
        state.sql("UPDATE outbox SET status = 'sent', attempts = 1 WHERE id = ?", row_id)
    state.sql("UPDATE campaigns SET status = 'sent' WHERE id = ?", campaign_id)
    try:
        yield state
    finally:
        workspace.close()


AS_LEFT = [("in_doubt", 1), ("in_doubt", 1), ("failed", 3), ("failed", 1), ("sent", 1), ("sent", 1)]


def test_a_retry_requeues_only_the_rows_chosen_and_moves_the_campaign_to_sending(
    sent: Sent,
) -> None:
    campaign, count = retry(sent.workspace, sent.campaign_id, in_doubt=False, failed_rows=True)
    assert (campaign.status, count) == ("sending", 1)
    assert sent.status() == "sending"
    assert sent.rows() == [AS_LEFT[0], AS_LEFT[1], ("queued", 0), *AS_LEFT[3:]]


def test_a_stale_retry_after_another_retry_requeues_nothing(sent: Sent) -> None:
    stale = check_retry(sent.workspace, sent.campaign_id, in_doubt=True, failed_rows=False)
    # Another process retries first, and its run has claimed the rows again.
    sent.sql("UPDATE campaigns SET status = 'sending' WHERE id = ?", sent.campaign_id)
    sent.sql(
        "UPDATE outbox SET status = 'claimed', claim_token = 'theirs', attempts = 0 "
        "WHERE id IN (?, ?)",
        *sent.ids[:2],
    )
    taken = sent.rows()

    with pytest.raises(LettrError) as refused:
        retry_checked(sent.workspace, stale)

    assert refused.value.code == "campaign_not_sendable"
    assert "nothing was requeued" in refused.value.message
    assert sent.status() == "sending"
    assert sent.rows() == taken  # left as the other process has them
    tokens = sent.sql("SELECT claim_token FROM outbox WHERE id IN (?, ?)", *sent.ids[:2])
    assert tokens == [("theirs",), ("theirs",)]


def test_a_stale_retry_whose_rows_moved_on_writes_nothing_and_the_campaign_stays_sent(
    sent: Sent,
) -> None:
    stale = check_retry(sent.workspace, sent.campaign_id, in_doubt=True, failed_rows=False)
    # Another retry came and went: its rows were sent, and the campaign is sent again.
    sent.sql("UPDATE outbox SET status = 'sent', attempts = 1 WHERE id IN (?, ?)", *sent.ids[:2])
    after = sent.rows()

    with pytest.raises(LettrError) as refused:
        retry_checked(sent.workspace, stale)

    assert refused.value.code == "validation_error"
    assert "no in-doubt rows left" in refused.value.message
    assert sent.status() == "sent"  # the move to sending was rolled back with the rest
    assert sent.rows() == after


def test_two_retries_of_one_check_requeue_once(sent: Sent) -> None:
    check = check_retry(sent.workspace, sent.campaign_id, in_doubt=True, failed_rows=False)
    _, count = retry_checked(sent.workspace, check)
    assert count == 2
    with pytest.raises(LettrError) as again:
        retry_checked(sent.workspace, check)
    assert again.value.code == "campaign_not_sendable"
    assert sent.rows()[:2] == [("queued", 0), ("queued", 0)]


def test_the_outbox_summary_of_a_sent_campaign(sent: Sent) -> None:
    with sent.workspace.store.connect() as conn, conn.begin():
        summary = outbox.summary(conn, sent.campaign_id)
    assert summary.counts == {
        "queued": 0,
        "claimed": 0,
        "sending": 0,
        "sent": 2,
        "failed": 2,
        "bounced": 0,
        "skipped": 0,
        "in_doubt": 2,
    }
    assert summary.in_doubt == 2 and summary.retrying == 0
    assert summary.results() == {
        "sent": 2,
        "failed": 2,
        "bounced": 0,
        "skipped": 0,
        "in_doubt": 2,
        "retry_at": None,
    }
    assert outbox.describe_counts(summary.counts, RECIPIENTS) == (
        "2 sent, 2 failed, 0 bounced, 0 skipped, 2 in doubt, 0 queued of 6"
    )
