"""`lettr demo` and the data it ships with."""

from __future__ import annotations

import csv
from pathlib import Path

from lettr_cli.audience.contacts import ContactFilter, list_contacts
from lettr_cli.audience.properties import all_properties
from lettr_cli.demo import build_demo, sample_audience_text
from lettr_cli.store.engine import Store
from tests.conftest import REPO, run_process


def test_the_bundled_audience_is_the_sample_audience() -> None:
    assert sample_audience_text() == (REPO / "sample_audience.csv").read_text(encoding="utf-8")


def test_sample_audience_is_realistic() -> None:
    with (REPO / "sample_audience.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 300
    for column in (
        "email",
        "first_name",
        "last_name",
        "city",
        "country",
        "plan",
        "signup_date",
        "timezone",
        "status",
    ):
        assert all(row[column] for row in rows), column
    statuses = {row["status"] for row in rows}
    assert {"subscribed", "unsubscribed", "bounced"} <= statuses
    assert len({row["email"].casefold() for row in rows}) == len(rows)
    assert all(
        row["email"].split("@")[1] in {"example.com", "example.org", "example.net"} for row in rows
    )


def test_demo_runs_in_a_temporary_store_and_says_what_is_missing(
    tmp_path: Path, isolated_home: Path
) -> None:
    result = run_process(["demo"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Import: 320 created, 0 updated, 0 skipped, 0 invalid" in result.stdout
    assert "Sample audience: 320 contacts (9 bounced, 302 subscribed, 9 unsubscribed)" in (
        result.stdout
    )
    assert "signup_date (date)" in result.stderr
    assert "Not in this version of lettr yet" in result.stdout
    assert "importing" not in result.stdout.split("Not in this version")[1]
    # The user's own store is not touched, and the temporary one is gone.
    assert not (isolated_home / "lettr.db").exists()
    demo_db = Path(result.stdout.split("Demo store: ")[1].split(" ")[0])
    assert not demo_db.exists()


def test_the_demo_imports_through_the_importer_into_its_own_store(tmp_path: Path) -> None:
    outcome = build_demo(tmp_path)
    assert outcome.imported == {
        "created": 320,
        "updated": 0,
        "skipped": 0,
        "invalid": 0,
        "skipped_by_reason": {"existing": 0, "duplicate_in_file": 0, "opt_out_kept": 0},
        "errors": [],
    }
    store = Store(outcome.db)
    try:
        with store.read() as session:
            contacts, _ = list_contacts(session, ContactFilter(list_name="Sample audience"), None)
            kinds = {name: p.type for name, p in all_properties(session).items()}
    finally:
        store.close()
    assert len(contacts) == 320
    assert kinds["signup_date"] == "date" and kinds["first_name"] == "string"
    assert {c.status for c in contacts} == {"subscribed", "unsubscribed", "bounced"}
