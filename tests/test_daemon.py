"""`lettr daemon tick` and `daemon run`: due campaigns start and are sent; the JSON of a tick."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO
from tests.sending_helpers import make_campaign

EMAILS = [f"d{n}@example.org" for n in range(8)]


def _make_due(home: Path, campaign_id: str) -> None:
    with sqlite3.connect(home / "lettr.db") as conn:
        conn.execute(
            "UPDATE campaigns SET scheduled_at = '2020-01-01 00:00:00.000000' WHERE id = ?",
            (campaign_id,),
        )


def test_a_due_scheduled_campaign_is_sent_by_the_next_tick(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    campaign = make_campaign(lettr, tmp_path, EMAILS)
    assert lettr("campaign", "schedule", campaign, "--at", "+1h").exit_code == 0
    early = lettr("daemon", "tick", "--json")
    assert early.exit_code == 0, early.stderr
    assert early.json() == {"campaigns": [], "skipped": []}
    assert not smtp_server.messages
    _make_due(isolated_home, campaign)
    result = lettr("daemon", "tick", "--json")
    assert result.exit_code == 0, result.stderr
    (only,) = result.json()["campaigns"]
    assert only["id"] == campaign
    assert (only["status"], only["sent"], only["failed"], only["in_doubt"]) == ("sent", 8, 0, 0)
    assert only["retry_at"] is None
    assert "due; preparing" in result.stderr and "Sale: sent" in result.stderr
    assert sorted(r for _, rcpts, _ in smtp_server.arrived() for r in rcpts) == sorted(EMAILS)
    again = lettr("daemon", "tick", "--json")
    assert again.json() == {"campaigns": [], "skipped": []}
    assert len(smtp_server.messages) == len(EMAILS)


def test_a_due_campaign_that_fails_its_checks_fails_with_the_reason(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    campaign = make_campaign(lettr, tmp_path, EMAILS)
    assert lettr("campaign", "schedule", campaign, "--at", "+1h").exit_code == 0
    _make_due(isolated_home, campaign)
    with sqlite3.connect(isolated_home / "lettr.db") as conn:
        conn.execute("UPDATE domains SET status = 'failed'")
    result = lettr("daemon", "tick", "--json")
    assert result.exit_code == 0, result.stderr
    shown = lettr("campaign", "show", campaign, "--json").json()
    assert shown["status"] == "failed"
    assert "example.com" in shown["failure_reason"]
    assert "failed" in result.stderr
    assert not smtp_server.messages


def test_daemon_run_sends_and_drains_on_sigterm(
    lettr, smtp_server, verified_domain, tmp_path: Path
) -> None:
    verified_domain()
    campaign = make_campaign(lettr, tmp_path, EMAILS)
    assert lettr("campaign", "send", campaign, "--detach", "--yes").exit_code == 0
    daemon = subprocess.Popen(
        [sys.executable, "-m", "lettr_cli", "daemon", "run", "--interval", "1"],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(smtp_server.messages) < len(EMAILS) and time.monotonic() < deadline:
            time.sleep(0.1)
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=30)
    finally:
        daemon.kill()
    assert daemon.returncode == 143, stderr
    assert lettr("campaign", "show", campaign, "--json").json()["status"] == "sent"
    assert len(smtp_server.messages) == len(EMAILS)
