"""A send killed with SIGKILL, or stopped with SIGTERM or SIGINT, loses and repeats nothing.

Real processes (`lettr campaign send`, `lettr daemon tick`) against a real SMTP server on loopback.
After a SIGKILL at any point, the next `daemon tick` takes the dead process's lease over (same
host, pid gone) and finishes: no address gets two messages, every address that got none is
``in_doubt``, and at most one row per connection is (DESIGN "Sending engine", "After a crash").
"""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.crash_helpers import (
    SMALL,
    Lettr,
    Processes,
    assert_nothing_lost_or_repeated,
    lease,
    rows_in,
    status_counts,
    stored_audience,
    the_campaign,
    wait_for,
    write_lock_free,
)
from tests.smtp_relay import ACCEPTED, Relay
from tests.store_templates import install

SEEDS = [11, 22, 33]
CONCURRENCY = 4
LARGE = 1000  # preparing takes a while
pytestmark = pytest.mark.usefixtures("each_engine")


@pytest.fixture(scope="session")
def large_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stored_audience(tmp_path_factory, LARGE)


def send(processes: Processes) -> Lettr:
    return processes.start(
        "campaign", "send", "Sale", "--yes", LETTR_SENDING_CONCURRENCY=str(CONCURRENCY)
    )


def kill(process: Lettr) -> None:
    process.signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL


def finish_with_a_tick(processes: Processes, home: Path) -> dict[str, Any]:
    """A `daemon tick` finishes what the killed process left; returns its report."""
    tick = processes.run("daemon", "tick", "--json", LETTR_SENDING_CONCURRENCY=str(CONCURRENCY))
    assert tick.proc.returncode == 0, tick.stderr()
    report = json.loads(tick.stdout())
    campaign_id = the_campaign(home)[0]
    assert [c["id"] for c in report["campaigns"]] == [campaign_id]
    assert report["skipped"] == []
    return report


def forget(home: Path, smtp_server: Relay) -> None:
    """Drop the store (with its WAL) and what the server received, to start over."""
    for name in ("lettr.db", "lettr.db-wal", "lettr.db-shm"):
        (home / name).unlink(missing_ok=True)
    smtp_server.forget()


def left_the_queue(home: Path) -> int:
    counts = status_counts(home)
    return sum(counts.values()) - counts["queued"]


# -- SIGKILL ---------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_killed_while_preparing(
    seed: int,
    large_store: Path,
    isolated_home: Path,
    smtp_server: Relay,
    lettr_processes: Processes,
) -> None:
    """Killed at a random moment while the campaign is `preparing` (before or while its
    recipients are written): nothing of the outbox is kept, and the next tick prepares it again
    and sends each recipient one message."""
    rng = random.Random(seed)
    for _ in range(3):
        install(large_store, isolated_home)
        sender = send(lettr_processes)
        wait_for(
            "the campaign is preparing",
            lambda: the_campaign(isolated_home)[1] == "preparing",
            watch=sender,
        )
        # Kill after a random delay, or (whichever comes first) at a random moment early in
        # the INSERT, once the preparing transaction is seen holding the write lock.
        begun = time.monotonic()
        delay = rng.uniform(0.0, 0.08)
        in_insert = rng.uniform(0.0, 0.005)
        locked_at: float | None = None
        while True:
            now = time.monotonic()
            if locked_at is None and not write_lock_free(isolated_home):
                locked_at = now
            if now - begun >= delay or (locked_at is not None and now - locked_at >= in_insert):
                break
            time.sleep(0.0005)
        kill(sender)
        if the_campaign(isolated_home)[1] == "preparing":
            break
        # A loaded machine let preparing end before the kill: that moment is another test's
        # (the campaign was sending); start over from the same store.
        forget(isolated_home, smtp_server)
    else:
        pytest.fail("three kills in a row came after preparing had ended")
    assert sum(status_counts(isolated_home).values()) == 0  # all or nothing
    assert not smtp_server.messages

    report = finish_with_a_tick(lettr_processes, isolated_home)
    in_doubt, received = assert_nothing_lost_or_repeated(
        isolated_home, smtp_server, concurrency=CONCURRENCY
    )
    assert in_doubt == set()
    assert len(received) == LARGE
    assert report["campaigns"][0]["sent"] == LARGE


@pytest.mark.parametrize("seed", SEEDS)
def test_killed_right_after_a_claim_commit(
    seed: int,
    small_store: Path,
    isolated_home: Path,
    smtp_server: Relay,
    lettr_processes: Processes,
) -> None:
    """Killed as soon as the first, second or third claim batch is committed: claimed rows
    go back to the queue, and only rows that were `sending` can be in doubt."""
    batch = random.Random(seed).randrange(3)
    install(small_store, isolated_home)
    sender = send(lettr_processes)
    wait_for(
        f"claim batch {batch + 1} is committed",
        lambda: (
            left_the_queue(isolated_home) > 64 * batch
            and status_counts(isolated_home)["claimed"] > 0
        ),
        watch=sender,
    )
    kill(sender)
    counts = status_counts(isolated_home)
    assert counts["claimed"] > 0
    assert counts["sending"] <= CONCURRENCY
    marked = rows_in(isolated_home, "sending")

    finish_with_a_tick(lettr_processes, isolated_home)
    in_doubt, _ = assert_nothing_lost_or_repeated(
        isolated_home, smtp_server, concurrency=CONCURRENCY
    )
    assert in_doubt == marked


@pytest.mark.parametrize("kept", [False, True], ids=["in DATA, not kept", "kept, before 250"])
@pytest.mark.parametrize("seed", SEEDS)
def test_killed_while_the_server_has_the_message(
    seed: int,
    kept: bool,
    small_store: Path,
    isolated_home: Path,
    smtp_server: Relay,
    lettr_processes: Processes,
) -> None:
    """Killed while the server holds the Nth message, before answering it: either it does not
    keep it (the transfer never completed) or it has kept it and the 250 never goes out. The
    row is `in_doubt` either way and is never sent again."""
    nth = random.Random(seed).randint(1, 40)
    hold = smtp_server.stall(
        "data", nth=nth, keep=kept, reply=ACCEPTED if kept else "451 4.3.0 not kept"
    )
    install(small_store, isolated_home)
    sender = send(lettr_processes)
    wait_for(f"the server holds message {nth}", hold.entered.is_set, watch=sender)
    kill(sender)
    hold.release.set()
    held = hold.addresses[0]
    assert held is not None
    assert held in rows_in(isolated_home, "sending")  # marked before its DATA began

    finish_with_a_tick(lettr_processes, isolated_home)
    in_doubt, received = assert_nothing_lost_or_repeated(
        isolated_home, smtp_server, concurrency=CONCURRENCY
    )
    assert held in in_doubt
    assert (held in received) is kept


# -- SIGTERM and SIGINT ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"]
)
def test_a_signal_drains_the_send_and_a_tick_finishes_it(
    signum: int,
    code: int,
    small_store: Path,
    isolated_home: Path,
    smtp_server: Relay,
    lettr_processes: Processes,
) -> None:
    """SIGTERM or SIGINT mid-send: in-flight messages finish, claimed rows go back to the
    queue, nothing is in doubt, the lease is released, and the exit code says which signal."""
    smtp_server.slow = 0.05
    install(small_store, isolated_home)
    sender = send(lettr_processes)
    wait_for("some messages arrived", lambda: len(smtp_server.messages) >= 10, watch=sender)
    assert status_counts(isolated_home)["claimed"] > 0
    sender.signal(signum)
    # In-flight messages get sending.drain_seconds (10); the bound only catches a hang.
    assert sender.wait(timeout=60) == code, sender.stderr()
    counts = status_counts(isolated_home)
    assert counts["sent"] + counts["queued"] == SMALL, dict(counts)
    assert counts["queued"] > 0  # it did stop early
    assert rows_in(isolated_home, "sent") == set(smtp_server.received())
    _, status, _ = the_campaign(isolated_home)
    assert status == "sending"
    held = lease(isolated_home)
    assert held is not None and held[0] is None  # released

    smtp_server.slow = 0.0
    finish_with_a_tick(lettr_processes, isolated_home)
    in_doubt, received = assert_nothing_lost_or_repeated(
        isolated_home, smtp_server, concurrency=CONCURRENCY
    )
    assert in_doubt == set()
    assert len(received) == SMALL
