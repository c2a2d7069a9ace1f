"""Migrations: recorded in the store, applied once under a lock, newer stores refused."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

import lettr_cli.store.tables  # noqa: F401  (registers the table models)
from lettr_cli.store.engine import Store
from lettr_cli.store.migrations import MIGRATIONS, SCHEMA_VERSION, migrate
from tests.conftest import REPO, run_process

FIXTURES = Path(__file__).parent / "fixtures"
ALL_VERSIONS = [m.version for m in MIGRATIONS]


def copy_fixture(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copyfile(FIXTURES / name, target)
    target.chmod(0o600)
    return target


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def test_a_version_1_store_opens_with_its_configuration(lettr, tmp_path: Path) -> None:
    db = copy_fixture("store_v1.db", tmp_path)
    result = lettr("--db", str(db), "config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    stored = {item["key"]: item["value"] for item in result.json() if item["source"] == "store"}
    assert stored == {
        "smtp.host": "relay.example.com",
        "sending.concurrency": 8,
        "plan.tier": "5000",
        "sender.postal_address": "1 Example Street, Springfield",
    }
    with sqlite3.connect(db) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
    assert versions == ALL_VERSIONS


def test_table_models_match_what_the_migrations_create(tmp_path: Path) -> None:
    store = Store(tmp_path / "m.db")
    migrate(store)
    inspector = sa.inspect(store.engine)
    for table in SQLModel.metadata.sorted_tables:
        assert inspector.has_table(table.name), table.name
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        assert columns == {column.name for column in table.columns}, table.name
    store.close()


def test_a_newer_store_is_refused_and_left_alone(lettr, tmp_path: Path) -> None:
    db = copy_fixture("store_v1.db", tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO lettr_migrations VALUES (?, 'm999_future', '2030-01-01 00:00:00')",
            (SCHEMA_VERSION + 1,),
        )
    before = dump(db)
    result = lettr("--db", str(db), "config", "show", "--json")
    assert result.exit_code == 1
    body = result.error()
    assert body["error_code"] == "store_too_new"
    assert f"schema version {SCHEMA_VERSION + 1}" in body["message"]
    assert dump(db) == before


UPGRADE_WITH_EXTRA_STEP = """
import sys, time
from pathlib import Path
import sqlalchemy as sa
from lettr_cli.store.engine import Store
from lettr_cli.store.migrations import MIGRATIONS, Migration, migrate

def slow_step(op):
    op.create_table("extra", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO extra (id) VALUES (1)")
    time.sleep(0.5)  # hold the lock long enough for the other process to queue behind it

steps = (*MIGRATIONS, Migration(MIGRATIONS[-1].version + 1, "m_test_extra", slow_step))
store = Store(Path(sys.argv[1]))
print(migrate(store, steps))
"""


def test_two_processes_upgrading_one_store_apply_each_step_once(tmp_path: Path) -> None:
    db = copy_fixture("store_v1.db", tmp_path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE_WITH_EXTRA_STEP, str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == str(SCHEMA_VERSION + 1)
    with sqlite3.connect(db) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
        assert versions == [*ALL_VERSIONS, SCHEMA_VERSION + 1]
        assert conn.execute("SELECT count(*) FROM extra").fetchone()[0] == 1
        assert conn.execute("SELECT value FROM config WHERE key = 'smtp.host'").fetchone() == (
            "relay.example.com",
        )


def test_two_lettr_processes_opening_an_old_store_at_once(tmp_path: Path) -> None:
    db = copy_fixture("store_v1.db", tmp_path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "lettr_cli", "--db", str(db), "config", "get", "smtp.host"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for _ in range(3)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out == "relay.example.com\n"
    assert run_process(["--db", str(db), "init", "--json"]).returncode == 0


def test_a_version_2_store_keeps_its_audience(lettr, tmp_path: Path) -> None:
    db = copy_fixture("store_v2.db", tmp_path)
    contacts = lettr("--db", str(db), "contact", "list", "--json").json()
    assert [c["email"] for c in contacts] == ["ann@example.com", "Zoë@Example.org"]
    assert contacts[0]["properties"] == {"first_name": "Ann", "age": 41, "vip": True}
    assert [g["name"] for g in contacts[0]["lists"]] == ["Customers"]
    again = lettr("--db", str(db), "contact", "add", "GONE@example.net", "--json").json()
    assert again["status"] == "unsubscribed"  # the suppression entry survived the upgrade


def test_a_step_merged_later_with_a_lower_number_is_still_applied(tmp_path: Path) -> None:
    from lettr_cli.store.migrations import Migration

    def table_step(name: str) -> Any:
        def step(op: Any) -> None:
            op.create_table(name, sa.Column("id", sa.Integer, primary_key=True))

        return step

    later = Migration(SCHEMA_VERSION + 2, "m_later", table_step("later_step"))
    gap = Migration(SCHEMA_VERSION + 1, "m_gap", table_step("gap_step"))
    store = Store(tmp_path / "gap.db")
    assert migrate(store, (*MIGRATIONS, later)) == SCHEMA_VERSION + 2
    # A branch merged afterwards brings a step numbered below the newest one applied.
    assert migrate(store, (*MIGRATIONS, gap, later)) == SCHEMA_VERSION + 2
    assert sa.inspect(store.engine).has_table("gap_step")
    store.close()


def test_a_version_2_store_upgrades_to_segments_keeping_its_data(tmp_path: Path) -> None:
    db = copy_fixture("store_v2.db", tmp_path)
    before = _rows(db, ("contacts", "list_members", "lists", "topics", "properties"))
    store = Store(db)
    assert migrate(store) == SCHEMA_VERSION
    store.close()
    assert _rows(db, tuple(before)) == before
    with sqlite3.connect(db) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
        columns = [row[1] for row in conn.execute("PRAGMA table_info(segments)")]
    assert versions == ALL_VERSIONS
    assert columns == ["id", "name", "list_id", "conditions", "created_at", "updated_at"]


def _rows(
    db: Path, tables: tuple[str, ...], columns: dict[str, list[str]] | None = None
) -> dict[str, list[tuple[object, ...]]]:
    """Each table's rows, sorted; only ``columns`` when given (those an old store had)."""
    with sqlite3.connect(db) as conn:
        return {
            t: sorted(
                conn.execute(
                    f"SELECT {', '.join(columns[t]) if columns else '*'} FROM {t}"
                ).fetchall()
            )
            for t in tables
        }


def _columns(db: Path, tables: tuple[str, ...]) -> dict[str, list[str]]:
    with sqlite3.connect(db) as conn:
        return {t: [row[1] for row in conn.execute(f"PRAGMA table_info({t})")] for t in tables}


def test_a_version_7_store_upgrades_to_the_outbox_keeping_its_campaign(
    lettr, tmp_path: Path
) -> None:
    db = copy_fixture("store_v7.db", tmp_path)
    kept = ("contacts", "list_members", "campaigns", "properties", "config")
    columns = _columns(db, kept)
    before = _rows(db, kept, columns)
    result = lettr("--db", str(db), "campaign", "show", "Winter sale", "--json")
    assert result.exit_code == 0, result.stderr
    shown = result.json()
    assert shown["status"] == "draft"
    assert shown["outbox"] == dict.fromkeys(
        ("queued", "claimed", "sending", "sent", "failed", "bounced", "skipped", "in_doubt"), 0
    )
    assert _rows(db, kept, columns) == before
    with sqlite3.connect(db) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert versions == ALL_VERSIONS
    assert {"outbox", "leases", "events", "soft_failures"} <= tables


def test_a_version_8_store_upgrades_to_tracking_keeping_its_sent_campaign(
    lettr, tmp_path: Path
) -> None:
    db = copy_fixture("store_v8.db", tmp_path)
    kept = ("contacts", "campaigns", "events", "tracking_keys", "domains", "config")
    columns = _columns(db, kept)
    before = _rows(db, kept, columns)
    result = lettr("--db", str(db), "campaign", "show", "Spring sale", "--json")
    assert result.exit_code == 0, result.stderr
    shown = result.json()
    assert shown["status"] == "sent"
    assert shown["outbox"]["sent"] == 2
    assert (shown["stats"]["injections"], shown["stats"]["deliveries"]) == (2, 2)
    assert _rows(db, kept, columns) == before
    with sqlite3.connect(db) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
        rows = conn.execute(
            "SELECT email, status, merge_values, first_open_at, first_machine_open_at,"
            " first_click_at, unsubscribed_at FROM outbox ORDER BY id"
        ).fetchall()
    assert versions == ALL_VERSIONS
    assert rows == [
        ("ann@example.com", "sent", '{"first_name":"Ann"}', None, None, None, None),
        ("bob@example.org", "sent", "{}", None, None, None, None),
    ]


def test_a_version_10_store_backfills_link_and_unsubscribe_counters_from_its_events(
    lettr, tmp_path: Path
) -> None:
    """store_v10.db: a campaign sent to Ann and Bob, clicked and unsubscribed through the
    tracking server. The upgrade keeps per-link clicks and unsubscribes by method as counters
    (from the events still present) and the fallbacks in force, so neither the 30-day archive
    nor a later fallback change alters the report or the rebuilt messages."""
    db = copy_fixture("store_v10.db", tmp_path)
    kept = ("contacts", "campaigns", "events", "outbox", "properties", "config")
    columns = _columns(db, kept)
    before = _rows(db, kept, columns)
    expected_links = [
        {"url": "https://example.com/offer?id=1", "clicks": 3, "unique_clicks": 2},
        {"url": "https://example.org/shop", "clicks": 1, "unique_clicks": 1},
    ]
    methods = {"list_unsubscribe": 1, "link_unsubscribe": 1}
    report = lettr("--db", str(db), "campaign", "report", "Sale", "--json")
    assert report.exit_code == 0, report.stderr
    assert report.json()["top_links"] == expected_links
    assert report.json()["unsubscribes_by_method"] == methods
    assert _rows(db, kept, columns) == before
    with sqlite3.connect(db) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
        fallbacks = conn.execute("SELECT merge_fallbacks FROM campaigns").fetchall()
        conn.execute("DELETE FROM events")  # what the archive does
    assert versions == ALL_VERSIONS
    assert [json.loads(value) for (value,) in fallbacks] == [{"first_name": "there"}]
    after = lettr("--db", str(db), "campaign", "report", "Sale", "--json").json()
    assert after["top_links"] == expected_links
    assert after["unsubscribes_by_method"] == methods
    assert after["stats"] == report.json()["stats"]


def test_a_version_10_store_upgrades_to_api_keys_keeping_its_data(lettr, tmp_path: Path) -> None:
    """Step 12 adds the table of API key hashes to an existing store; nothing else changes."""
    db = copy_fixture("store_v10.db", tmp_path)
    kept = ("contacts", "campaigns", "events", "outbox", "properties", "config")
    with sqlite3.connect(db) as conn:
        before = {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone() for name in kept}
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'api_keys'").fetchall()
    made = lettr("--db", str(db), "apikey", "create", "ci", "--json")
    assert made.exit_code == 0, made.stderr
    with sqlite3.connect(db) as conn:
        after = {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone() for name in kept}
        keys = conn.execute("SELECT name, revoked_at FROM api_keys").fetchall()
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
    assert after == before
    assert keys == [("ci", None)]
    assert 12 in versions and versions == ALL_VERSIONS
