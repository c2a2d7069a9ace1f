"""An import killed with SIGKILL, while it checks rows or while it writes, changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, run_process
from tests.import_helpers import checksum, store_state

ROWS = 50_000
GROUPS = ["--list", "Big", "--topic", "News"]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("email,first_name,city\n")
        for i in range(ROWS):
            out.write(f"person{i}@example.org,Person {i},City {i % 97}\n")
    return path


def prepare_store() -> None:
    for args in (
        ["property", "create", "first_name"],
        ["list", "create", "Big"],
        ["topic", "create", "News"],
        ["contact", "add", "keep@example.org", "--list", "Big", "--prop", "first_name=Keep"],
        ["contact", "add", "person7@example.org", "--status", "unsubscribed"],
    ):
        result = run_process(args)
        assert result.returncode == 0, result.stderr


def wal_size(db: Path) -> int:
    try:
        return Path(f"{db}-wal").stat().st_size
    except FileNotFoundError:
        return 0


def start_import(big_file: Path, home: Path, *options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "lettr_cli", "contact", "import", str(big_file), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "LETTR_HOME": str(home)},
    )


def largest_wal(big_file: Path, home: Path) -> int:
    """How large the WAL grows while the store in ``home`` imports ``big_file`` (no groups).

    Nothing is checkpointed while the import's one transaction is open, so in the test's import
    (with a list and a topic) the WAL grows past this size only while the memberships are
    written, after the contacts: an import that committed the contacts first would reuse its
    WAL from the start and never get there.
    """
    proc = start_import(big_file, home)
    largest = 0
    while proc.poll() is None:
        largest = max(largest, wal_size(home / "lettr.db"))
        time.sleep(0.001)
    assert proc.returncode == 0, proc.communicate()
    return largest


@pytest.mark.slow
@pytest.mark.parametrize(
    "moment", ["checking rows", "writing the contacts", "writing the memberships"]
)
def test_a_killed_import_leaves_the_store_as_it_was(
    isolated_home: Path, tmp_path: Path, big_file: Path, moment: str
) -> None:
    prepare_store()
    db = isolated_home / "lettr.db"
    before, before_sum = store_state(db), checksum(db)
    assert len(before["contacts"]) == 2
    threshold = 1 << 20  # the write transaction has begun: pages spill into the WAL
    if moment == "writing the memberships":
        calibration = tmp_path / "calibration"
        calibration.mkdir(mode=0o700)
        shutil.copy(db, calibration / "lettr.db")
        threshold = largest_wal(big_file, calibration) + (2 << 20)
    proc = start_import(big_file, isolated_home, *GROUPS)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        if moment == "checking rows":
            assert proc.stderr.readline().startswith(b"Importing")  # its first progress line
        else:
            deadline = time.monotonic() + 120
            while wal_size(db) < threshold and proc.poll() is None:
                assert time.monotonic() < deadline, "the import never got that far"
                time.sleep(0.001)
            assert proc.poll() is None, "the import ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert proc.stdout.read() == b""  # no summary: it never finished
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()
    assert store_state(db) == before
    assert checksum(db) == before_sum
    if moment == "writing the memberships":  # and the same import then runs to its end
        again = run_process(["contact", "import", str(big_file), *GROUPS, "--json"])
        assert again.returncode == 0, again.stderr
        body = json.loads(again.stdout)
        # person7 exists (unsubscribed): it joins the list, not the topic
        assert (body["created"], body["skipped"], body["added_to_groups"]) == (ROWS - 1, 0, 1)
        assert len(store_state(db)["contacts"]) == ROWS + 1
