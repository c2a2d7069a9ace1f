"""`lettr dns serve`: the loopback DNS responder as a command, serving the records of every
domain in the store, so that `lettr domain verify --nameserver` works offline."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import dns.message
import dns.query
import dns.rcode
import pytest

from tests.conftest import REPO
from tests.send_cases import LIVENESS

RELAY = "192.0.2.10"


@contextlib.contextmanager
def dns_serve(*args: str) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    """``lettr dns serve --port 0`` in a process of its own; yields it, the HOST:PORT it says
    it listens on, and the stderr lines read so far."""
    server = subprocess.Popen(
        [sys.executable, "-m", "lettr_cli", "dns", "serve", "--port", "0", *args],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(LIVENESS, server.kill)  # never hang on a silent server
    watchdog.start()
    try:
        assert server.stderr is not None
        lines: list[str] = []
        for line in server.stderr:
            lines.append(line)
            if line.startswith("Ctrl-C stops it"):
                break
        found = re.search(r"listening on (\S+)", "".join(lines))
        assert found, lines
        yield server, found.group(1), lines
    finally:
        watchdog.cancel()
        server.kill()
        server.wait()


def add(lettr: Any, domain: str) -> None:
    result = lettr("domain", "add", domain, "--json")
    assert result.exit_code == 0, result.stderr


def verify(lettr: Any, domain: str, nameserver: str) -> Any:
    return lettr("domain", "verify", domain, "--nameserver", nameserver, "--timeout", "5", "--json")


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_domain_verify_succeeds_against_dns_serve(lettr, stop: int, code: int) -> None:
    assert lettr("config", "set", "smtp.host", RELAY).exit_code == 0
    add(lettr, "example.com")
    with dns_serve() as (server, nameserver, lines):
        assert nameserver.startswith("127.0.0.1:") and not nameserver.endswith(":0")
        said = "".join(lines)
        assert "example.com" in said
        assert f"lettr domain verify example.com --nameserver {nameserver}" in said
        result = verify(lettr, "example.com", nameserver)
        assert result.exit_code == 0, result.stderr
        assert result.json()["status"] == "verified"
        assert server.stdout is not None
        server.send_signal(stop)
        stdout, rest = server.communicate(timeout=LIVENESS)
        assert server.returncode == code, rest
    assert stdout == ""
    assert "Traceback" not in rest


def test_dns_serve_follows_the_store(lettr) -> None:
    assert lettr("config", "set", "smtp.host", RELAY).exit_code == 0
    add(lettr, "example.com")
    add(lettr, "example.org")
    with dns_serve() as (_server, nameserver, _lines):
        for domain in ("example.com", "example.org"):
            assert verify(lettr, domain, nameserver).exit_code == 0, domain
        # A domain added while it runs is served without a restart; a removed one is gone.
        add(lettr, "example.net")
        assert lettr("domain", "remove", "example.org", "--yes").exit_code == 0
        eventually(lambda: verify(lettr, "example.net", nameserver).exit_code == 0)
        eventually(lambda: rcode(nameserver, "_dmarc.example.org") == dns.rcode.NXDOMAIN)
        assert rcode(nameserver, "_dmarc.example.com") == dns.rcode.NOERROR


def rcode(nameserver: str, name: str) -> int:
    host, _, port = nameserver.rpartition(":")
    reply = dns.query.udp(dns.message.make_query(name, "TXT"), host, 5, int(port))
    return int(reply.rcode())


def eventually(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + LIVENESS
    while not condition():
        assert time.monotonic() < deadline, "the served records never followed the store"
        time.sleep(0.2)


def test_a_port_in_use_is_a_clear_error(lettr) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = lettr("dns", "serve", "--port", str(port))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error [validation_error]: cannot listen on 127.0.0.1:")
