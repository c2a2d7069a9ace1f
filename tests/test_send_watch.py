"""`lettr campaign show ID --watch` follows a send made by another process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO
from tests.sending_helpers import make_campaign
from tests.smtp_relay import Relay


def test_watch_follows_a_send_in_another_process_until_it_is_sent(
    lettr, relay: Relay, tmp_path: Path
) -> None:
    relay.slow = 0.05
    lettr("config", "set", "sending.concurrency", "2")
    emails = [f"w{n}@example.org" for n in range(30)]
    campaign = make_campaign(lettr, tmp_path, emails)
    sender = subprocess.Popen(
        [sys.executable, "-m", "lettr_cli", "campaign", "send", campaign, "--yes"],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not relay.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        watched = lettr("campaign", "show", campaign, "--watch", "--json")
        assert sender.wait(timeout=60) == 0
    finally:
        sender.kill()
    assert watched.exit_code == 0, watched.stderr
    assert watched.json()["status"] == "sent"
    lines = watched.stderr.splitlines()
    assert any("sending" in line for line in lines)
    assert any("30/30 sent" in line for line in lines)
    assert len(relay.messages) == 30
