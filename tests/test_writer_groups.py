"""The writer's groups (DESIGN "Sending engine"): the results of a group whose rows are all still
this holder's are written together, each row with its own outcome, and counted once; when one
row of the group was taken over, the others are still written and only that one is left to its
new holder. On both engines."""

from __future__ import annotations

import asyncio

import pytest

from lettr_cli.delivery.claims import Claimed
from lettr_cli.transport.replies import ReplyClass
from lettr_cli.transport.smtp import Outcome
from tests.test_send_fencing import RECIPIENTS, Run, prepared, run  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("each_engine")


def outcomes(items: list[Claimed]) -> list[Outcome]:
    delivered, bounced, soft, unknown, relay, blocked = items
    return [
        Outcome(delivered.email, ReplyClass.DELIVERED, "250 2.0.0 accepted"),
        Outcome(bounced.email, ReplyClass.HARD, "550 5.1.1 no such user"),
        Outcome(soft.email, ReplyClass.SOFT, "451 4.3.0 later"),
        Outcome(unknown.email, ReplyClass.UNKNOWN, "the outcome is unknown"),
        Outcome(relay.email, ReplyClass.RELAY, "421 the relay is closing"),
        Outcome(blocked.email, ReplyClass.BLOCK, "554 5.7.1 refused"),
    ]


def test_a_group_of_results_gives_each_row_its_own_outcome(run: Run) -> None:  # noqa: F811
    prepared(run)
    writer = run.writer()

    async def scenario() -> list[Claimed]:
        try:
            items = await writer.claim(RECIPIENTS)
            assert len(items) == RECIPIENTS
            for item in items:
                assert await writer.mark(item)
            for item, outcome in zip(items, outcomes(items), strict=True):
                writer.record(item, outcome)  # one group: nothing is committed in between
            await writer.flush()
            return items
        finally:
            writer.close()

    items = asyncio.run(scenario())
    rows = {
        row[0]: row[1:]
        for row in run.sql(
            "SELECT id, status, attempts, claim_token, reply_class FROM outbox ORDER BY id"
        )
    }
    delivered, bounced, soft, unknown, relay, blocked = (rows[item.row_id] for item in items)
    assert delivered == ("sent", 1, items[0].token, "delivered")
    assert bounced == ("bounced", 1, items[1].token, "hard")
    assert soft == ("queued", 1, None, "soft")  # back to the queue for its retry
    assert unknown == ("in_doubt", 1, items[3].token, "unknown")
    assert relay == ("queued", 0, None, None)  # a relay failure is no attempt
    assert blocked[0::3] == ("failed", "block")
    tally = writer.tally
    assert (tally.sent, tally.bounced, tally.failed, tally.in_doubt, tally.retrying) == (
        1, 1, 1, 1, 1,
    )  # fmt: skip
    assert writer.fenced == 0 and not writer.lease_lost
    [(sent, bounces)] = run.sql(
        "SELECT sent_count, bounces FROM campaigns WHERE id = ?", run.campaign_id
    )
    assert (sent, bounces) == (1, 2)
    events = run.sql(
        "SELECT event_type, count(*) FROM events WHERE campaign_id = ? GROUP BY event_type "
        "ORDER BY event_type",
        run.campaign_id,
    )
    assert events == [("bounce", 2), ("delivery", 1), ("injection", 5)]


def test_a_group_with_one_row_taken_over_writes_the_others(run: Run) -> None:  # noqa: F811
    prepared(run)
    writer = run.writer()

    async def scenario() -> list[Claimed]:
        try:
            items = await writer.claim(RECIPIENTS)
            for item in items:
                assert await writer.mark(item)
            run.sql("UPDATE outbox SET claim_token = 'thief' WHERE id = ?", items[2].row_id)
            for item in items:
                writer.record(item, Outcome(item.email, ReplyClass.DELIVERED, "250 ok"))
            await writer.flush()
            return items
        finally:
            writer.close()

    items = asyncio.run(scenario())
    assert writer.tally.sent == RECIPIENTS - 1
    assert writer.fenced == 1 and writer.lease_lost
    assert run.row(items[2].row_id) == ("sending", "thief", 1)  # left to its new holder
    for item in items[:2] + items[3:]:
        assert run.row(item.row_id)[0] == "sent"
    [(sent,)] = run.sql("SELECT sent_count FROM campaigns WHERE id = ?", run.campaign_id)
    assert sent == RECIPIENTS - 1
    [(deliveries,)] = run.sql(
        "SELECT count(*) FROM events WHERE campaign_id = ? AND event_type = 'delivery'",
        run.campaign_id,
    )
    assert deliveries == RECIPIENTS - 1
