"""`lettr contact import` on a terminal, beside another writer, and at the limits of a CSV."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lettr_cli.audience.contacts import add_contacts
from lettr_cli.store.engine import Store
from tests.conftest import REPO
from tests.import_helpers import contacts_by_email, json_error, store_state, write_csv
from tests.test_cli import finish, read_until, spawn_on_terminal


def test_progress_on_a_terminal_is_a_live_bar(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [["email"], *([f"p{i}@example.org"] for i in range(3))])
    pid, fd = spawn_on_terminal(["contact", "import", str(path)], tmp_path)
    code, output = finish(pid, fd)
    assert code == 0
    text = output.decode()
    assert "Importing" in text and "3/3" in text  # Rich's bar, with its count
    assert "Imported" in text and "3 created" in text


@pytest.mark.parametrize(("answer", "expected_code"), [(b"y\n", 0), (b"n\n", 1)])
def test_update_mode_asks_on_a_terminal(
    lettr, isolated_home: Path, tmp_path: Path, answer: bytes, expected_code: int
) -> None:
    assert lettr("contact", "add", "ann@example.org", "--status", "bounced").exit_code == 0
    before = store_state(isolated_home / "lettr.db")
    path = write_csv(tmp_path / "in.csv", [["email", "status"], ["ann@example.org", "complained"]])
    pid, fd = spawn_on_terminal(
        ["contact", "import", str(path), "--on-duplicate", "update"], tmp_path
    )
    assert b"[y/N]" in read_until(fd, b"[y/N]")
    os.write(fd, answer)
    code, _ = finish(pid, fd)
    assert code == expected_code
    status = contacts_by_email(lettr("contact", "list", "--json").json())["ann@example.org"]
    if expected_code == 0:
        assert status["status"] == "complained"
    else:
        assert store_state(isolated_home / "lettr.db") == before


def test_other_writers_are_not_held_up_while_rows_are_checked(
    isolated_home: Path, tmp_path: Path
) -> None:
    """Rows are checked outside the write lock, and who exists is decided under it."""
    rows = [["email"], *([f"person{i}@example.org"] for i in range(60_000))]
    path = write_csv(tmp_path / "big.csv", rows)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lettr_cli", "contact", "import", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env=dict(os.environ),
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stderr.readline().startswith(b"Importing")  # checking rows has begun
    store = Store(isolated_home / "lettr.db", busy_timeout=60)
    try:
        with store.write() as session:  # the last address of the file, added meanwhile
            add_contacts(session, ["PERSON59999@example.org"])
    finally:
        store.close()
    assert proc.poll() is None, "the import finished before the other writer got in"
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert (summary["created"], summary["skipped_by_reason"]["existing"]) == (59_999, 1)
    assert len(store_state(isolated_home / "lettr.db")["contacts"]) == 60_000


def test_a_field_beyond_the_csv_limit_refuses_the_file(
    lettr, isolated_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("email,note\na@example.org,ok\nb@example.org," + "x" * 200_000 + "\n")
    result = lettr("contact", "import", str(path), "--json")
    assert result.exit_code == 1
    assert (
        "line 3: malformed CSV (field larger than field limit"
        in json_error(result.stderr)["message"]
    )
    assert store_state(isolated_home / "lettr.db")["contacts"] == []


def test_a_value_longer_than_a_property_holds_is_a_row_error(lettr, tmp_path: Path) -> None:
    assert lettr("property", "create", "note").exit_code == 0
    path = write_csv(
        tmp_path / "in.csv",
        [["email", "note"], ["a@example.org", "x" * 1001], ["b@example.org", "ok"]],
    )
    body = lettr("contact", "import", str(path), "--json").json()
    assert body["created"] == 1
    assert body["errors"][0]["line"] == 2
    assert "longer than 1000 characters" in body["errors"][0]["error"]


def test_a_file_with_only_a_header_imports_nothing(lettr, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [["Email", "First Name"]])
    body = lettr("contact", "import", str(path), "--json").json()
    assert (body["created"], body["skipped"], body["invalid"]) == (0, 0, 0)


def test_a_map_may_name_a_property_the_import_creates(lettr, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [["email", "Years"], ["a@example.org", "7"]])
    result = lettr(
        "contact", "import", str(path), "--map", "Years=age", "--create-properties", "--json"
    )
    assert result.exit_code == 0, result.stderr
    assert lettr("property", "list", "--json").json()[0] | {"id": None} == {
        "id": None,
        "name": "age",
        "type": "number",
        "fallback_value": None,
    }
    assert contacts_by_email(lettr("contact", "list", "--json").json())["a@example.org"][
        "properties"
    ] == {"age": 7}
