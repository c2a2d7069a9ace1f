"""`lettr demo` and the data it ships with."""

from __future__ import annotations

import csv
from pathlib import Path

from lettr_cli.demo import sample_audience_text
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
    assert "Sample audience: 320 contacts" in result.stdout
    assert "Not in this version of lettr yet" in result.stdout
    # The user's own store is not touched, and the temporary one is gone.
    assert not (isolated_home / "lettr.db").exists()
    demo_db = Path(result.stdout.split("Demo store: ")[1].split(" ")[0])
    assert not demo_db.exists()
