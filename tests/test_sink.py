"""`lettr sink` and the sink service: real SMTP clients, a real Maildir on disk."""

from __future__ import annotations

import asyncio
import email
import mailbox
import os
import re
import signal
import smtplib
import socket
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import IO

import pytest

from lettr_cli.cli.sink import arrival_line
from lettr_cli.errors import ValidationError
from lettr_cli.sink import Arrival, running_sink
from tests.conftest import REPO, run_process

LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")


def message(subject: str = "Hello", to: str = "ann@example.org", body: str = "Hi Ann\n") -> bytes:
    msg = EmailMessage()
    msg["From"] = "News <news@example.com>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    return msg.as_bytes(policy=policy.SMTP)


def send(port: int, data: bytes, recipients: list[str], sender: str = "news@example.com") -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail(sender, recipients, data)


def kept(folder: Path) -> list[EmailMessage]:
    box = mailbox.Maildir(folder, factory=None, create=False)
    out = []
    for key in box.iterkeys():
        with box.get_file(key) as fh:
            parsed = email.message_from_bytes(fh.read(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        out.append(parsed)
    return out


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def private_tree(folder: Path) -> None:
    assert mode(folder) == 0o700
    for sub in ("tmp", "new", "cur"):
        assert mode(folder / sub) == 0o700
    files = list((folder / "new").iterdir())
    assert files
    assert all(mode(f) == 0o600 for f in files)
    assert not list((folder / "tmp").iterdir())


# -- the service, in process ---------------------------------------------------------------------


def test_each_recipient_gets_a_private_file_with_its_envelope(tmp_path: Path) -> None:
    arrivals: list[Arrival] = []
    folder = tmp_path / "mail"
    data = message(subject="Grüße aus Köln", body="Line one\n.starts with a dot\n")
    with running_sink(folder, report=arrivals.append) as sink:
        assert sink.port > 0 and sink.maildir == folder
        send(sink.port, data, ["ann@example.org", "bob@example.net"], sender="b+1@example.com")
    assert sink.kept == 1 and sink.files == 2
    private_tree(folder)
    found = {m["Delivered-To"]: m for m in kept(folder)}
    assert set(found) == {"ann@example.org", "bob@example.net"}
    for rcpt, msg in found.items():
        assert msg["Return-Path"] == "<b+1@example.com>"
        assert f"for <{rcpt}>" in msg["Received"] and "lettr sink" in msg["Received"]
        assert msg["Subject"] == "Grüße aus Köln"
        assert msg.get_content() == "Line one\n.starts with a dot\n"  # dot-stuffing undone
    raw = next((folder / "new").iterdir()).read_bytes()
    assert b"\r\n" not in raw  # Maildir files have LF line ends
    assert raw.split(b"\n", 5)[5].replace(b"\n", b"\r\n") in data  # the message, unchanged
    (arrival,) = arrivals
    assert arrival.mail_from == "b+1@example.com"
    assert arrival.recipients == ("ann@example.org", "bob@example.net")
    assert arrival.subject == "Grüße aus Köln"
    assert arrival.size == len(data)
    assert sorted(arrival.files) == sorted((folder / "new").iterdir())


def test_an_aiosmtplib_client_gets_250_and_the_file_name(tmp_path: Path) -> None:
    import aiosmtplib

    async def deliver(port: int) -> str:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) as client:
            errors, reply = await client.sendmail("", ["a@example.org"], message())
        assert errors == {}
        return reply

    with running_sink(tmp_path / "mail") as sink:
        reply = asyncio.run(deliver(sink.port))
    (only,) = (tmp_path / "mail" / "new").iterdir()
    assert reply.startswith("2.0.0 Ok: kept as") and only.name in reply
    assert kept(tmp_path / "mail")[0]["Return-Path"] == "<>"  # a bounce's null sender


def test_mail_already_in_the_maildir_stays(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    with running_sink(folder) as sink:
        send(sink.port, message(subject="first"), ["a@example.org"])
    with running_sink(folder) as sink:
        send(sink.port, message(subject="second"), ["a@example.org"])
    assert sorted(m["Subject"] for m in kept(folder)) == ["first", "second"]


def test_a_message_that_cannot_be_kept_is_refused_with_a_temporary_error(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    with running_sink(folder) as sink:
        os.rmdir(folder / "new")  # the rename into new/ fails
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send(sink.port, message(), ["a@example.org"])
    assert refused.value.smtp_code == 451
    assert sink.kept == 0
    assert not list((folder / "tmp").iterdir())  # nothing half-written left behind


def test_a_folder_that_cannot_hold_a_maildir_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ValidationError) as refused, running_sink(blocker / "mail"):
        pass
    assert "cannot keep messages in" in refused.value.message


def test_a_taken_port_is_refused(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ValidationError) as refused, running_sink(tmp_path / "m", port=port):
            pass
    assert f"cannot listen on 127.0.0.1:{port}" in refused.value.message


def test_the_line_for_a_message_is_safe_for_a_terminal() -> None:
    arrival = Arrival(
        at=datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
        mail_from="news@example.com",
        recipients=("ann@example.org", "bob@example.net"),
        subject="Sale \x1b[31mnow[/red]",
        size=1234,
        files=(),
    )
    line = arrival_line(arrival)
    assert "\x1b" not in line
    assert "news@example.com → ann@example.org, bob@example.net" in line
    assert '"Sale ?[31mnow[/red]" 1234 bytes' in line
    assert re.match(r"\d\d:\d\d:\d\d ", line)


# -- `lettr sink` as a user runs it --------------------------------------------------------------


def start_sink(
    args: list[str], env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], int]:
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(REPO)
    full_env.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "lettr_cli", "sink", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=REPO,
    )
    assert process.stderr is not None
    port = int(wait_for_line(process.stderr, LISTENING).group(1))
    return process, port


def wait_for_line(stream: IO[str], pattern: re.Pattern[str], timeout: float = 30) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        found = pattern.search(line)
        if found:
            return found
    raise AssertionError(f"no line matching {pattern.pattern!r} in {seen!r}")


def test_lettr_sink_keeps_messages_and_logs_one_line_each_until_sigterm(tmp_path: Path) -> None:
    folder = tmp_path / "kept"
    process, port = start_sink(["--maildir", str(folder)])
    assert process.stderr is not None
    try:
        send(port, message(subject="First"), ["ann@example.org"])
        wait_for_line(process.stderr, re.compile(r'news@example\.com → ann@example\.org "First"'))
        send(port, message(subject="Second", to="bob@example.net"), ["bob@example.net"])
        line = wait_for_line(process.stderr, re.compile(r'"Second" (\d+) bytes'))
        assert int(line.group(1)) > 100
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, rest = process.communicate(timeout=30)
    assert process.returncode == 143
    assert stdout == ""  # everything the sink says is on stderr
    assert f"Stopped: 2 messages kept in {folder}" in rest
    private_tree(folder)
    assert sorted(m["Subject"] for m in kept(folder)) == ["First", "Second"]


def test_lettr_sink_keeps_mail_under_lettr_home_by_default_and_exits_130_on_ctrl_c(
    isolated_home: Path,
) -> None:
    process, port = start_sink([])
    assert process.stderr is not None
    try:
        where = wait_for_line(process.stderr, re.compile(r"Messages go to the Maildir (.+)$"))
        assert Path(where.group(1)) == isolated_home / "sink"
        send(port, message(), ["ann@example.org"])
        wait_for_line(process.stderr, re.compile(r"→ ann@example\.org"))
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 130
    private_tree(isolated_home / "sink")
    assert mode(isolated_home) == 0o700
    assert not (isolated_home / "lettr.db").exists()  # the sink needs no store


def test_lettr_sink_refuses_a_taken_port_with_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_process(["sink", "--port", str(port), "--maildir", str(tmp_path / "m")])
    assert result.returncode == 1
    assert f"Error [validation_error]: cannot listen on 127.0.0.1:{port}" in result.stderr


def test_lettr_sink_refuses_a_port_out_of_range_as_a_usage_error() -> None:
    result = run_process(["sink", "--port", "70000"])
    assert result.returncode == 2
