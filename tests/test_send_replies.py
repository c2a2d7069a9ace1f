"""Each reply class of DESIGN's table, from a server scripted per recipient: how each row ends,
what happens to its contact, and counters that agree with the server's own log."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sending_helpers import make_campaign, outbox_rows
from tests.smtp_relay import Relay
from tests.store_access import store_connect

pytestmark = pytest.mark.usefixtures("each_engine")


def _contact_status(home: Path, email: str) -> str:
    with store_connect(home) as conn:
        return str(
            conn.execute("SELECT status FROM contacts WHERE email = ?", (email,)).fetchone()[0]
        )


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_every_reply_class_ends_its_row_as_the_table_says(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path, pipelining: bool
) -> None:
    relay.pipelining = pipelining  # MAIL, RCPT and DATA in one write, or each on its reply
    script = {
        "rcpt421@example.org": ("rcpt", "421 4.3.0 try later"),
        "rcpt451@example.org": ("rcpt", "451 4.3.0 local error"),
        "rcpt452@example.org": ("rcpt", "452 4.2.2 over quota"),
        "bad@example.org": ("rcpt", "550 5.1.1 no such user"),
        "full@example.org": ("data", "552 5.2.2 mailbox full"),
        "blocked@example.org": ("data", "554 5.7.1 blocked by policy"),
        "other@example.org": ("data", "554 5.6.0 content rejected"),
    }
    for address, (stage, reply) in script.items():
        (relay.rcpt if stage == "rcpt" else relay.data)[address] = reply
    relay.drop_at_rcpt.add("dropbefore@example.org")
    relay.drop_at_data.add("dropafter@example.org")
    good = [f"ok{n}@example.org" for n in range(5)]
    everyone = [*good, *script, "dropbefore@example.org", "dropafter@example.org"]
    campaign = make_campaign(lettr, tmp_path, everyone)
    lettr("config", "set", "sending.retry_base_seconds", "0")
    lettr("config", "set", "sending.max_attempts", "2")
    relay.slow = 0.01

    result = lettr("campaign", "send", campaign, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    rows = {email: status for email, (status, _) in outbox_rows(isolated_home, campaign).items()}
    assert rows == {
        **dict.fromkeys(good, "sent"),
        "rcpt421@example.org": "failed",
        "rcpt451@example.org": "failed",
        "rcpt452@example.org": "failed",
        "full@example.org": "failed",
        "bad@example.org": "bounced",
        "blocked@example.org": "failed",
        "other@example.org": "failed",
        # a connection lost before DATA is retried on a new connection, then gives up
        "dropbefore@example.org": "failed",
        "dropafter@example.org": "in_doubt",
    }
    assert body["status"] == "sent"
    # The server's log, attempt by attempt: soft ones were tried max_attempts times.
    attempts: dict[str, int] = {}
    for address, _, _ in relay.log:
        attempts[address] = attempts.get(address, 0) + 1
    for address in ("rcpt421@example.org", "rcpt452@example.org", "full@example.org"):
        assert attempts[address] == 2
    for address in ("bad@example.org", "blocked@example.org", "other@example.org"):
        assert attempts[address] == 1
    assert attempts["dropafter@example.org"] == 1
    stats = body["stats"]
    delivered = sum(1 for _, _, reply in relay.log if reply == "250")
    assert stats["deliveries"] == delivered == len(good)
    # hard, block and other 5xx rows are bounces; soft rows that ran out are failed, not bounces
    assert stats["bounces"] == 3
    assert stats["injections"] == len(everyone)
    assert body["outbox"]["in_doubt"] == 1
    assert _contact_status(isolated_home, "bad@example.org") == "bounced"
    assert _contact_status(isolated_home, "blocked@example.org") == "subscribed"
    assert _contact_status(isolated_home, "full@example.org") == "subscribed"
    shown = lettr("campaign", "show", campaign, "--json").json()
    assert shown["in_doubt_recipients"] == ["dropafter@example.org"]
    with store_connect(isolated_home) as conn:
        events = conn.execute(
            "SELECT email, event_type, bounce_class FROM events WHERE campaign_id = ?", (campaign,)
        ).fetchall()
    bounces = {(email, cls) for email, kind, cls in events if kind == "bounce"}
    assert bounces == {
        ("bad@example.org", "10"),
        ("blocked@example.org", "50"),
        ("other@example.org", "30"),
    }
    assert sum(1 for _, kind, _ in events if kind == "injection") == len(everyone)
    assert sum(1 for _, kind, _ in events if kind == "delivery") == len(good)
