"""`campaign retry` (DESIGN "Lifecycle"): a sent campaign's in-doubt rows, or the rows that
failed after soft replies or lost connections (never 5xx ones), go back to the queue on the
operator's word and are sent; the campaign goes `sent → sending → sent`, and injections are not
counted again."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.send_cases import (
    audience_campaign,
    campaign_row,
    contact_states,
)
from tests.sending_helpers import outbox_rows
from tests.smtp_relay import Relay

pytestmark = pytest.mark.usefixtures("each_engine")


def _statuses(home: Path, ref: str) -> dict[str, str]:
    return {email: status for email, (status, _) in outbox_rows(home, ref).items()}


def _attempts(handler: Relay, address: str) -> int:
    return sum(1 for email, _, _ in handler.log if email == address)


def test_retry_in_doubt_sends_the_in_doubt_rows_again(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    doubtful = "doubtful@example.org"
    emails = [f"reader{n}@example.org" for n in range(4)] + [doubtful]
    relay.drop_at_data.add(doubtful)
    ref = audience_campaign(lettr, tmp_path, emails)
    sent = lettr("campaign", "send", ref, "--yes", "--json")
    assert sent.exit_code == 0, sent.stderr
    body = sent.json()
    assert body["status"] == "sent"
    assert body["outbox"]["in_doubt"] == 1
    assert f"lettr campaign retry {ref} --in-doubt" in sent.stderr
    assert body["stats"]["injections"] == 5 and body["stats"]["deliveries"] == 4
    first_sent_at = campaign_row(isolated_home, ref)["sent_at"]

    unconfirmed = lettr("campaign", "retry", ref, "--in-doubt", "--json")
    assert unconfirmed.error()["error_code"] == "confirmation_required"
    nothing = lettr("campaign", "retry", ref, "--failed-rows", "--yes", "--json")
    assert nothing.error()["error_code"] == "validation_error"
    both = lettr("campaign", "retry", ref, "--in-doubt", "--failed-rows", "--yes", "--json")
    assert both.error()["error_code"] == "validation_error"
    assert campaign_row(isolated_home, ref)["status"] == "sent"
    assert _statuses(isolated_home, ref)[doubtful] == "in_doubt"

    relay.drop_at_data.clear()
    retried = lettr("campaign", "retry", ref, "--in-doubt", "--yes", "--json")

    assert retried.exit_code == 0, retried.stderr
    assert "Requeued 1 rows" in retried.stderr
    body = retried.json()
    assert body["status"] == "sent"
    assert body["outbox"]["sent"] == 5 and body["outbox"]["in_doubt"] == 0
    assert body["stats"]["injections"] == 5  # not counted again
    assert body["stats"]["deliveries"] == 5
    assert relay.delivered_to() == sorted(emails)
    assert _attempts(relay, doubtful) == 2
    assert campaign_row(isolated_home, ref)["sent_at"] != first_sent_at
    assert lettr("campaign", "show", ref, "--json").json()["in_doubt_recipients"] == []
    again = lettr("campaign", "retry", ref, "--in-doubt", "--yes", "--json")
    assert again.error()["error_code"] == "validation_error"


def test_retry_failed_rows_takes_soft_failures_and_never_5xx(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    lettr("config", "set", "sending.max_attempts", "1")
    good = [f"reader{n}@example.org" for n in range(3)]
    soft, lost = "full@example.org", "lost@example.org"
    bad, blocked = "bad@example.org", "blocked@example.org"
    relay.rcpt[soft] = "452 4.2.2 mailbox over quota"
    relay.drop_at_rcpt.add(lost)
    relay.rcpt[bad] = "550 5.1.1 no such user"
    relay.data[blocked] = "554 5.7.1 blocked by policy"
    emails = [*good, soft, lost, bad, blocked]
    ref = audience_campaign(lettr, tmp_path, emails)
    sent = lettr("campaign", "send", ref, "--yes", "--json")
    assert sent.exit_code == 0, sent.stderr
    assert sent.json()["status"] == "sent"
    before = outbox_rows(isolated_home, ref)
    assert {email: status for email, (status, _) in before.items()} == {
        **dict.fromkeys(good, "sent"),
        soft: "failed",
        lost: "failed",
        bad: "bounced",
        blocked: "failed",
    }
    in_doubt = lettr("campaign", "retry", ref, "--in-doubt", "--yes", "--json")
    assert in_doubt.error()["error_code"] == "validation_error"

    relay.rcpt.clear()
    relay.data.clear()
    relay.drop_at_rcpt.clear()
    retried = lettr("campaign", "retry", ref, "--failed-rows", "--yes", "--json")

    assert retried.exit_code == 0, retried.stderr
    assert "Requeued 2 rows" in retried.stderr
    body = retried.json()
    assert body["status"] == "sent"
    after = outbox_rows(isolated_home, ref)
    assert {email: status for email, (status, _) in after.items()} == {
        **dict.fromkeys([*good, soft, lost], "sent"),
        bad: "bounced",
        blocked: "failed",
    }
    # The 5xx rows were not touched, nor tried again.
    assert after[bad] == before[bad] and after[blocked] == before[blocked]
    assert (_attempts(relay, bad), _attempts(relay, blocked)) == (1, 1)
    assert (_attempts(relay, soft), _attempts(relay, lost)) == (2, 2)
    assert body["stats"]["injections"] == len(emails)
    assert body["stats"]["deliveries"] == len(good) + 2
    assert body["stats"]["bounces"] == 2
    assert relay.delivered_to() == sorted([*good, soft, lost])
    assert contact_states(isolated_home)[bad] == "bounced"
    assert contact_states(isolated_home)[blocked] == "subscribed"

    again = lettr("campaign", "retry", ref, "--failed-rows", "--yes", "--json")
    assert again.exit_code == 1
    assert again.error()["error_code"] == "validation_error"
    assert campaign_row(isolated_home, ref)["status"] == "sent"
