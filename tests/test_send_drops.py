"""A relay that closes the connection before answering anything of a transaction (DESIGN
"Sending engine"): that is the connection's fault, not the recipient's. The row goes back to
the queue without an attempt and without backoff and is sent on a new connection; three such
drops in a row on new connections are a relay failure, and nothing is failed for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.send_cases import (
    audience_campaign,
    contact_states,
    error_of,
    outbox_states,
    query,
    soft_failures,
)
from tests.smtp_relay import Relay

EMAILS = [f"reader{n:02d}@example.org" for n in range(20)]


def _settings(lettr: Any) -> None:
    lettr("config", "set", "sending.max_attempts", "1")
    lettr("config", "set", "sending.concurrency", "1")
    # A backoff would leave rows waiting past the end of the send.
    lettr("config", "set", "sending.retry_base_seconds", "3600")
    lettr("config", "set", "sending.retry_max_seconds", "3600")


def test_a_relay_closing_at_its_per_connection_limit_delivers_everyone(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    ref = audience_campaign(lettr, tmp_path, EMAILS)
    # Closes the connection, unanswered, at each connection's fourth MAIL FROM.
    relay.messages_per_connection = 3
    _settings(lettr)

    result = lettr("campaign", "send", ref, "--yes", "--json")

    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["status"] == "sent"
    assert outbox_states(isolated_home, ref) == {"sent": len(EMAILS)}
    received = relay.received()
    assert sorted(received) == sorted(EMAILS) and set(received.values()) == {1}
    assert relay.closed >= 5  # the relay did close on lettr, again and again
    assert set(relay.per_connection.values()) <= {1, 2, 3}
    # The drops cost no attempt: each row was attempted once, when it was delivered.
    attempts = query(isolated_home, "SELECT attempts FROM outbox WHERE campaign_id = ?", ref)
    assert {n for (n,) in attempts} == {1}
    assert body["stats"]["injections"] == body["stats"]["deliveries"] == len(EMAILS)
    assert soft_failures(isolated_home) == {}


def test_a_relay_that_always_closes_is_a_relay_failure(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    ref = audience_campaign(lettr, tmp_path, EMAILS)
    contacts = contact_states(isolated_home)
    relay.messages_per_connection = 0  # every MAIL FROM closes the connection, unanswered
    _settings(lettr)

    failed = lettr("campaign", "send", ref, "--yes", "--json")

    assert failed.exit_code == 1
    error = error_of(failed)
    assert error["error_code"] == "transmission_failed", error
    assert "MAIL FROM" in error["message"]
    assert relay.closed == 3
    assert failed.json()["status"] == "sending"
    assert outbox_states(isolated_home, ref) == {"queued": len(EMAILS)}
    attempts = query(isolated_home, "SELECT attempts FROM outbox WHERE campaign_id = ?", ref)
    assert {n for (n,) in attempts} == {0}
    assert failed.json()["stats"]["injections"] == 0
    assert contact_states(isolated_home) == contacts

    relay.messages_per_connection = None
    tick = lettr("daemon", "tick", "--json")

    assert tick.exit_code == 0, tick.stderr
    [run] = tick.json()["campaigns"]
    assert (run["status"], run["sent"], run["failed"]) == ("sent", len(EMAILS), 0)
    assert soft_failures(isolated_home) == {}
