"""Workers between real processes: two daemons on one campaign, and a worker that was only
stopped (CONTRACT "Sending, from the command line"; DESIGN "Fencing")."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.crash_helpers import (
    SMALL,
    Processes,
    assert_nothing_lost_or_repeated,
    rows_in,
    the_campaign,
    wait_for,
    worker_age,
    worker_of,
    write_lock_free,
)
from tests.smtp_relay import Relay
from tests.store_templates import install

CONCURRENCY = 4
LEASE_TIMEOUT = 2.0


@pytest.fixture
def lettr_processes(
    each_engine: str, lettr_processes: Processes, small_store: Path, isolated_home: Path
) -> Processes:
    """The small store installed on each engine (LETTR_DB, set by ``each_engine``, is passed
    to the processes)."""
    install(small_store, isolated_home)
    return lettr_processes


@pytest.mark.slow
@pytest.mark.parametrize("gap", [0.0, 0.1])
def test_two_daemons_on_one_campaign_send_each_message_once(
    gap: float, isolated_home: Path, smtp_server: Relay, lettr_processes: Processes
) -> None:
    """Two `daemon tick` started within 100 ms share the campaign (issue 17: they used to
    skip a campaign the other drove). One prepares it; the other is skipped only while it is
    being prepared, naming the preparing daemon; no message is sent twice."""
    detached = lettr_processes.run("campaign", "send", "Sale", "--detach", "--yes")
    assert detached.proc.returncode == 0, detached.stderr()
    campaign_id, status, _ = the_campaign(isolated_home)
    assert status == "preparing"
    smtp_server.slow = 0.05
    env = {"LETTR_SENDING_CONCURRENCY": str(CONCURRENCY)}
    first = lettr_processes.start("daemon", "tick", "--json", **env)
    time.sleep(gap)
    second = lettr_processes.start("daemon", "tick", "--json", **env)
    daemons = [first, second]
    for daemon in daemons:
        assert daemon.wait() == 0, daemon.stderr()
    reports = [json.loads(daemon.stdout()) for daemon in daemons]
    for n, report in enumerate(reports):
        other = daemons[1 - n]
        for skipped in report["skipped"]:
            assert skipped["id"] == campaign_id
            assert skipped["holder"]["pid"] == other.pid
            assert skipped["holder"]["host"] == socket.gethostname()
            assert skipped["holder"]["heartbeat_at"]
    finished = [c["status"] for report in reports for c in report["campaigns"]]
    assert "sent" in finished, reports
    in_doubt, received = assert_nothing_lost_or_repeated(
        isolated_home, smtp_server, concurrency=CONCURRENCY
    )
    assert in_doubt == set()
    assert len(received) == SMALL


@pytest.mark.slow
@pytest.mark.parametrize(
    "late_reply", [None, "451 4.3.0 try again later"], ids=["late 250", "late 451"]
)
def test_a_lease_taken_from_a_stopped_holder_is_fenced(
    late_reply: str | None,
    isolated_home: Path,
    smtp_server: Relay,
    lettr_processes: Processes,
) -> None:
    """A sends slowly and is stopped (SIGSTOP) past the lease timeout, with one message marked
    `sending` and its RCPT unanswered; daemon B reaps A's worker (its epoch moves) and finishes;
    A is continued. B never sends a row A had marked (it found them `sending`: they are
    `in_doubt`), and A, its lease gone, starts no DATA but those of the rows it had marked.
    What A then learns of them is counted once and leaves no row unfinished: a 250 makes the
    row sent, a 451 (which would ask for a retry) leaves it in doubt."""
    smtp_server.slow = 0.05
    hold = smtp_server.stall("rcpt", nth=12)
    env = {
        "LETTR_SENDING_CONCURRENCY": str(CONCURRENCY),
        "LETTR_LEASE_TIMEOUT": str(LEASE_TIMEOUT),
        "LETTR_SENDING_RETRY_BASE_SECONDS": "0",
    }
    a = lettr_processes.start("campaign", "send", "Sale", "--yes", **env)
    wait_for("the server holds a RCPT", hold.entered.is_set, watch=a)
    # Stop A where it holds no write transaction (a writer stopped inside one blocks every
    # other writer until it continues: no lease can help with that).
    for _ in range(100):
        a.signal(signal.SIGSTOP)
        wait_for("A is stopped", lambda: _state(a.pid) == "T")
        if write_lock_free(isolated_home, wait=0.05):
            break
        a.signal(signal.SIGCONT)
        time.sleep(0.01)
    else:
        pytest.fail("A was always stopped inside a write transaction")
    hold.release.set()  # the answer waits in A's socket
    held = hold.addresses[0]
    marked = rows_in(isolated_home, "sending")
    assert held in marked
    before = worker_of(isolated_home, a.pid)
    assert before is not None
    try:
        wait_for(
            "A's heartbeat is older than the timeout",
            lambda: worker_age(isolated_home, before[0]) > LEASE_TIMEOUT + 0.5,
            every=0.1,
        )
        b_started = time.monotonic()
        b = lettr_processes.run("daemon", "tick", "--json", **env)
        assert b.proc.returncode == 0, b.stderr()
        report = json.loads(b.stdout())
        assert report["skipped"] == []
        assert [c["status"] for c in report["campaigns"]] == ["sent"]
        after = worker_of(isolated_home, a.pid)
        assert after is not None and after[1] > before[1]  # A's epoch moved: it was reaped
        assert marked <= rows_in(isolated_home, "in_doubt")
        sent_by_b = {address for address, at in smtp_server.kept_at if at > b_started}
        assert not sent_by_b & marked
        assert held not in smtp_server.received()
        assert_nothing_lost_or_repeated(isolated_home, smtp_server, concurrency=CONCURRENCY)
        smtp_server.data_all = late_reply
    finally:
        seen = len(smtp_server.log)
        a.signal(signal.SIGCONT)
    assert a.wait() == 0, a.stderr()
    assert "Another process took over" in a.stderr()
    late = {address for address, _, _ in smtp_server.log[seen:]}
    assert held in late
    assert late <= marked
    in_doubt, received = assert_nothing_lost_or_repeated(
        isolated_home, smtp_server, concurrency=CONCURRENCY
    )
    if late_reply is None:
        assert held in received and held not in in_doubt
    else:
        assert held not in received and held in in_doubt


def _state(pid: int) -> str:
    """The process's state letter from /proc (T: stopped)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rpartition(")")[2].split()[0]
