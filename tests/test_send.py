"""`lettr campaign send`: a real send through a real SMTP server on loopback."""

from __future__ import annotations

from pathlib import Path

from tests.sending_helpers import arrived, make_campaign, outbox_rows

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
    messages = arrived(smtp_server)
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
