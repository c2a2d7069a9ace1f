"""Schema step 13 (issue 19): a version 11 store upgrades to the confirmation state of double
opt-in, keeping its contacts; an unverified contact it had can be listed, not re-sent a mail
it never had."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lettr_cli.store.engine import Store
from lettr_cli.store.migrations import MIGRATIONS, migrate
from tests.test_migrations import ALL_VERSIONS, _columns, _rows, copy_fixture


def test_a_version_11_store_upgrades_to_confirmations_keeping_its_contacts(
    lettr, tmp_path: Path
) -> None:
    db = copy_fixture("store_v10.db", tmp_path)
    store = Store(db)
    assert migrate(store, [step for step in MIGRATIONS if step.version <= 11]) == 11
    store.close()
    with sqlite3.connect(db) as conn:  # a contact added with --status unverified under v11
        conn.execute("UPDATE contacts SET status = 'unverified' WHERE email = 'bob@example.org'")
    kept = ("contacts", "list_members", "activity", "campaigns", "outbox", "config")
    columns = _columns(db, kept)
    before = _rows(db, kept, columns)

    listed = lettr("--db", str(db), "contact", "list", "--status", "unverified", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert [item["email"] for item in listed.json()] == ["bob@example.org"]
    assert _rows(db, kept, columns) == before
    with sqlite3.connect(db) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
        confirmations = conn.execute("SELECT * FROM confirmations").fetchall()
    assert versions == ALL_VERSIONS and 13 in versions
    assert confirmations == []
    assert _columns(db, ("confirmations",))["confirmations"] == [
        "contact_id", "template", "from_email", "from_name", "subject", "redirect_url",
        "sent_at", "created_at",
    ]  # fmt: skip
    resend = lettr("--db", str(db), "contact", "resend-confirmation", "bob@example.org", "--json")
    assert resend.exit_code == 1
    assert resend.error()["error_code"] == "validation_error"
