"""What lettr says after a send that ends with messages in doubt (Ctrl-C while the relay holds
the last messages, a `daemon tick` whose relay never answers the final dot): how many are in
doubt and the exact command that sends them again, never that rows went back to the queue when
none did. The campaign's `sent_at` is when its last message was accepted."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from tests.send_cases import (
    audience_campaign,
    campaign_row,
    finish,
    outbox_states,
    query,
    spawn,
    stop,
    wait_for,
)
from tests.smtp_relay import Relay

EMAILS = ["first@example.org", "second@example.org", "third@example.org", "fourth@example.org"]
ANSWERED = 2  # the relay answers the first two messages that reach it, then holds the rest


def _last_accepted(home: Path, ref: str) -> Any:
    return query(home, "SELECT max(accepted_at) FROM outbox WHERE campaign_id = ?", ref)[0][0]


def test_ctrl_c_with_the_last_messages_in_flight_says_they_are_in_doubt(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    ref = audience_campaign(lettr, tmp_path, EMAILS)
    lettr("config", "set", "sending.concurrency", "2")
    lettr("config", "set", "sending.drain_seconds", "1")
    held = relay.stall("data", beyond=ANSWERED)  # never answers the final dot of the others
    process = spawn(isolated_home, "campaign", "send", ref, "--yes")
    try:
        wait_for(
            lambda: len(held.addresses) == len(EMAILS) - ANSWERED, "the relay holds the last two"
        )
        process.send_signal(signal.SIGINT)
        code, stdout, stderr = finish(process)
    finally:
        stop(process)

    assert code == 130, stderr
    assert outbox_states(isolated_home, ref) == {"sent": 2, "in_doubt": 2}
    assert "0 queued" in stdout and "2 in doubt" in stdout
    assert "went back to the queue" not in stderr
    assert "2 messages are in doubt" in stderr
    assert f"lettr campaign retry {ref} --in-doubt" in stderr
    row = campaign_row(isolated_home, ref)
    assert row["status"] == "sent"
    # When the last message was accepted, not when the send was stopped.
    assert row["sent_at"] == _last_accepted(isolated_home, ref)

    # The command it names does send them again; sent_at follows the last acceptance.
    relay.stalls.remove(held)  # later messages are answered; the held ones stay held
    retried = lettr("campaign", "retry", ref, "--in-doubt", "--yes", "--json")

    assert retried.exit_code == 0, retried.stderr
    assert retried.json()["status"] == "sent"
    assert outbox_states(isolated_home, ref) == {"sent": 4}
    assert campaign_row(isolated_home, ref)["sent_at"] == _last_accepted(isolated_home, ref)


def test_a_tick_that_leaves_messages_in_doubt_names_the_retry_command(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    ref = audience_campaign(lettr, tmp_path, EMAILS)
    lettr("config", "set", "smtp.data_timeout", "1")
    relay.stall("data", beyond=ANSWERED)  # never answers the final dot of the others
    queued = lettr("campaign", "send", ref, "--yes", "--detach")
    assert queued.exit_code == 0, queued.stderr

    process = spawn(isolated_home, "daemon", "tick", "--max-seconds", "30")
    try:
        code, _, stderr = finish(process)
    finally:
        stop(process)

    assert code == 0, stderr
    assert outbox_states(isolated_home, ref) == {"sent": 2, "in_doubt": 2}
    assert "went back to the queue" not in stderr
    assert "2 messages are in doubt" in stderr
    assert f"lettr campaign retry {ref} --in-doubt" in stderr
    row = campaign_row(isolated_home, ref)
    assert row["status"] == "sent"
    assert row["sent_at"] == _last_accepted(isolated_home, ref)
