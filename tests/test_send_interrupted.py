"""What lettr says after a send that ends with messages in doubt (Ctrl-C while the relay holds
the last messages, a `daemon tick` whose relay never answers the final dot): how many are in
doubt and the exact command that sends them again, never that rows went back to the queue when
none did. The campaign's `sent_at` is when its last message was accepted."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from tests.send_cases import (
    LIVENESS,
    CountingHandler,
    audience_campaign,
    campaign_row,
    finish,
    outbox_states,
    query,
    serving,
    spawn,
    stop,
    wait_for,
)

EMAILS = ["first@example.org", "second@example.org", "third@example.org", "fourth@example.org"]
ANSWERED = 2  # the relay answers the first two messages that reach it, then holds the rest


class HoldingHandler(CountingHandler):
    """Answers the first ``answered`` messages, then never answers the final dot of the others
    (while ``holding``). Which addresses come first depends on the claim order, so the test
    counts rows rather than naming them."""

    def __init__(self, answered: int) -> None:
        super().__init__()
        self.answered = answered
        self.arrived = 0
        self.holding = True
        self.held: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrived += 1
        if self.holding and self.arrived > self.answered:
            self.held.append(envelope.rcpt_tos[0])
            await asyncio.sleep(LIVENESS * 2)
        return await super().handle_DATA(server, session, envelope)


def _last_accepted(home: Path, ref: str) -> Any:
    return query(home, "SELECT max(accepted_at) FROM outbox WHERE campaign_id = ?", ref)[0][0]


def test_ctrl_c_with_the_last_messages_in_flight_says_they_are_in_doubt(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    ref = audience_campaign(lettr, tmp_path, EMAILS)
    lettr("config", "set", "sending.concurrency", "2")
    lettr("config", "set", "sending.drain_seconds", "1")
    handler = HoldingHandler(ANSWERED)
    with serving(handler) as port:
        lettr("config", "set", "smtp.port", str(port))
        process = spawn(isolated_home, "campaign", "send", ref, "--yes")
        try:
            wait_for(
                lambda: len(handler.held) == len(EMAILS) - ANSWERED, "the relay holds the last two"
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
        handler.holding = False
        retried = lettr("campaign", "retry", ref, "--in-doubt", "--yes", "--json")

    assert retried.exit_code == 0, retried.stderr
    assert retried.json()["status"] == "sent"
    assert outbox_states(isolated_home, ref) == {"sent": 4}
    assert campaign_row(isolated_home, ref)["sent_at"] == _last_accepted(isolated_home, ref)


def test_a_tick_that_leaves_messages_in_doubt_names_the_retry_command(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    ref = audience_campaign(lettr, tmp_path, EMAILS)
    lettr("config", "set", "smtp.data_timeout", "1")
    handler = HoldingHandler(ANSWERED)
    with serving(handler) as port:
        lettr("config", "set", "smtp.port", str(port))
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
