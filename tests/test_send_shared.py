"""Several daemons share one campaign (issue 17, "Sharing a campaign"): real `lettr daemon run`
processes on one store and one SMTP server. Each is a worker that claims its own rows; a
SIGKILLed one is reaped by the others (its pid is gone on this host): its claimed rows go back
to the queue, the rows it was sending become in doubt, and the survivors finish the campaign.
At the server no address arrives twice, and every address that did not arrive is in doubt, at
most the killed daemon's ``sending.concurrency`` of them."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from tests.crash_helpers import (
    Lettr,
    Processes,
    assert_nothing_lost_or_repeated,
    rows_in,
    rows_per_worker,
    stored_audience,
    the_campaign,
    wait_for,
    workers,
)
from tests.smtp_relay import Relay
from tests.store_templates import install

RECIPIENTS = 3000  # the campaign
PAUSED_RECIPIENTS = 400
CONCURRENCY = 2
DAEMONS = 3


@pytest.fixture(scope="session")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stored_audience(tmp_path_factory, RECIPIENTS)


@pytest.fixture(scope="session")
def paused_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stored_audience(tmp_path_factory, PAUSED_RECIPIENTS)


def start_daemons(processes: Processes, count: int) -> list[Lettr]:
    env = {
        "LETTR_SENDING_CONCURRENCY": str(CONCURRENCY),
        # A stalled machine must not make a live daemon look dead; the killed one is reaped by
        # its pid, at once.
        "LETTR_LEASE_TIMEOUT": "20",
    }
    return [processes.start("daemon", "run", "--interval", "1", **env) for _ in range(count)]


def stop(daemons: list[Lettr]) -> None:
    for daemon in daemons:
        daemon.signal(signal.SIGTERM)
    for daemon in daemons:
        assert daemon.wait() == 143, daemon.stderr()


@pytest.mark.slow
def test_three_daemons_share_a_campaign_and_survive_one_killed(
    shared_store: Path, isolated_home: Path, smtp_server: Relay, lettr_processes: Processes
) -> None:
    three_daemons_and_one_killed(shared_store, isolated_home, smtp_server, lettr_processes)


@pytest.mark.slow
def test_on_postgresql_three_daemons_share_a_campaign_and_survive_one_killed(
    shared_store: Path,
    isolated_home: Path,
    smtp_server: Relay,
    lettr_processes: Processes,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same run on one PostgreSQL database (the daemons inherit LETTR_DB)."""
    monkeypatch.setenv("LETTR_DB", pg_url)
    three_daemons_and_one_killed(shared_store, isolated_home, smtp_server, lettr_processes)


def three_daemons_and_one_killed(
    shared_store: Path, isolated_home: Path, smtp_server: Relay, lettr_processes: Processes
) -> None:
    install(shared_store, isolated_home)
    detached = lettr_processes.run("campaign", "send", "Sale", "--detach", "--yes")
    assert detached.proc.returncode == 0, detached.stderr()
    smtp_server.slow = 0.02  # each message takes a while, so that the run lasts
    started = time.monotonic()
    daemons = start_daemons(lettr_processes, DAEMONS)
    pid_of: dict[str, int] = {}  # worker id → pid, as the workers table shows them

    at_once = [0]  # the most workers seen with a message in flight in one look at the store

    def several_send() -> bool:
        pid_of.update({w: pid for w, (pid, _, _, _) in workers(isolated_home).items()})
        in_flight = len([w for w in rows_per_worker(isolated_home, "sending") if w])
        at_once[0] = max(at_once[0], in_flight)
        sending = the_campaign(isolated_home)[1] == "sending"
        return sending and len([w for w in rows_per_worker(isolated_home, "sent") if w]) >= 2

    try:
        wait_for("two daemons have sent while the campaign is sending", several_send, every=0.05)
        wait_for(
            "a third of the campaign is sent",
            lambda: several_send() and len(rows_in(isolated_home, "sent")) >= RECIPIENTS // 3,
            every=0.05,
        )

        def victim() -> Lettr | None:
            pid_of.update({w: pid for w, (pid, _, _, _) in workers(isolated_home).items()})
            busy = rows_per_worker(isolated_home, "sending")
            for daemon in daemons:
                if any(pid_of.get(w) == daemon.pid for w in busy if w):
                    return daemon
            return None

        wait_for("a daemon is sending", lambda: victim() is not None, every=0.002)
        killed = victim()
        assert killed is not None
        killed.signal(signal.SIGKILL)
        assert killed.wait() == -signal.SIGKILL
        survivors = [d for d in daemons if d is not killed]
        wait_for(
            "the survivors finish the campaign",
            lambda: the_campaign(isolated_home)[1] == "sent",
            every=0.1,
        )
        elapsed = time.monotonic() - started
        stop(survivors)
    finally:
        lettr_processes.end_all()

    in_doubt, received = assert_nothing_lost_or_repeated(
        isolated_home, smtp_server, concurrency=CONCURRENCY
    )
    assert len(received) + len(in_doubt - set(received)) == RECIPIENTS
    sent = rows_per_worker(isolated_home, "sent")
    by_pid: dict[int, int] = {}
    for worker_id, count in sent.items():
        assert worker_id is not None
        by_pid[pid_of[worker_id]] = by_pid.get(pid_of[worker_id], 0) + count
    assert len(by_pid) >= 2, by_pid
    assert at_once[0] >= 2, "no two daemons were seen with a message in flight at once"
    assert any(by_pid.get(d.pid, 0) for d in survivors)
    # Only the killed daemon's rows can be in doubt.
    doubted = rows_per_worker(isolated_home, "in_doubt")
    assert all(pid_of.get(w) == killed.pid for w in doubted if w), doubted
    print(
        f"\nshared campaign: {RECIPIENTS} recipients, {DAEMONS} daemons; sent per daemon "
        f"{sorted(by_pid.values(), reverse=True)}; killed pid sent {by_pid.get(killed.pid, 0)}; "
        f"in doubt {len(in_doubt)} (of them received {len(in_doubt & received)}); "
        f"at most {at_once[0]} daemons with a message in flight at once; "
        f"{elapsed:.1f} s from the daemons' start to `sent`",
        file=sys.stderr,
    )


@pytest.mark.slow
def test_sending_paused_in_the_store_stops_every_daemon(
    paused_store: Path, isolated_home: Path, smtp_server: Relay, lettr_processes: Processes
) -> None:
    """`sending.paused` is read from the store by every daemon: both stop claiming, put back
    what they had claimed and send nothing more until it is unset; then they finish."""
    two_daemons_paused(paused_store, isolated_home, smtp_server, lettr_processes)


@pytest.mark.slow
def test_on_postgresql_sending_paused_in_the_store_stops_every_daemon(
    paused_store: Path,
    isolated_home: Path,
    smtp_server: Relay,
    lettr_processes: Processes,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LETTR_DB", pg_url)
    two_daemons_paused(paused_store, isolated_home, smtp_server, lettr_processes)


def two_daemons_paused(
    paused_store: Path, isolated_home: Path, smtp_server: Relay, lettr_processes: Processes
) -> None:
    install(paused_store, isolated_home)
    assert lettr_processes.run("campaign", "send", "Sale", "--detach", "--yes").proc.returncode == 0
    smtp_server.slow = 0.05  # long enough to pause it midway
    daemons = start_daemons(lettr_processes, 2)
    try:
        wait_for(
            "both daemons have sent",
            lambda: len([w for w in rows_per_worker(isolated_home, "sent") if w]) >= 2,
            every=0.05,
        )
        paused = lettr_processes.run("config", "set", "sending.paused", "true")
        assert paused.proc.returncode == 0, paused.stderr()
        wait_for(
            "no row is claimed or sending",
            lambda: not rows_in(isolated_home, "claimed") and not rows_in(isolated_home, "sending"),
            every=0.05,
        )
        arrived = len(smtp_server.messages)
        time.sleep(2.0)  # two passes of each daemon: still nothing is claimed or sent
        assert len(smtp_server.messages) == arrived
        assert not rows_in(isolated_home, "claimed")
        assert rows_in(isolated_home, "queued")
        assert the_campaign(isolated_home)[1] == "sending"
        resumed = lettr_processes.run("config", "unset", "sending.paused")
        assert resumed.proc.returncode == 0, resumed.stderr()
        wait_for(
            "the daemons finish the campaign",
            lambda: the_campaign(isolated_home)[1] == "sent",
            every=0.1,
        )
        stop(daemons)
    finally:
        lettr_processes.end_all()
    in_doubt, received = assert_nothing_lost_or_repeated(
        isolated_home, smtp_server, concurrency=CONCURRENCY
    )
    assert in_doubt == set() and len(received) == PAUSED_RECIPIENTS
