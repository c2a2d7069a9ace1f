"""Schema step 16 (per-worker leases): a version 10 store upgrades through every step; its
outbox rows carry no worker, and rows a process of the older lettr left claimed or sending are
put back by the first reaper (claimed to the queue, sending in doubt), as a crash recovery did."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lettr_cli.delivery import workers
from lettr_cli.workspace import Workspace
from tests.test_migrations import ALL_VERSIONS, copy_fixture


def test_a_version_10_store_upgrades_and_its_unowned_rows_are_recovered(tmp_path: Path) -> None:
    db = copy_fixture("store_v10.db", tmp_path)
    with sqlite3.connect(db) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM outbox ORDER BY id")]
        statuses = dict(conn.execute("SELECT id, status FROM outbox").fetchall())
        assert len(ids) >= 2
        conn.execute(
            "UPDATE outbox SET status = 'claimed', claim_token = 'old' WHERE id = ?", (ids[0],)
        )
        conn.execute(
            "UPDATE outbox SET status = 'sending', claim_token = 'old' WHERE id = ?", (ids[1],)
        )
    home = tmp_path / "home"
    home.mkdir()
    workspace = Workspace.open(db, home=home, environ={})
    try:
        with sqlite3.connect(db) as conn:
            versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
            owners = conn.execute("SELECT DISTINCT worker_id, worker_epoch FROM outbox").fetchall()
            assert conn.execute("SELECT count(*) FROM workers").fetchone() == (0,)
        assert versions == ALL_VERSIONS and 16 in versions
        assert owners == [(None, None)]
        with workspace.store.connect("IMMEDIATE") as conn, conn.begin():
            assert workers.reap(conn, 30.0) == 1
    finally:
        workspace.close()
    with sqlite3.connect(db) as conn:
        after = dict(conn.execute("SELECT id, status FROM outbox").fetchall())
    assert after[ids[0]] == "queued"
    assert after[ids[1]] == "in_doubt"
    assert {k: v for k, v in after.items() if k not in ids[:2]} == {
        k: v for k, v in statuses.items() if k not in ids[:2]
    }
