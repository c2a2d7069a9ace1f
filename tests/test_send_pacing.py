"""Pacing (CONTRACT "Configuration"): `sending.rate` limits the send without stalling it, and
`sending.max_per_connection` renews the connection after that many messages."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.send_cases import (
    audience_campaign,
    finish,
    outbox_states,
    spawn,
    stop,
)
from tests.smtp_relay import Relay


def test_a_rate_limited_send_completes(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    emails = [f"reader{n:02d}@example.org" for n in range(30)]
    ref = audience_campaign(lettr, tmp_path, emails)
    assert lettr("config", "set", "sending.rate", "20").exit_code == 0

    process = spawn(isolated_home, "campaign", "send", ref, "--yes", "--json")
    try:
        code, stdout, stderr = finish(process, timeout=120)
    finally:
        stop(process)

    assert code == 0, stderr
    assert json.loads(stdout)["status"] == "sent"
    assert outbox_states(isolated_home, ref) == {"sent": len(emails)}
    received = Counter(r for _, rcpts, _ in relay.messages for r in rcpts)
    assert sorted(received) == emails and set(received.values()) == {1}


def test_connections_are_renewed_after_max_per_connection(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    emails = [f"reader{n}@example.org" for n in range(10)]
    ref = audience_campaign(lettr, tmp_path, emails)
    lettr("config", "set", "sending.max_per_connection", "3")
    # One connection at a time, so that only the renewals can make more than one.
    lettr("config", "set", "sending.concurrency", "1")

    sent = lettr("campaign", "send", ref, "--yes", "--json")

    assert sent.exit_code == 0, sent.stderr
    assert sent.json()["outbox"]["sent"] == len(emails)
    assert relay.delivered_to() == sorted(emails)
    assert relay.connections >= 4
    assert sum(relay.per_connection.values()) == len(emails)
    assert max(relay.per_connection.values()) <= 3
    assert 0 not in relay.per_connection  # every message came on a connection that said EHLO
