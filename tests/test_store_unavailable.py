"""A store that cannot be written (a read-only file, folder or file system, a full disk) is
``store_unavailable`` with a message saying what to do, never a traceback; nothing is
half-written, and the same work succeeds once the store is writable again.

The mechanisms are real: ``chattr +i`` (refused even to root), a tmpfs mounted read-only or
filled up, and SQLite's own page limit (``PRAGMA max_page_count``), which makes a real SQLite
answer "database or disk is full". Those that need privileges skip with the reason."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lettr_cli.errors import ERROR_CODES
from lettr_cli.store.engine import Store, StoreUnavailable
from tests.conftest import REPO, run_process
from tests.send_cases import LIVENESS, campaign_status, outbox_states, query, wait_for
from tests.sending_helpers import make_campaign

NO_TRACEBACK = "Traceback"
NO_PARTIAL = "the store is untouched and no partial backup was left"


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``chattr +i``: not even root may write the file or change the folder."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    done = _run("chattr", "+i", str(path))
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not possible here: {done.stderr.strip()}")
    try:
        yield
    finally:
        _run("chattr", "-i", str(path))


@contextlib.contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A small tmpfs mounted on ``folder`` (created if needed), unmounted at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    done = _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder))
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs needs privileges: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        _run("umount", "-l", str(folder))


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the file system holding ``folder``, then give back ``leave`` bytes."""
    filler = folder / "filler"
    # Unbuffered: a buffered file would raise ENOSPC again when it is closed.
    with open(filler, "wb", buffering=0) as out:
        chunk = b"\0" * (1 << 16)
        with contextlib.suppress(OSError):
            while True:
                out.write(chunk)
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def assert_store_unavailable(
    result: Any, *words: str, settled: str = "nothing was half-written"
) -> str:
    stderr = str(result.stderr)
    code = getattr(result, "exit_code", getattr(result, "returncode", None))
    assert code == 1, stderr
    assert NO_TRACEBACK not in stderr, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("Error [store_unavailable]: "), stderr
    for word in words:
        assert word in last, last
    assert settled in last
    return last


def test_store_unavailable_is_a_contract_code() -> None:
    assert "store_unavailable" in ERROR_CODES
    assert issubclass(StoreUnavailable, Exception)


# -- read-only ---------------------------------------------------------------------------------
def test_a_write_to_an_immutable_store_is_store_unavailable(lettr, isolated_home: Path) -> None:
    assert lettr("contact", "add", "ann@example.com").exit_code == 0
    store = isolated_home / "lettr.db"
    with immutable(store):
        refused = lettr("contact", "add", "bob@example.com")
        message = assert_store_unavailable(refused, str(store), "read-only", "permissions")
        # Reading still works.
        listed = lettr("contact", "list", "--json")
        assert listed.exit_code == 0, listed.stderr
    assert [c["email"] for c in listed.json()] == ["ann@example.com"]
    assert "the store" in message
    # Writable again: the same command works.
    assert lettr("contact", "add", "bob@example.com").exit_code == 0


def test_a_read_only_folder_is_store_unavailable(lettr, isolated_home: Path) -> None:
    assert lettr("contact", "add", "ann@example.com").exit_code == 0
    with immutable(isolated_home):
        refused = lettr("contact", "add", "bob@example.com")
    assert_store_unavailable(refused, str(isolated_home), "read-only")
    assert query(isolated_home, "SELECT email FROM contacts") == [("ann@example.com",)]


def test_a_read_only_file_system_is_store_unavailable(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", "4m") as mount:
        db = mount / "lettr.db"
        env = {"LETTR_DB": str(db)}
        assert run_process(["init"], env=env).returncode == 0
        remounted = _run("mount", "-o", "remount,ro", str(mount))
        assert remounted.returncode == 0, remounted.stderr
        refused = run_process(["contact", "add", "ann@example.com"], env=env)
        assert_store_unavailable(refused, str(db), "read-only file system")
        fresh = run_process(["init"], env={"LETTR_DB": str(mount / "sub" / "lettr.db")})
        assert fresh.returncode == 1, fresh.stderr
        assert NO_TRACEBACK not in fresh.stderr
        assert fresh.stderr.startswith("Error [store_unavailable]: "), fresh.stderr
        assert "read-only file system" in fresh.stderr.lower()


# -- a full disk --------------------------------------------------------------------------------
def _limit_pages(dbapi_connection: Any, _record: Any) -> None:
    # SQLite refuses to grow the file past this many pages: SQLITE_FULL, as on a full disk.
    pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
    dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 1}")


@contextlib.contextmanager
def no_room_to_grow() -> Iterator[None]:
    sa.event.listen(sa.engine.Engine, "connect", _limit_pages)
    try:
        yield
    finally:
        sa.event.remove(sa.engine.Engine, "connect", _limit_pages)


def test_a_full_store_rolls_back_and_says_so(tmp_path: Path) -> None:
    db = tmp_path / "full.db"
    store = Store(db)
    with store.write() as session:
        session.connection().exec_driver_sql("CREATE TABLE t (x TEXT)")
    store.close()
    with no_room_to_grow():
        store = Store(db)
        with pytest.raises(StoreUnavailable) as raised, store.write() as session:
            for _ in range(200):
                session.connection().exec_driver_sql("INSERT INTO t VALUES (?)", ("x" * 500,))
        store.close()
    assert str(db) in raised.value.message
    assert raised.value.message.startswith("no space left on the device holding the store")
    store = Store(db)
    with store.read() as session:
        assert session.connection().exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    store.close()


def test_a_send_that_fills_the_store_resumes_without_doubles(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    emails = [f"reader{n}@example.org" for n in range(300)]
    campaign_id = make_campaign(lettr, tmp_path, emails)
    with no_room_to_grow():
        refused = lettr("campaign", "send", campaign_id, "--yes")
    assert_store_unavailable(refused, "no space left", str(isolated_home / "lettr.db"))
    assert "then run `lettr daemon tick` to finish the send" in refused.stderr
    assert smtp_server.messages == []
    assert campaign_status(isolated_home, campaign_id) == "preparing"
    assert outbox_states(isolated_home, campaign_id) == {}
    ticked = lettr("daemon", "tick")
    assert ticked.exit_code == 0, ticked.stderr
    assert campaign_status(isolated_home, campaign_id) == "sent"
    delivered = Counter(rcpt for _, rcpts, _ in smtp_server.messages for rcpt in rcpts)
    assert delivered == Counter(emails)


@pytest.mark.slow
def test_a_send_on_a_full_disk_resumes_after_space_is_freed(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    with tmpfs(isolated_home, "64m"):
        verified_domain()
        assert lettr("config", "set", "plan.tier", "2000").exit_code == 0
        emails = [f"reader{n}@example.org" for n in range(2000)]
        campaign_id = make_campaign(lettr, tmp_path, emails)
        filler = fill(isolated_home, leave=192 * 1024)
        refused = run_process(["campaign", "send", campaign_id, "--yes"])
        assert_store_unavailable(refused, "no space left", str(isolated_home / "lettr.db"))
        assert "then run `lettr daemon tick` to finish the send" in refused.stderr
        filler.unlink()
        # The campaign left draft and its recipients were not written: it is found preparing
        # and prepared again.
        assert campaign_status(isolated_home, campaign_id) == "preparing"
        assert outbox_states(isolated_home, campaign_id) == {}
        ticked = run_process(["daemon", "tick"])
        assert ticked.returncode == 0, ticked.stderr
        assert campaign_status(isolated_home, campaign_id) == "sent"
    delivered = Counter(rcpt for _, rcpts, _ in smtp_server.messages for rcpt in rcpts)
    assert delivered == Counter(emails)


@pytest.mark.slow
def test_a_disk_that_fills_during_a_send_stops_it_cleanly(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    with tmpfs(isolated_home, "64m"):
        verified_domain()
        assert lettr("config", "set", "plan.tier", "2000").exit_code == 0
        emails = [f"reader{n}@example.org" for n in range(2000)]
        campaign_id = make_campaign(lettr, tmp_path, emails)
        # Room to prepare, not to record every result: the disk fills while messages go out.
        filler = fill(isolated_home, leave=1500 * 1024)
        refused = run_process(["campaign", "send", campaign_id, "--yes"], timeout=LIVENESS)
        assert_store_unavailable(refused, "no space left", "`lettr daemon tick`")
        assert campaign_status(isolated_home, campaign_id) == "sending"
        filler.unlink()
        ticked = run_process(["daemon", "tick"], timeout=LIVENESS)
        assert ticked.returncode == 0, ticked.stderr
        assert campaign_status(isolated_home, campaign_id) == "sent"
        in_doubt = {
            e
            for (e,) in query(
                isolated_home, "SELECT email FROM outbox WHERE status = ?", "in_doubt"
            )
        }
    # Messages whose results could not be written are in doubt, never sent twice or lost.
    delivered = Counter(rcpt for _, rcpts, _ in smtp_server.messages for rcpt in rcpts)
    assert delivered == Counter(emails)
    assert in_doubt <= set(delivered)


def test_a_tick_on_a_full_disk_is_store_unavailable(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    campaign_id = make_campaign(lettr, tmp_path, [f"r{n}@example.org" for n in range(300)])
    assert lettr("campaign", "send", campaign_id, "--yes", "--detach").exit_code == 0
    with no_room_to_grow():
        refused = lettr("daemon", "tick", "--json")
    assert refused.exit_code == 1, refused.stderr
    assert NO_TRACEBACK not in refused.stderr
    assert '"error_code": "store_unavailable"' in refused.stderr.strip().splitlines()[-1]
    assert lettr("daemon", "tick").exit_code == 0
    assert campaign_status(isolated_home, campaign_id) == "sent"
    assert len(smtp_server.messages) == 300


@pytest.mark.slow
def test_daemon_run_waits_out_a_full_disk(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    with tmpfs(isolated_home, "64m"):
        verified_domain()
        assert lettr("config", "set", "plan.tier", "2000").exit_code == 0
        emails = [f"reader{n}@example.org" for n in range(2000)]
        campaign_id = make_campaign(lettr, tmp_path, emails)
        assert lettr("campaign", "send", campaign_id, "--yes", "--detach").exit_code == 0
        filler = fill(isolated_home, leave=192 * 1024)
        daemon = subprocess.Popen(
            [sys.executable, "-m", "lettr_cli", "daemon", "run", "--interval", "1"],
            cwd=REPO,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        watchdog = threading.Timer(LIVENESS, daemon.kill)  # never hang on a silent daemon
        watchdog.start()
        try:
            assert daemon.stderr is not None
            seen = []
            for line in daemon.stderr:
                seen.append(line)
                if "no space left" in line:
                    break
            assert "the daemon tries again in 1s" in seen[-1], seen
            assert campaign_status(isolated_home, campaign_id) == "preparing"
            filler.unlink()
            wait_for(lambda: campaign_status(isolated_home, campaign_id) == "sent", "sent")
            daemon.send_signal(signal.SIGTERM)
            rest = daemon.communicate(timeout=LIVENESS)[1]
        finally:
            watchdog.cancel()
            daemon.kill()
        assert daemon.returncode == 143, rest
        assert NO_TRACEBACK not in "".join(seen) + rest
    delivered = Counter(rcpt for _, rcpts, _ in smtp_server.messages for rcpt in rcpts)
    assert delivered == Counter(emails)


def test_a_backup_onto_a_full_disk_leaves_nothing_behind(lettr, tmp_path: Path) -> None:
    assert lettr("contact", "add", "ann@example.com").exit_code == 0
    with tmpfs(tmp_path / "mnt", "256k") as mount:
        fill(mount)
        refused = lettr("store", "backup", str(mount / "copy.db"), "--yes")
        assert_store_unavailable(refused, "no space left", str(mount), settled=NO_PARTIAL)
        assert sorted(p.name for p in mount.iterdir()) == ["filler"]


def test_a_backup_into_a_read_only_folder_is_a_clear_error(lettr, tmp_path: Path) -> None:
    assert lettr("contact", "add", "ann@example.com").exit_code == 0
    folder = tmp_path / "backups"
    folder.mkdir()
    with immutable(folder):
        refused = lettr("store", "backup", str(folder / "copy.db"))
        wanted = f"cannot write the backup {folder / 'copy.db'}"
        assert_store_unavailable(refused, wanted, settled=NO_PARTIAL)
    assert list(folder.iterdir()) == []
