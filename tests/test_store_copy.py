"""`lettr store copy --to URL`: every table into an empty store of the other engine, and back;
the copy works as a store afterwards; a non-empty target is refused and left as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lettr_cli.store.engine import Store
from lettr_cli.store.location import parse_location
from tests.sending_helpers import make_campaign
from tests.smtp_relay import Relay

SECRET = "s3cret-pw"


def table_counts(location: Any) -> dict[str, int]:
    store = Store(parse_location(str(location)))
    try:
        with store.connect() as conn, conn.begin():
            names = [n for n in sa.inspect(conn).get_table_names() if n != "lettr_migrations"]
            return {
                name: conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                for name in names
            }
    finally:
        store.close()


def listings(lettr: Any, db: str) -> dict[str, Any]:
    """What the operator sees of a store (ids, times, counters and secrets' effects)."""
    out = {}
    for key, args in {
        "campaigns": ("campaign", "list", "--json"),
        "contacts": ("contact", "list", "--json"),
        "lists": ("list", "list", "--json"),
        "domains": ("domain", "list", "--json"),
        "config": ("config", "show", "--json"),
    }.items():
        result = lettr("--db", db, *args)
        assert result.exit_code == 0, result.stderr
        out[key] = result.json()
    return out


def test_sqlite_to_postgresql_and_back_copies_every_table(
    lettr, relay: Relay, tmp_path: Path, isolated_home: Path, pg_url: str
) -> None:
    source = str(isolated_home / "lettr.db")
    campaign = make_campaign(lettr, tmp_path, ["ann@example.org", "bob@example.org"])
    assert lettr("campaign", "send", campaign, "--yes").exit_code == 0
    assert lettr("config", "rotate-secret").exit_code == 0
    lettr("segment", "create", "Anns", "--where", "email contains ann")
    before = listings(lettr, source)
    counts = table_counts(source)
    assert counts["outbox"] == 2 and counts["tracking_keys"] == 2 and counts["domains"] == 1

    target = pg_url.replace("lettr_test@", f"lettr_test:{SECRET}@")
    copied = lettr("store", "copy", "--to", target, "--json")
    assert copied.exit_code == 0, copied.stderr
    body = copied.json()
    assert SECRET not in copied.stdout + copied.stderr
    assert {t["table"]: t["rows"] for t in body["tables"]} == counts
    assert body["rows"] == sum(counts.values())
    assert table_counts(pg_url) == counts
    assert listings(lettr, pg_url) == before

    # The copy is a store: DKIM keys, tracking keys and a new send (ids count on past the copy).
    on_pg = new_campaign_on(lettr, tmp_path, pg_url)
    sent = lettr("--db", pg_url, "campaign", "send", on_pg, "--yes", "--json")
    assert sent.exit_code == 0, sent.stderr
    assert sent.json()["outbox"]["sent"] == 2
    assert table_counts(pg_url)["outbox"] == 4

    back = tmp_path / "back" / "lettr.db"
    returned = lettr("--db", pg_url, "store", "copy", "--to", f"sqlite:///{back}")
    assert returned.exit_code == 0, returned.stderr
    assert "every table's count matches" in returned.stderr
    assert "outbox" in returned.stdout
    assert table_counts(back) == table_counts(pg_url)
    assert listings(lettr, str(back)) == listings(lettr, pg_url)


def new_campaign_on(lettr: Any, tmp_path: Path, db: str) -> str:
    page = tmp_path / "second.html"
    page.write_text("<html><body><p>Hi {{ first_name }}</p></body></html>", encoding="utf-8")
    created = lettr(
        "--db", db, "campaign", "create", "Second", "--subject", "Again",
        "--from-email", "news@example.com", "--html", str(page), "--json",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    assert lettr("--db", db, "campaign", "audience", "Second", "--list", "Customers").exit_code == 0
    return str(created.json()["id"])


def test_a_target_that_is_not_empty_is_refused_and_left_as_it_was(
    lettr, tmp_path: Path, pg_url: str
) -> None:
    assert lettr("contact", "add", "ann@example.org").exit_code == 0
    assert lettr("store", "copy", "--to", pg_url).exit_code == 0
    before = table_counts(pg_url)
    assert lettr("contact", "add", "bob@example.org").exit_code == 0
    refused = lettr("store", "copy", "--to", pg_url, "--json")
    assert refused.exit_code == 1
    assert refused.error()["error_code"] == "validation_error"
    assert "not empty" in refused.error()["message"]
    assert table_counts(pg_url) == before

    other = tmp_path / "other.db"
    assert lettr("--db", str(other), "contact", "add", "cy@example.org").exit_code == 0
    into_file = lettr("store", "copy", "--to", str(other))
    assert into_file.exit_code == 1 and "not empty" in into_file.stderr
    assert table_counts(other)["contacts"] == 1


def test_copying_a_store_onto_itself_is_refused(lettr, isolated_home: Path) -> None:
    assert lettr("init").exit_code == 0
    refused = lettr("store", "copy", "--to", str(isolated_home / "lettr.db"))
    assert refused.exit_code == 1
    assert "validation_error" in refused.stderr and "itself" in refused.stderr


def test_a_target_with_other_tables_is_refused(lettr, pg_url: str) -> None:
    store = Store(parse_location(pg_url))
    try:
        with store.connect("IMMEDIATE") as conn, conn.begin():
            conn.execute(sa.text("DROP TABLE lettr_migrations"))  # a database that is not lettr's
    finally:
        store.close()
    assert lettr("init").exit_code == 0
    refused = lettr("store", "copy", "--to", pg_url)
    assert refused.exit_code == 1
    assert "not empty" in refused.stderr


def test_a_malformed_target_is_refused_without_its_password(lettr) -> None:
    refused = lettr("store", "copy", "--to", f"mysql://ann:{SECRET}@db/lettr", "--json")
    assert refused.exit_code == 1
    error = refused.error()
    assert error["error_code"] == "validation_error" and "to" in error["errors"]
    assert SECRET not in refused.stderr
