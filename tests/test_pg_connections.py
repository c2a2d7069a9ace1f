"""Ten daemons fit PostgreSQL's default 100 connections (issue 17, "Shared limits"): ten real
`lettr daemon run` processes share one campaign on a server of their own left at its default
``max_connections`` (100, three of them reserved for superusers). The test watches
``pg_stat_activity`` while they send: the connections lettr holds never exceed ten pools
(``POOL_SIZE + POOL_OVERFLOW`` each) nor what the server lets ordinary users have; no daemon
was refused a connection; each address arrives once; and several daemons sent."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lettr_cli.store.server import POOL_OVERFLOW, POOL_SIZE
from tests.crash_helpers import (
    Lettr,
    Processes,
    assert_nothing_lost_or_repeated,
    rows_per_worker,
    stored_audience,
    the_campaign,
    wait_for,
    workers,
)
from tests.smtp_relay import Relay
from tests.store_templates import install

RECIPIENTS = 1000
DAEMONS = 10
DEFAULT_MAX_CONNECTIONS, RESERVED = 100, 3  # PostgreSQL's defaults
REFUSED = ("too many clients", "no free connection", "store_unavailable", "cannot reach")


@pytest.fixture(scope="module")
def default_server() -> Iterator[object]:
    """A PostgreSQL of this module's own at the server's default max_connections."""
    from tests.pg_server import Unavailable, start_or_why

    server = start_or_why(max_connections=None)
    if isinstance(server, Unavailable):
        pytest.skip(f"no PostgreSQL here: {server}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def default_db(default_server: object) -> Iterator[str]:
    from tests.pg_server import PgServer

    assert isinstance(default_server, PgServer)
    url = default_server.new_database()
    try:
        yield url
    finally:
        default_server.drop_database(url)


class Sampler(threading.Thread):
    """Counts lettr's connections to the server (``application_name = 'lettr'``) every 50 ms;
    its own connection goes by another name and is not counted."""

    def __init__(self, admin_url: str) -> None:
        super().__init__(name="pg-sampler", daemon=True)
        self.admin_url = admin_url
        self.peak = 0
        self.peak_all = 0  # every client's connection, the sampler's and the test's included
        self.samples = 0
        self.settings: dict[str, int] = {}
        self._done = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, application_name="test") as conn:
            for name in ("max_connections", "superuser_reserved_connections"):
                [(value,)] = conn.execute(f"SHOW {name}").fetchall()
                self.settings[name] = int(value)
            while not self._done.is_set():
                [(count, every)] = conn.execute(
                    "SELECT count(*) FILTER (WHERE application_name = 'lettr'), count(*) "
                    "FROM pg_stat_activity WHERE backend_type = 'client backend'"
                ).fetchall()
                self.peak = max(self.peak, int(count))
                self.peak_all = max(self.peak_all, int(every))
                self.samples += 1
                self._done.wait(0.05)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=30)


@pytest.fixture(scope="module")
def audience_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stored_audience(tmp_path_factory, RECIPIENTS)


@pytest.mark.slow
def test_ten_daemons_fit_the_default_max_connections(
    default_server: object,
    default_db: str,
    audience_store: Path,
    isolated_home: Path,
    smtp_server: Relay,
    lettr_processes: Processes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.pg_server import PgServer

    assert isinstance(default_server, PgServer)
    monkeypatch.setenv("LETTR_DB", default_db)
    install(audience_store, isolated_home)
    detached = lettr_processes.run("campaign", "send", "Sale", "--detach", "--yes")
    assert detached.proc.returncode == 0, detached.stderr()
    smtp_server.slow = 0.02  # each message takes a while, so that the daemons overlap
    sampler = Sampler(default_server.admin_url)
    sampler.start()
    # A stalled machine must not make a live daemon look dead.
    env = {"LETTR_LEASE_TIMEOUT": "30"}
    daemons = [
        lettr_processes.start("daemon", "run", "--interval", "1", **env) for _ in range(DAEMONS)
    ]
    pid_of: dict[str, int] = {}
    started = time.monotonic()
    try:

        def sent() -> bool:
            pid_of.update({w: pid for w, (pid, _, _, _) in workers(isolated_home).items()})
            return the_campaign(isolated_home)[1] == "sent"

        wait_for("the daemons finish the campaign", sent, every=0.25)
        elapsed = time.monotonic() - started
        stop(daemons)
    finally:
        sampler.stop()
        lettr_processes.end_all()

    assert sampler.settings == {
        "max_connections": DEFAULT_MAX_CONNECTIONS,
        "superuser_reserved_connections": RESERVED,
    }
    for daemon in daemons:
        said = daemon.stderr() + daemon.stdout()
        assert not [word for word in REFUSED if word in said], said
    log = default_server.log
    assert log is not None and "too many clients" not in log.read_text(errors="replace")
    in_doubt, received = assert_nothing_lost_or_repeated(isolated_home, smtp_server, concurrency=0)
    assert in_doubt == set() and len(received) == RECIPIENTS
    by_pid: dict[int, int] = {}
    for worker_id, count in rows_per_worker(isolated_home, "sent").items():
        assert worker_id is not None
        by_pid[pid_of[worker_id]] = by_pid.get(pid_of[worker_id], 0) + count
    assert len(by_pid) >= 2, by_pid
    assert sampler.samples > 0 and sampler.peak > 0
    assert sampler.peak <= DAEMONS * (POOL_SIZE + POOL_OVERFLOW)
    assert sampler.peak_all < DEFAULT_MAX_CONNECTIONS - RESERVED
    print(
        f"\nten daemons on max_connections={DEFAULT_MAX_CONNECTIONS}: peak {sampler.peak} lettr "
        f"connections ({sampler.peak_all} of all clients) over {sampler.samples} samples (pools "
        f"allow {DAEMONS * (POOL_SIZE + POOL_OVERFLOW)}); sent per daemon "
        f"{sorted(by_pid.values(), reverse=True)}; {elapsed:.1f} s from the daemons' start to "
        "`sent`",
        file=sys.stderr,
    )


def stop(daemons: list[Lettr]) -> None:
    """SIGTERM drains each daemon; each exits as a signalled daemon does (128 + 15)."""
    for daemon in daemons:
        daemon.signal(signal.SIGTERM)
    for daemon in daemons:
        assert daemon.wait() == 143, daemon.stderr()
