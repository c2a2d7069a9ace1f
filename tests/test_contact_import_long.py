"""`lettr contact import` of hostile files: refusals and warnings quote at most 200 characters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_helpers import json_error, write_csv

LONG = "x" * 120_000
MOST_ECHOED = 200


def assert_short(text: str, filler: str = "x") -> None:
    assert filler * (MOST_ECHOED + 1) not in text
    assert len(text) < 4000


def import_file(lettr, tmp_path: Path, rows: list[list[str]], *args: str):
    path = write_csv(tmp_path / "in.csv", rows)
    return lettr("contact", "import", str(path), "--json", *args)


REFUSALS = [
    ([[LONG, "name"], ["a@example.org", "A"]], (), "the file has no email column"),
    ([["mail", LONG], ["a@example.org", "A"]], ("--map", "nope=email"), "has no column 'nope'"),
]


@pytest.mark.parametrize(("rows", "args", "says"), REFUSALS, ids=["no email", "map"])
def test_a_refusal_lists_the_columns_in_part(lettr, tmp_path: Path, rows, args, says) -> None:
    result = import_file(lettr, tmp_path, rows, *args)
    assert result.exit_code == 1
    error = json_error(result.stderr)
    assert error["error_code"] == "validation_error"
    assert says in error["message"]
    assert "…" in error["message"]
    assert_short(result.stderr)


WARNINGS = [
    ([["email", LONG], ["a@example.org", "A"]], (), "matches no property"),
    ([["email", LONG], ["a@example.org", "A"]], ("--create-properties",), "invalid property name"),
    ([["email", f"e-mail{'!' * 120_000}"], ["a@example.org", "A"]], (), "gives email"),
    ([["email", *(f"c{i}" for i in range(20_000))], ["a@example.org"]], (), "match no property"),
]


@pytest.mark.parametrize(("rows", "args", "says"), WARNINGS, ids=range(len(WARNINGS)))
def test_a_column_warning_quotes_headers_in_part(lettr, tmp_path: Path, rows, args, says) -> None:
    result = import_file(lettr, tmp_path, rows, *args)
    assert result.exit_code == 0, result.stderr[:500]
    assert result.json()["created"] == 1
    assert says in result.stderr
    assert_short(result.stderr)
    assert_short(result.stderr, "!")


ROW_ERRORS = [
    (["email"], [f"{LONG}@example.org"], "invalid_email"),
    (["email", "status"], ["a@example.org", LONG], "invalid_property_value"),
    (["email", "score"], ["a@example.org", "1" + "x" * 999], "invalid_property_value"),
    (["email", "data"], ["a@example.org", "[" * 999], "invalid_property_value"),
]


@pytest.mark.parametrize(("header", "row", "code"), ROW_ERRORS, ids=range(len(ROW_ERRORS)))
def test_a_row_error_quotes_the_row_in_part(lettr, tmp_path: Path, header, row, code) -> None:
    assert lettr("property", "create", "score", "--type", "number").exit_code == 0
    assert lettr("property", "create", "data", "--type", "json").exit_code == 0
    rows = [header, row, ["b@example.org", *([""] * (len(header) - 1))]]
    result = import_file(lettr, tmp_path, rows)
    assert result.exit_code == 0, result.stderr[:500]
    body = result.json()
    assert body["created"] == 1
    [error] = body["errors"]
    assert error["error_code"] == code
    assert_short(error["email"] + error["error"])
    assert_short(result.stdout, "[")
    plain = lettr("contact", "import", str(tmp_path / "in.csv"))
    assert_short(plain.stdout + plain.stderr)
