"""The emergency brake (`sending.paused`, or the file `$LETTR_HOME/PAUSE`): nothing new is
claimed while it is set, in-flight messages finish, claimed rows go back to the queue, and
`daemon tick` finishes the send once it is cleared. Rows whose contact unsubscribed or was
deleted after preparing are skipped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.send_cases import (
    audience_campaign,
    campaign_status,
    finish,
    outbox_states,
    spawn,
    stop,
    wait_for,
)
from tests.sending_helpers import outbox_rows
from tests.smtp_relay import Relay


def _pause_file(lettr: Any, home: Path, on: bool) -> None:
    if on:
        (home / "PAUSE").touch()
    else:
        (home / "PAUSE").unlink()


def _pause_config(lettr: Any, home: Path, on: bool) -> None:
    result = lettr("config", "set", "sending.paused", "true" if on else "false")
    assert result.exit_code == 0, result.stderr


Brake = Callable[[Any, Path, bool], None]
BRAKES = [
    pytest.param(_pause_file, id="PAUSE-file"),
    pytest.param(_pause_config, id="sending.paused"),
]


@pytest.mark.parametrize("brake", BRAKES)
def test_send_and_tick_claim_nothing_while_paused(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path, brake: Brake
) -> None:
    verified_domain()
    emails = [f"reader{n}@example.org" for n in range(5)]
    ref = audience_campaign(lettr, tmp_path, emails)
    brake(lettr, isolated_home, True)

    sent = lettr("campaign", "send", ref, "--yes", "--json")

    assert sent.exit_code == 0, sent.stderr
    assert "Paused" in sent.stderr
    body = sent.json()
    assert (body["status"], body["total_recipients"]) == ("sending", len(emails))
    assert outbox_states(isolated_home, ref) == {"queued": len(emails)}
    assert smtp_server.messages == []

    tick = lettr("daemon", "tick", "--json")

    assert tick.exit_code == 0, tick.stderr
    assert "paused" in tick.stderr
    assert tick.json()["campaigns"] == []
    assert outbox_states(isolated_home, ref) == {"queued": len(emails)}
    assert smtp_server.messages == []

    brake(lettr, isolated_home, False)
    tick = lettr("daemon", "tick", "--json")

    assert tick.exit_code == 0, tick.stderr
    assert [(c["id"], c["status"], c["sent"]) for c in tick.json()["campaigns"]] == [
        (ref, "sent", len(emails))
    ]
    received = smtp_server.received()
    assert sorted(received) == sorted(emails) and set(received.values()) == {1}


@pytest.mark.parametrize("brake", BRAKES)
def test_the_brake_mid_send_stops_claiming_and_releases_claimed_rows(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path, brake: Brake
) -> None:
    emails = [f"reader{n:02d}@example.org" for n in range(40)]
    ref = audience_campaign(lettr, tmp_path, emails)
    concurrency, free = 2, 3
    lettr("config", "set", "sending.concurrency", str(concurrency))
    # The first ``free`` messages go through; every later one waits at its final dot until the
    # gate opens, so the test knows exactly which messages were in flight.
    gate = relay.stall("data", beyond=free)
    process = spawn(isolated_home, "campaign", "send", ref, "--yes")
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(process.stderr.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    try:
        # Three messages went through; two more are in flight, held at their final dot.
        wait_for(lambda: len(gate.addresses) == concurrency, "two messages in flight")
        assert campaign_status(isolated_home, ref) == "sending"
        before = outbox_states(isolated_home, ref)
        assert before["sending"] == concurrency  # marked before their DATA began
        assert before.get("claimed", 0) > 0

        brake(lettr, isolated_home, True)
        wait_for(lambda: any("paused" in line for line in lines), "the run to see the brake")
        gate.release.set()
        reader.join(timeout=60)
        code, stdout, _ = finish(process)
    finally:
        gate.release.set()
        stop(process)
    stderr = "".join(lines)

    assert code == 0, stderr
    assert "Paused" in stderr
    assert "sending" in stdout
    # Only the messages in flight when the brake was seen were finished; nothing new was
    # claimed, the claimed rows went back to the queue and nothing is in doubt.
    done = free + concurrency
    assert len(relay.messages) == done
    assert outbox_states(isolated_home, ref) == {"sent": done, "queued": len(emails) - done}
    assert campaign_status(isolated_home, ref) == "sending"

    still = lettr("daemon", "tick", "--json")
    assert still.exit_code == 0 and "paused" in still.stderr
    assert len(relay.messages) == done

    brake(lettr, isolated_home, False)
    tick = lettr("daemon", "tick", "--json")

    assert tick.exit_code == 0, tick.stderr
    assert tick.json()["campaigns"][0]["status"] == "sent"
    received = relay.received()
    assert sorted(received) == emails and set(received.values()) == {1}
    assert outbox_states(isolated_home, ref) == {"sent": len(emails)}


def test_rows_of_contacts_gone_since_preparing_are_skipped(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    emails = [f"reader{n}@example.org" for n in range(5)]
    ref = audience_campaign(lettr, tmp_path, emails)
    (isolated_home / "PAUSE").touch()
    prepared = lettr("campaign", "send", ref, "--yes")
    assert prepared.exit_code == 0, prepared.stderr
    assert outbox_states(isolated_home, ref) == {"queued": 5}

    gone, deleted = emails[1], emails[3]
    unsubscribed = lettr("contact", "edit", gone, "--status", "unsubscribed")
    assert unsubscribed.exit_code == 0, unsubscribed.stderr
    removed = lettr("contact", "delete", deleted, "--yes")
    assert removed.exit_code == 0, removed.stderr
    (isolated_home / "PAUSE").unlink()

    tick = lettr("daemon", "tick", "--json")

    assert tick.exit_code == 0, tick.stderr
    [run] = tick.json()["campaigns"]
    assert (run["status"], run["sent"], run["skipped"]) == ("sent", 3, 2)
    rows = outbox_rows(isolated_home, ref)
    assert {email: status for email, (status, _) in rows.items()} == {
        **dict.fromkeys(emails, "sent"),
        gone: "skipped",
        deleted: "skipped",
    }
    received = smtp_server.received()
    assert sorted(received) == sorted(set(emails) - {gone, deleted})
    shown = lettr("campaign", "show", ref, "--json").json()
    assert shown["total_recipients"] == 5
    assert shown["outbox"]["skipped"] == 2
    assert shown["stats"]["injections"] == shown["stats"]["deliveries"] == 3
