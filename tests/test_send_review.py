"""The risk check (DESIGN "Lifecycle"): the store's first campaign to more than 5,000 recipients
waits `in_review` for an operator; `approve` sends it (each recipient once), `reject` fails it
and sends nothing; once a campaign has been sent, a big one goes out without review."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from tests.send_cases import (
    campaign_row,
    error_of,
    import_audience,
    new_campaign,
    outbox_states,
)

BIG = 5001  # one more than the threshold


def _big_store(lettr: Any, verified_domain: Any, tmp_path: Path) -> tuple[str, list[str]]:
    verified_domain()
    assert lettr("config", "set", "plan.tier", "10000").exit_code == 0
    emails = [f"reader{n:05d}@example.org" for n in range(BIG)]
    import_audience(lettr, tmp_path, emails, "Everyone")
    return new_campaign(lettr, tmp_path, "Launch", "Everyone"), emails


def _park(lettr: Any, home: Path, ref: str) -> None:
    parked = lettr("campaign", "send", ref, "--yes", "--json")
    assert parked.exit_code == 0, parked.stderr
    body = parked.json()
    assert body["status"] == "in_review"
    assert body["total_recipients"] == BIG
    assert f"lettr campaign approve {ref[:8]}" in parked.stderr
    assert outbox_states(home, ref) == {"queued": BIG}


def test_the_first_big_campaign_waits_for_approval_then_sends_each_once(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    ref, emails = _big_store(lettr, verified_domain, tmp_path)
    _park(lettr, isolated_home, ref)
    assert smtp_server.messages == []
    # Only an operator's approve or reject moves it; the daemon leaves it alone.
    tick = lettr("daemon", "tick", "--json")
    assert tick.exit_code == 0 and tick.json()["campaigns"] == []
    assert campaign_row(isolated_home, ref)["status"] == "in_review"
    retried = lettr("campaign", "retry", ref, "--in-doubt", "--yes", "--json")
    assert error_of(retried)["error_code"] == "campaign_not_sendable"

    approved = lettr("campaign", "approve", ref, "--json")

    assert approved.exit_code == 0, approved.stderr
    body = approved.json()
    assert body["status"] == "sent"
    assert body["outbox"]["sent"] == BIG
    assert body["stats"]["injections"] == body["stats"]["deliveries"] == BIG
    received = Counter(r for _, rcpts, _ in smtp_server.messages for r in rcpts)
    assert sorted(received) == emails
    assert set(received.values()) == {1}
    assert outbox_states(isolated_home, ref) == {"sent": BIG}

    # Once a campaign has gone out, the next big one is not parked (the brake keeps this one
    # from sending 5,001 more messages: it is prepared, and stays `sending`).
    second = new_campaign(lettr, tmp_path, "Second", "Everyone")
    (isolated_home / "PAUSE").touch()
    sent = lettr("campaign", "send", second, "--yes", "--json")
    assert sent.exit_code == 0, sent.stderr
    assert sent.json()["status"] == "sending"
    assert outbox_states(isolated_home, second) == {"queued": BIG}
    assert len(smtp_server.messages) == BIG


def test_a_rejected_campaign_fails_with_the_reason_and_sends_nothing(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    ref, _ = _big_store(lettr, verified_domain, tmp_path)
    _park(lettr, isolated_home, ref)
    unconfirmed = lettr("campaign", "reject", ref, "--reason", "wrong list", "--json")
    assert unconfirmed.error()["error_code"] == "confirmation_required"
    assert campaign_row(isolated_home, ref)["status"] == "in_review"

    rejected = lettr("campaign", "reject", ref, "--reason", "wrong list", "--yes", "--json")

    assert rejected.exit_code == 0, rejected.stderr
    body = rejected.json()
    assert body["status"] == "failed"
    assert "wrong list" in body["failure_reason"]
    assert campaign_row(isolated_home, ref)["failure_reason"] == body["failure_reason"]
    again = lettr("campaign", "approve", ref, "--json")
    assert again.error()["error_code"] == "campaign_not_sendable"
    tick = lettr("daemon", "tick", "--json")
    assert tick.exit_code == 0 and tick.json()["campaigns"] == []
    assert smtp_server.messages == []
    assert "sent" not in outbox_states(isolated_home, ref)
