"""`bench/send.py`'s rows with the store on PostgreSQL (issue 17): the same campaign, copied
from the SQLite store the SQLite row sends (``lettr store copy --to URL``) into a new database,
sent (a) by one ``lettr campaign send ID --yes`` and (b) by three ``lettr daemon run --interval
1`` processes sharing it, timed from ``lettr campaign send ID --detach --yes`` (which hands the
campaign to the daemons) until the campaign is ``sent``; the daemons are then stopped (SIGTERM)
and their CPU time added up. Both count every message at the sink, as the SQLite rows do.

The server: ``--pg-url URL`` (a role that may ``CREATE DATABASE``; each run gets a database of its
own, dropped afterwards), else a throwaway server of the bench's own (``tests/pg_server.py``:
``initdb`` in a temporary folder, as the ``postgres`` user when run as root, on a loopback port)
at the server's defaults, durability included (fsync, full-page writes and synchronous commit
on), since a user's server has them on. ``--skip-pg`` leaves these rows out.

On a machine of two cores, three daemons measure contention (three Python processes, the server
and the sink share the cores), not how lettr scales over hosts.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from send_measure import LETTR, Run, timed
from send_report import Row
from send_sink import Sink, check_sink
from send_store import Store

REPO = Path(__file__).resolve().parent.parent
DAEMONS = 3
LIVENESS = 600.0  # seconds: a bound that only catches a hang
SHOWN = ("server_version", "fsync", "synchronous_commit", "full_page_writes", "max_connections")


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pg-url",
        help="a PostgreSQL server for the PostgreSQL rows (default: a throwaway one, initdb)",
    )
    parser.add_argument("--skip-pg", action="store_true", help="leave the PostgreSQL rows out")


@dataclass
class Timing:
    wall: float
    cpu: float  # user + system of every lettr process of the run


class Server:
    """Where the databases go: the server ``--pg-url`` names, or one started here."""

    def __init__(self, url: str | None) -> None:
        self.given = url
        self.started: Any = None

    def start(self) -> str | None:
        """None when ready, else why there is no server (the rows are then left out)."""
        try:
            import psycopg  # noqa: F401
        except ImportError:
            return "psycopg is not installed: pip install -e '.[postgres]'"
        if self.given:
            return None
        if str(REPO) not in sys.path:
            sys.path.insert(0, str(REPO))
        from tests.pg_server import PgServer, Unavailable

        self.started = PgServer(max_connections=None, durable=True)
        try:
            self.started.start()
        except Unavailable as exc:
            self.started.stop()
            self.started = None
            return str(exc)
        return None

    @property
    def admin_url(self) -> str:
        """The URL as libpq reads it (psycopg takes no ``+psycopg`` in the scheme)."""
        url = self.given or self.started.admin_url
        return str(url).replace("postgresql+psycopg://", "postgresql://", 1)

    def new_database(self) -> str:
        """A new, empty database on the server; its URL."""
        import psycopg

        name = f"lettr_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{name}"))

    def drop(self, url: str) -> None:
        import psycopg

        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def describe(self) -> str:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            values = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in SHOWN}  # type: ignore[index]
        settings = ", ".join(f"{name}={value}" for name, value in values.items())
        if self.given:
            return f"PostgreSQL (given by --pg-url): {settings}"
        return (
            f"PostgreSQL (throwaway, initdb here, loopback TCP): {settings}; everything else at "
            "the server's defaults"
        )

    def stop(self) -> None:
        if self.started is not None:
            self.started.stop()


@contextmanager
def server(options: argparse.Namespace) -> Iterator[Server | None]:
    """The PostgreSQL server of the run, or None (``--skip-pg``, or none can be started)."""
    if options.skip_pg:
        yield None
        return
    found = Server(options.pg_url)
    why = found.start()
    if why is not None:
        print(f"\nPostgreSQL rows left out: {why}")
        yield None
        return
    try:
        yield found
    finally:
        found.stop()


def _lettr(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*LETTR, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"lettr {' '.join(args[:3])} … failed:\n{done.stderr}")
    return done


def _status(url: str, campaign: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT status FROM campaigns WHERE id = %s", (campaign,)).fetchone()
    assert row is not None
    return str(row[0])


@contextmanager
def database(pg: Server, env: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """A new database holding a copy of the SQLite store of ``env`` (``lettr store copy``);
    (its URL, ``env`` with LETTR_DB set to it)."""
    url = pg.new_database()
    try:
        _lettr(env, "store", "copy", "--to", url)
        yield url, {**env, "LETTR_DB": url}
    finally:
        pg.drop(url)


def send_one(pg: Server, campaign: str, recipients: int, env: dict[str, str]) -> Run:
    """(a) One ``lettr campaign send ID --yes`` (+ ``approve`` when parked in review), timed by
    ``timed``; returns its ``Run``."""
    with database(pg, env) as (url, on_pg):
        run = timed([*LETTR, "campaign", "send", campaign, "--yes"], on_pg)
        if _status(url, campaign) == "in_review":
            run = run + timed([*LETTR, "campaign", "approve", campaign], on_pg)
        _check_sent(on_pg, campaign, recipients)
    return run


def send_daemons(
    pg: Server, campaign: str, recipients: int, env: dict[str, str], log: Path
) -> Timing:
    """(b) ``DAEMONS`` daemons share the campaign: timed from ``campaign send --detach`` until
    it is ``sent``; CPU time of every process of the run."""
    with database(pg, env) as (url, on_pg), log.open("ab") as err:
        cpu = 0.0
        started = time.perf_counter()
        for args in (["send", campaign, "--detach", "--yes"], ["approve", campaign, "--detach"]):
            if args[0] == "approve" and _status(url, campaign) != "in_review":
                continue
            proc = subprocess.Popen([*LETTR, "campaign", *args], env=on_pg, stdout=err, stderr=err)
            cpu += _reap(proc, args[0])
        daemons = [
            subprocess.Popen(
                [*LETTR, "daemon", "run", "--interval", "1"],
                env=on_pg,
                stdout=err,
                stderr=err,
            )
            for _ in range(DAEMONS)
        ]
        try:
            deadline = started + LIVENESS
            while _status(url, campaign) != "sent":
                if time.perf_counter() > deadline or any(d.poll() is not None for d in daemons):
                    raise SystemExit(f"the daemons did not finish the campaign; see {log}")
                time.sleep(0.02)
            wall = time.perf_counter() - started
            for daemon in daemons:
                daemon.send_signal(signal.SIGTERM)
            for daemon in daemons:
                cpu += _reap(daemon, "daemon run", expected=128 + signal.SIGTERM)
        finally:
            for daemon in daemons:
                if daemon.poll() is None:
                    daemon.kill()
                    daemon.wait()
        _check_sent(on_pg, campaign, recipients)
    return Timing(wall, cpu)


def _reap(proc: subprocess.Popen[bytes], what: str, expected: int = 0) -> float:
    """Wait for ``proc``; its user + system CPU seconds."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != expected:
        raise SystemExit(f"lettr {what} exited with {code}")
    return float(usage.ru_utime + usage.ru_stime)


def _check_sent(env: dict[str, str], campaign: str, recipients: int) -> None:
    import json

    shown = json.loads(_lettr(env, "campaign", "show", campaign, "--json").stdout)
    if shown["status"] != "sent" or shown["outbox"]["sent"] != recipients:
        raise SystemExit(f"on PostgreSQL: {shown['status']}, outbox {shown['outbox']}")


def rows(pg: Server, store: Store, key: str, sink: Sink, folder: Path) -> list[Row]:
    """``store``'s campaign ``key`` on PostgreSQL, one send then the daemons, each counted at
    ``sink``: two ``Row``s."""
    n, campaign = store.recipients, store.campaigns[key]
    one_name, daemons_name = names(store.label)
    before = sink.count()
    one = send_one(pg, campaign, n, store.env)
    check_sink(sink, before, n, one_name)
    before = sink.count()
    many = send_daemons(pg, campaign, n, store.env, folder / "postgres.log")
    check_sink(sink, before, n, daemons_name)
    return [Row(one_name, n, one), Row(daemons_name, n, Run(many.wall, many.cpu, 0, ""))]


def names(label: str) -> tuple[str, str]:
    """The rows' names: (one send, the daemons)."""
    return f"{label}, PostgreSQL, 1 send", f"{label}, PostgreSQL, {DAEMONS} daemons"


def summary(results: dict[str, dict[str, Any]], labels: dict[str, str], sqlite: str) -> None:
    """msg/s of the PostgreSQL rows beside the SQLite row ``sqlite`` (× mailmerge)."""
    one, daemons = names(sqlite)
    columns = [("SQLite", sqlite), ("PG, 1 send", one), (f"PG, {DAEMONS} daemons", daemons)]
    print(f"\nPostgreSQL beside SQLite, {sqlite}, msg/s (× mailmerge in the same run):")
    header = f"{'message':14} {'mailmerge':>9} " + " ".join(f"{t:>18}" for t, _ in columns)
    print(header)
    print("-" * len(header))
    for key, rows in results.items():
        if daemons not in rows:
            continue
        reference = rows["mailmerge"].rate
        cells = [
            f"{rows[n].rate:7.0f} ({rows[n].rate / reference:4.2f}×)".rjust(18) for _, n in columns
        ]
        print(f"{labels[key]:14} {reference:9.0f} " + " ".join(cells))
    print(
        f"{DAEMONS} daemons: from `campaign send --detach` to `sent`, `daemon run --interval 1`, "
        f"CPU summed over the processes. On {os.cpu_count()} cores they share the cores with the "
        "server and the sink: this measures contention, not how lettr scales over hosts."
    )
