"""The SMTP sink of ``bench/send.py``: Postfix's ``smtp-sink`` (a C process of its own that
answers everything at once, announces PIPELINING and counts messages), else ``lettr sink`` when
this lettr has that command, else a small aiosmtpd process (``serve_aiosmtpd``, run as
``send.py``'s ``_aiosmtpd-sink`` role). ``Sink`` starts one on a free loopback port and reads its
running count; ``check_sink`` fails the run when the sink did not take as many messages as a
sender says it sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from send_measure import LETTR, SEND


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the sink exited with code {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise SystemExit(f"the sink did not listen on port {port} within {seconds:.0f}s")


def smtp_sink_path() -> str | None:
    if Path("/usr/sbin/smtp-sink").exists():
        return "/usr/sbin/smtp-sink"
    return shutil.which("smtp-sink")


def lettr_has_sink() -> bool:
    probe = subprocess.run([*LETTR, "sink", "--help"], capture_output=True, check=False)
    return probe.returncode == 0


class Sink:
    """An SMTP sink in a process of its own on a free loopback port; ``count()`` is the number of
    messages it has taken so far (None when the sink does not say)."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.port = free_port()
        self.log = folder / f"sink-{kind}.out"
        if kind == "smtp-sink":
            path = smtp_sink_path()
            assert path is not None
            # -c: a running count of messages; as root it must drop privileges (-u).
            user = ["-u", "nobody"] if os.geteuid() == 0 else []
            command = [path, "-c", *user, f"127.0.0.1:{self.port}", "1000"]
            self.label = f"Postfix smtp-sink ({path}), a C process of its own"
        elif kind == "lettr":
            command = [*LETTR, "sink", "--host", "127.0.0.1", "--port", str(self.port)]
            self.label = "`lettr sink` (Python): ratios NOT comparable with the goals"
        else:
            command = [sys.executable, str(SEND), "_aiosmtpd-sink", str(self.port)]
            self.label = "an aiosmtpd process (Python): ratios NOT comparable with the goals"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process)

    def count(self) -> int | None:
        if self.kind == "lettr":
            return None
        with self.log.open("rb") as log:
            log.seek(max(0, self.log.stat().st_size - 4096))
            counts = re.findall(rb"mesg=(\d+)", log.read())
        return int(counts[-1]) if counts else 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def serve_aiosmtpd(port: int) -> None:
    """The fallback sink: accept everything, print a running count like smtp-sink's ``-c``."""
    from aiosmtpd.smtp import SMTP

    taken = 0

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            nonlocal taken
            taken += 1
            sys.stdout.write(f"mesg={taken}\r")
            sys.stdout.flush()
            return "250 2.0.0 Ok"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        server = await loop.create_server(
            lambda: SMTP(Handler(), hostname="sink", enable_SMTPUTF8=True),
            "127.0.0.1",
            port,
            backlog=1000,
        )
        async with server:
            await stop.wait()

    asyncio.run(main())


def choose_sink(wanted: str | None) -> str:
    if wanted == "smtp-sink" and smtp_sink_path() is None:
        raise SystemExit("smtp-sink is not installed: apt-get install postfix")
    if wanted == "lettr" and not lettr_has_sink():
        raise SystemExit("this lettr has no `lettr sink` command")
    if wanted:
        return wanted
    if smtp_sink_path():
        return "smtp-sink"
    return "lettr" if lettr_has_sink() else "aiosmtpd"


def check_sink(sink: Sink, before: int | None, expected: int, label: str) -> None:
    after = sink.count()
    if before is not None and after is not None and after - before != expected:
        raise SystemExit(f"{label}: the sink counted {after - before} messages, not {expected}")
