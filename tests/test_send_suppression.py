"""Soft-bounce suppression (DESIGN "Sending engine"): three soft failures in a row across
campaigns make a contact `bounced`. The count takes per-recipient 4xx replies to RCPT or DATA
whose enhanced code is x.1.x or x.2.x (or 450/452 at RCPT without one), at most once per
campaign; a delivery resets it; 421, 4.3.x, 4.4.x, 4.5.x and 4.7.x, lost connections and relay
failures never count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.send_cases import (
    audience_campaign,
    contact_states,
    execute,
    new_campaign,
    outbox_states,
    soft_failures,
)
from tests.sending_helpers import outbox_rows
from tests.smtp_relay import Relay

FLAKY = "flaky@example.org"
EMAILS = [FLAKY, "steady1@example.org", "steady2@example.org"]
FULL = "452 4.2.2 mailbox over quota"


@pytest.fixture
def relay(lettr: Any, relay: Relay) -> Relay:
    lettr("config", "set", "sending.max_attempts", "1")
    return relay


class Campaigns:
    """Campaign after campaign to the same list, each sent in the foreground."""

    def __init__(self, lettr: Any, tmp_path: Path, home: Path) -> None:
        self.lettr, self.tmp_path, self.home = lettr, tmp_path, home
        self.count = 0
        self.ids: list[str] = []

    def first(self) -> str:
        self.count = 1
        ref = audience_campaign(self.lettr, self.tmp_path, EMAILS, "Campaign1")
        self.ids.append(ref)
        return self._send(ref)

    def next(self) -> str:
        self.count += 1
        ref = new_campaign(self.lettr, self.tmp_path, f"Campaign{self.count}")
        self.ids.append(ref)
        return self._send(ref)

    def _send(self, ref: str) -> str:
        result = self.lettr("campaign", "send", ref, "--yes", "--json")
        assert result.exit_code == 0, result.stderr
        assert result.json()["status"] == "sent", result.stdout
        return ref

    def flaky_row(self, ref: str) -> str | None:
        row = outbox_rows(self.home, ref).get(FLAKY)
        return None if row is None else row[0]


def _activity(lettr: Any) -> list[dict[str, Any]]:
    return list(lettr("contact", "show", FLAKY, "--json").json()["activity"])


def test_three_soft_failures_in_a_row_bounce_the_contact(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    campaigns = Campaigns(lettr, tmp_path, isolated_home)
    relay.rcpt[FLAKY] = FULL
    campaigns.first()
    assert soft_failures(isolated_home) == {FLAKY: 1}
    # A 4xx to the final dot counts as well as one to RCPT.
    del relay.rcpt[FLAKY]
    relay.data[FLAKY] = "452 4.2.2 mailbox full"
    campaigns.next()
    assert soft_failures(isolated_home) == {FLAKY: 2}
    assert contact_states(isolated_home)[FLAKY] == "subscribed"
    assert not any("bounced" in entry["detail"] for entry in _activity(lettr))
    del relay.data[FLAKY]
    relay.rcpt[FLAKY] = FULL

    third = campaigns.next()

    assert contact_states(isolated_home) == {
        FLAKY: "bounced",
        "steady1@example.org": "subscribed",
        "steady2@example.org": "subscribed",
    }
    assert any("bounced" in entry["detail"] for entry in _activity(lettr))
    # Each of its rows ran out of soft attempts: failed, never a bounce of the campaign.
    assert [campaigns.flaky_row(ref) for ref in campaigns.ids] == ["failed"] * 3
    shown = lettr("campaign", "show", third, "--json").json()
    assert shown["stats"]["bounces"] == 0
    # A bounced contact gets no later campaign.
    fourth = campaigns.next()
    assert campaigns.flaky_row(fourth) is None
    assert outbox_states(isolated_home, fourth) == {"sent": 2}


@pytest.mark.parametrize(
    "reply",
    ["452 4.5.3 too many recipients", "450 4.7.1 greylisted, try later", "421 4.3.0 try later"],
)
def test_4xx_that_say_nothing_of_the_mailbox_never_count(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path, reply: str
) -> None:
    campaigns = Campaigns(lettr, tmp_path, isolated_home)
    relay.rcpt[FLAKY] = reply
    campaigns.first()
    campaigns.next()
    campaigns.next()

    assert [campaigns.flaky_row(ref) for ref in campaigns.ids] == ["failed"] * 3
    assert [entry for entry in relay.log if entry[0] == FLAKY] == [(FLAKY, "rcpt", reply)] * 3
    assert soft_failures(isolated_home) == {}
    assert contact_states(isolated_home)[FLAKY] == "subscribed"


def test_a_delivery_resets_the_count(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    campaigns = Campaigns(lettr, tmp_path, isolated_home)
    relay.rcpt[FLAKY] = FULL
    campaigns.first()
    campaigns.next()
    assert soft_failures(isolated_home) == {FLAKY: 2}
    del relay.rcpt[FLAKY]
    delivered = campaigns.next()
    assert campaigns.flaky_row(delivered) == "sent"
    assert soft_failures(isolated_home) == {}
    relay.rcpt[FLAKY] = FULL
    campaigns.next()
    campaigns.next()

    assert soft_failures(isolated_home) == {FLAKY: 2}
    assert contact_states(isolated_home)[FLAKY] == "subscribed"
    campaigns.next()
    assert contact_states(isolated_home)[FLAKY] == "bounced"


def test_soft_replies_within_one_campaign_count_once(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    lettr("config", "set", "sending.max_attempts", "3")
    lettr("config", "set", "sending.retry_base_seconds", "0")
    campaigns = Campaigns(lettr, tmp_path, isolated_home)
    relay.rcpt[FLAKY] = FULL

    campaigns.first()

    assert [stage for address, stage, _ in relay.log if address == FLAKY] == ["rcpt"] * 3
    assert soft_failures(isolated_home) == {FLAKY: 1}
    assert contact_states(isolated_home)[FLAKY] == "subscribed"
    campaigns.next()
    assert soft_failures(isolated_home) == {FLAKY: 2}
    assert contact_states(isolated_home)[FLAKY] == "subscribed"
    campaigns.next()
    assert contact_states(isolated_home)[FLAKY] == "bounced"


def test_lost_connections_never_count(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    campaigns = Campaigns(lettr, tmp_path, isolated_home)
    relay.drop_at_rcpt.add(FLAKY)
    campaigns.first()
    for _ in range(3):
        campaigns.next()

    assert [campaigns.flaky_row(ref) for ref in campaigns.ids] == ["failed"] * 4
    assert soft_failures(isolated_home) == {}
    assert contact_states(isolated_home)[FLAKY] == "subscribed"


def test_retries_of_one_campaign_between_two_others_count_once(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    """Campaign 1's retry of a soft-failed row comes after campaign 2 met the same full
    mailbox (and after a relay failure): campaign 1 has counted already, so the count stays
    at two."""
    lettr("config", "set", "sending.max_attempts", "2")
    lettr("config", "set", "sending.retry_base_seconds", "3600")
    lettr("config", "set", "sending.retry_max_seconds", "3600")
    relay.rcpt[FLAKY] = FULL
    first = audience_campaign(lettr, tmp_path, EMAILS, "Campaign1")
    second = new_campaign(lettr, tmp_path, "Campaign2")
    for ref in (first, second):
        result = lettr("campaign", "send", ref, "--yes", "--json")
        assert result.exit_code == 0, result.stderr
        assert result.json()["status"] == "sending"  # a retry waits an hour
        assert "daemon tick" in result.stderr
    assert soft_failures(isolated_home) == {FLAKY: 2}

    # An hour later (the store's clock moved, not ours): the retries fall due.
    execute(
        isolated_home,
        "UPDATE outbox SET next_attempt_at = '2000-01-01 00:00:00.000000' WHERE status = 'queued'",
    )
    # The relay throttles first: no attempt, and the rows remember their last one.
    relay.rcpt_all = "451 4.7.1 slow down"
    throttled = lettr("daemon", "tick", "--json")
    assert throttled.exit_code == 1
    assert soft_failures(isolated_home) == {FLAKY: 2}
    relay.rcpt_all = None
    tick = lettr("daemon", "tick", "--json")

    assert tick.exit_code == 0, tick.stderr
    assert [c["status"] for c in tick.json()["campaigns"]] == ["sent", "sent"]
    assert [entry for entry in relay.log if entry[0] == FLAKY and entry[2] == FULL] == [
        (FLAKY, "rcpt", FULL)
    ] * 4
    assert soft_failures(isolated_home) == {FLAKY: 2}
    assert contact_states(isolated_home)[FLAKY] == "subscribed"
