"""`lettr campaign send`: a real send through a real SMTP server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sending_helpers import make_campaign, outbox_rows
from tests.store_access import store_connect

pytestmark = pytest.mark.usefixtures("each_engine")

EMAILS = [f"user{n}@example.org" for n in range(12)]


def test_a_send_delivers_each_recipient_once_and_counts_it(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    campaign = make_campaign(lettr, tmp_path, EMAILS)
    result = lettr("campaign", "send", campaign, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["status"] == "sent"
    assert body["total_recipients"] == len(EMAILS)
    assert body["outbox"]["sent"] == len(EMAILS)
    assert body["stats"]["injections"] == len(EMAILS)
    assert body["stats"]["deliveries"] == len(EMAILS)
    messages = smtp_server.arrived()
    assert sorted(rcpt for _, rcpts, _ in messages for rcpt in rcpts) == sorted(EMAILS)
    for sender, _, message in messages:
        assert sender.startswith("bounces+b")
        assert sender.endswith("@example.com")
        assert message["Subject"] == "Hello there"
        assert "DKIM-Signature" in message
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert set(outbox_rows(isolated_home, campaign).values()) == {
        ("sent", "250 2.0.0 Message accepted")
    }


def test_a_large_send_builds_in_worker_processes_and_every_message_verifies(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    import dkim

    from lettr_cli.delivery.build import Builder
    from lettr_cli.domains.records import dkim_value

    verified_domain()
    many = [f"bulk{n:05d}@example.org" for n in range(Builder.PROCESS_THRESHOLD + 50)]
    lettr("config", "set", "sending.concurrency", "8")
    lettr("config", "set", "plan.tier", "2000")
    campaign = make_campaign(lettr, tmp_path, many)
    result = lettr("campaign", "send", campaign, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["outbox"]["sent"] == len(many)
    messages = smtp_server.arrived()
    assert sorted(r for _, rcpts, _ in messages for r in rcpts) == sorted(many)
    with store_connect(isolated_home) as conn:
        public = conn.execute("SELECT public_key FROM domains").fetchone()[0]
    record = dkim_value(public).encode()

    def dns(name: bytes | str, timeout: float = 5) -> bytes | None:
        return record

    for _, rcpts, message in messages[:: len(messages) // 20]:
        raw = next(data for _, r, data in smtp_server.messages if r == rcpts)
        assert dkim.verify(raw, dnsfunc=dns), rcpts
        assert message["To"] == rcpts[0]
        assert message["Subject"] == "Hello there"
