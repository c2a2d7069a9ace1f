"""Set-up for the crash and lease tests: a store built once and copied, lettr in real processes
that can be killed, stopped or signalled, and the checks that no address got two messages and
that every missing one is ``in_doubt`` (the relay that can hold a message is ``Relay``)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lettr_cli.cli.main import app
from tests.conftest import REPO
from tests.sending_helpers import HTML
from tests.smtp_relay import Relay
from tests.store_access import on_server, store_connect

CAMPAIGN = "Sale"
SMALL = 150  # the crash and lease tests' audience: more than two claim batches of 64
LIVENESS = 120.0  # seconds: generous bounds that only catch a hang, never a slow machine


# -- a store built once ------------------------------------------------------------------------
_built: dict[int, Path] = {}


def stored_audience(factory: pytest.TempPathFactory, count: int) -> Path:
    """``build_home`` once per test process and audience size."""
    if count not in _built:
        _built[count] = build_home(factory.mktemp(f"audience{count}"), count)
    return _built[count]


def build_home(folder: Path, count: int) -> Path:
    """A store with example.com verified, ``count`` contacts imported into the list Customers,
    and a draft campaign ``Sale`` to that list; returns a self-contained copy of it."""
    from lettr_cli.domains.responder import DnsResponder

    home = folder / "home"
    csv = folder / "contacts.csv"
    with csv.open("w", encoding="utf-8") as out:
        out.write("email,first_name\n")
        for n in range(count):
            out.write(f"user{n:05d}@example.org,User {n}\n")
    page = folder / "sale.html"
    page.write_text(HTML, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("LETTR_"):
                patch.delenv(name)
        patch.setenv("LETTR_HOME", str(home))
        patch.setenv("NO_COLOR", "1")

        def lettr(*args: str) -> Any:
            result = CliRunner().invoke(app, list(args), catch_exceptions=False)
            assert result.exit_code == 0, (args, result.stderr)
            return result

        lettr("config", "set", "smtp.host", "127.0.0.1")
        lettr("config", "set", "smtp.port", "25")  # each test names its server's port
        lettr("config", "set", "smtp.security", "none")
        lettr("config", "set", "plan.tier", "enterprise")
        lettr("domain", "add", "example.com")
        records = json.loads(lettr("domain", "records", "example.com", "--json").stdout)
        with DnsResponder() as dns:
            for record in records:
                dns.publish(record["name"], record["value"])
            lettr("domain", "verify", "example.com", "--nameserver", dns.nameserver)
        lettr("property", "create", "first_name", "--fallback", "there")
        lettr("list", "create", "Customers")
        lettr("contact", "import", str(csv), "--list", "Customers")
        lettr(
            "campaign", "create", CAMPAIGN,
            "--subject", "Hello {{ first_name }}",
            "--from-email", "news@example.com",
            "--html", str(page),
        )  # fmt: skip
        lettr("campaign", "audience", CAMPAIGN, "--list", "Customers")
    template = folder / "template.db"
    source, target = sqlite3.connect(home / "lettr.db"), sqlite3.connect(template)
    try:
        source.backup(target)  # one self-contained file, no WAL beside it
    finally:
        source.close()
        target.close()
    return template


# -- reading the store from outside, as the test's own observer --------------------------------
def _read(home: Path, query: str, *params: Any) -> list[Any]:
    if on_server():  # a PostgreSQL variant (LETTR_DB set): the test's database
        with store_connect(home) as server:
            return [tuple(row) for row in server.execute(query, params).fetchall()]
    conn = sqlite3.connect(f"{(home / 'lettr.db').as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def the_campaign(home: Path) -> tuple[str, str, int]:
    """(id, status, total_recipients) of the one campaign."""
    rows = _read(
        home, "SELECT id, status, total_recipients FROM campaigns WHERE name = ?", CAMPAIGN
    )
    assert len(rows) == 1
    return str(rows[0][0]), str(rows[0][1]), int(rows[0][2] or 0)


def status_counts(home: Path) -> Counter[str]:
    return Counter(dict(_read(home, "SELECT status, count(*) FROM outbox GROUP BY status")))


def rows_in(home: Path, status: str) -> set[str]:
    return {row[0] for row in _read(home, "SELECT email FROM outbox WHERE status = ?", status)}


def lease(home: Path) -> tuple[str | None, int | None, str | None, int] | None:
    """(holder, pid, host, epoch) of the campaign's lease row."""
    rows = _read(home, "SELECT holder, pid, host, epoch FROM leases")
    if not rows:
        return None
    holder, pid, host, epoch = rows[0]
    return holder, pid, host, int(epoch)


def heartbeat_age(home: Path) -> float:
    """Seconds since the lease's last heartbeat."""
    [(beat,)] = _read(home, "SELECT heartbeat_at FROM leases")
    at = datetime.fromisoformat(str(beat))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (datetime.now(UTC) - at).total_seconds()


def workers(home: Path) -> dict[str, tuple[int, str, int, str | None]]:
    """The workers table: id → (pid, host, epoch, heartbeat_at)."""
    rows = _read(home, "SELECT id, pid, host, epoch, heartbeat_at FROM workers")
    return {str(r[0]): (int(r[1]), str(r[2]), int(r[3]), r[4]) for r in rows}


def worker_of(home: Path, pid: int) -> tuple[str, int, str | None] | None:
    """(id, epoch, heartbeat_at) of the one worker of process ``pid`` (None: it has none)."""
    found = [(w, epoch, beat) for w, (p, _, epoch, beat) in workers(home).items() if p == pid]
    assert len(found) <= 1, found
    return found[0] if found else None


def rows_per_worker(home: Path, status: str) -> dict[str | None, int]:
    """How many rows in ``status`` each worker id carries."""
    rows = _read(
        home, "SELECT worker_id, count(*) FROM outbox WHERE status = ? GROUP BY worker_id", status
    )
    return {row[0]: int(row[1]) for row in rows}


def worker_age(home: Path, worker_id: str) -> float:
    """Seconds since the worker's last heartbeat (infinite once it was reaped)."""
    [(beat,)] = _read(home, "SELECT heartbeat_at FROM workers WHERE id = ?", worker_id)
    if beat is None:
        return float("inf")
    at = datetime.fromisoformat(str(beat))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (datetime.now(UTC) - at).total_seconds()


def write_lock_free(home: Path, wait: float = 0.0) -> bool:
    """Whether a write transaction can begin now (a stopped process may hold the lock): on
    PostgreSQL, whether the store's advisory write lock is free and no other connection is
    inside a transaction (the hot paths hold row locks only)."""
    if on_server():
        from lettr_cli.store.server import WRITE_LOCK_KEY

        with store_connect(home) as server:
            [(free,)] = server.execute(
                "SELECT pg_try_advisory_xact_lock(?)", (WRITE_LOCK_KEY,)
            ).fetchall()
            [(open_elsewhere,)] = server.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            ).fetchall()
            return bool(free) and open_elsewhere == 0
    conn = sqlite3.connect(home / "lettr.db", timeout=wait, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


# -- lettr in a real process ---------------------------------------------------------------------
def lettr_env(home: Path, port: int, **extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if (not name.startswith("LETTR_") or name == "LETTR_DB") and name != "PYTHONPATH"
    }
    env.update(
        LETTR_HOME=str(home),
        LETTR_SMTP_PORT=str(port),
        PYTHONPATH=str(REPO),
        NO_COLOR="1",
        TERM="dumb",
    )
    env.update(extra)
    return env


@dataclass
class Lettr:
    """One lettr process, its output kept in files (a pipe nobody reads can fill up)."""

    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8")

    def wait(self, timeout: float = LIVENESS) -> int:
        return self.proc.wait(timeout=timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def end(self) -> None:
        """Make sure the process is gone (SIGKILL ends a stopped process too)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=LIVENESS)


class Processes:
    def __init__(self, folder: Path, home: Path, port: int) -> None:
        self.folder = folder
        self.home = home
        self.port = port
        self.started: list[Lettr] = []

    def start(self, *args: str, **env: str) -> Lettr:
        n = len(self.started)
        out, err = self.folder / f"lettr{n}.out", self.folder / f"lettr{n}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "lettr_cli", *args],
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                cwd=REPO,
                env=lettr_env(self.home, self.port, **env),
            )
        started = Lettr(proc, out, err)
        self.started.append(started)
        return started

    def run(self, *args: str, **env: str) -> Lettr:
        """Run to its end; the exit code is the caller's to check."""
        started = self.start(*args, **env)
        started.wait()
        return started

    def end_all(self) -> None:
        for started in self.started:
            started.end()


# -- waiting -------------------------------------------------------------------------------------
def wait_for(
    what: str, check: Callable[[], bool], *, watch: Lettr | None = None, every: float = 0.002
) -> None:
    """Poll ``check`` until it holds; fail after LIVENESS seconds, or when ``watch`` ended."""
    deadline = time.monotonic() + LIVENESS
    while not check():
        if watch is not None and not watch.alive():
            raise AssertionError(
                f"the process ended ({watch.proc.returncode}) before {what}: {watch.stderr()}"
            )
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(every)


# -- what must hold after any crash --------------------------------------------------------------
def assert_nothing_lost_or_repeated(
    home: Path, handler: Relay, *, concurrency: int
) -> tuple[set[str], set[str]]:
    """The campaign is sent; no address got two messages; every address that got none is
    in doubt; at most one row per connection is in doubt. Returns (in doubt, received)."""
    _, status, total = the_campaign(home)
    counts = status_counts(home)
    everyone = {row[0] for row in _read(home, "SELECT email FROM outbox")}
    received = handler.received()
    twice = {address: n for address, n in received.items() if n > 1}
    assert not twice, f"addresses that got two messages: {twice}"
    assert set(received) <= everyone
    in_doubt = rows_in(home, "in_doubt")
    missing = everyone - set(received)
    assert missing <= in_doubt, f"lost without being in doubt: {sorted(missing - in_doubt)}"
    assert len(in_doubt) <= concurrency, sorted(in_doubt)
    assert status == "sent", (status, dict(counts))
    assert sum(counts.values()) == total == len(everyone)
    assert counts["sent"] + counts["in_doubt"] == total, dict(counts)
    assert rows_in(home, "sent") <= set(received)
    assert_counted_once(home)
    return in_doubt, set(received)


def assert_counted_once(home: Path) -> None:
    """Each row attempted is one injection (event and counter), each delivery one delivery."""
    injected = _read(home, "SELECT count(*) FROM outbox WHERE injected_at IS NOT NULL")[0][0]
    events = dict(_read(home, "SELECT event_type, count(*) FROM events GROUP BY event_type"))
    per_row = _read(
        home,
        "SELECT outbox_id, event_type, count(*) FROM events GROUP BY outbox_id, event_type "
        "HAVING count(*) > 1",
    )
    assert per_row == [], f"rows with two events of a kind (row, kind, count): {per_row}"
    [(injections, deliveries, sent_count)] = _read(
        home, "SELECT injections, deliveries, sent_count FROM campaigns"
    )
    delivered = _read(home, "SELECT count(*) FROM outbox WHERE accepted_at IS NOT NULL")[0][0]
    assert injections == events.get("injection", 0) == injected
    assert deliveries == sent_count == events.get("delivery", 0) == delivered
