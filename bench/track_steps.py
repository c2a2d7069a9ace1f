"""Running bench/track.py's steps: ``lettr track serve`` in a process of its own (``serve``),
``wrk`` with ``bench/track.lua`` for one step's request file (``wrk``), and one step around them
(``step``): the server's CPU time from /proc before and after, and the events the store recorded,
counted once the server has written them all (``settled``). Also the lettr command line and a
free loopback port, which the store's set-up uses too.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from send_measure import lettr_env  # the environment of a timed lettr, as bench/send.py's

LUA = Path(__file__).resolve().with_name("track.lua")


def lettr_command() -> list[str]:
    script = Path(sys.executable).with_name("lettr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lettr_cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def recorded(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        found = dict(conn.execute("SELECT event_type, count(*) FROM events GROUP BY event_type"))
    return {
        "opens": found.get("open", 0),
        "clicks": found.get("click", 0),
        "unsubscribes": found.get("list_unsubscribe", 0),
    }


def settled(db: Path, timeout: float = 60.0) -> dict[str, int]:
    """The store's counts once they stop moving (the server has written its last group)."""
    last = recorded(db)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = recorded(db)
        if now == last:
            return now
        last = now
    return last


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port: int, requests: Path, connections: int, threads: int, seconds: int) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}",
            "--",
            str(requests),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk said:\n{done.stdout}\n{done.stderr}")
    result: dict = json.loads(line[6:])
    result["wrk_cpu"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return result


def step(server: subprocess.Popen[str], db: Path, port: int, requests: Path, c: int, a) -> dict:
    before = settled(db)
    cpu = cpu_seconds(server.pid)
    load = os.getloadavg()[0]
    result = wrk(port, requests, c, a.threads, a.seconds)
    result["server_cpu"] = cpu_seconds(server.pid) - cpu
    after = settled(db)
    result["recorded"] = {k: after[k] - before[k] for k in after}
    result["connections"] = c
    result["load"] = load
    return result


def serve(home: Path, port: int, log: Path) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        [*lettr_command(), "track", "serve", "--port", str(port)],
        env=lettr_env(home),
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        if server.poll() is not None:
            raise SystemExit(f"lettr track serve exited:\n{log.read_text()}")
        time.sleep(0.1)
    raise SystemExit("lettr track serve did not listen")
