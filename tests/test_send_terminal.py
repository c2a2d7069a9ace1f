"""On a terminal a send shows Rich's live table; `send` asks before it sends."""

from __future__ import annotations

import os
from pathlib import Path

from tests.sending_helpers import make_campaign
from tests.test_cli import finish, read_until, spawn_on_terminal


def test_a_send_on_a_terminal_asks_then_shows_a_live_table(
    lettr, smtp_server, verified_domain, tmp_path: Path
) -> None:
    verified_domain()
    emails = [f"t{n}@example.org" for n in range(20)]
    campaign = make_campaign(lettr, tmp_path, emails)
    pid, fd = spawn_on_terminal(["campaign", "send", campaign], tmp_path)
    asked = read_until(fd, b"[y/N]")
    assert b"to about 20 recipients now?" in asked
    os.write(fd, b"y\n")
    code, output = finish(pid, fd)
    text = output.decode(errors="replace")
    assert code == 0, text
    for column in ("campaign", "sent", "rate", "failed", "retrying", "ETA"):
        assert column in text
    assert "20/20" in text
    assert len(smtp_server.messages) == 20


def test_declining_sends_nothing(lettr, smtp_server, verified_domain, tmp_path: Path) -> None:
    verified_domain()
    campaign = make_campaign(lettr, tmp_path, ["only@example.org"])
    pid, fd = spawn_on_terminal(["campaign", "send", campaign], tmp_path)
    assert b"[y/N]" in read_until(fd, b"[y/N]")
    os.write(fd, b"n\n")
    code, _ = finish(pid, fd)
    assert code == 1
    assert lettr("campaign", "show", campaign, "--json").json()["status"] == "draft"
    assert not smtp_server.messages
