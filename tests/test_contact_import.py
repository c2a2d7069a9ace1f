"""`lettr contact import`: what reaches the store, the summary, and every refusal."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.import_helpers import (
    contacts_by_email,
    csv_text,
    json_error,
    store_state,
    write_csv,
)

pytestmark = pytest.mark.usefixtures("each_engine")

SAMPLE_PROPERTIES = {
    "first_name": "string",
    "last_name": "string",
    "city": "string",
    "country": "string",
    "plan": "string",
    "signup_date": "date",
    "timezone": "string",
}
NO_SKIPS = {"existing": 0, "duplicate_in_file": 0, "opt_out_kept": 0, "empty_row": 0}


def db(home: Path) -> Path:
    return home / "lettr.db"


def contacts(lettr, *filters: str) -> dict[str, dict]:
    result = lettr("contact", "list", "--limit", "0", "--json", *filters)
    assert result.exit_code == 0, result.stderr
    return contacts_by_email(result.json())


def define(lettr, properties: dict[str, str]) -> None:
    for name, kind in properties.items():
        assert lettr("property", "create", name, "--type", kind).exit_code == 0


def test_the_sample_audience_imports_cleanly(lettr, isolated_home: Path) -> None:
    define(lettr, SAMPLE_PROPERTIES)
    result = lettr("contact", "import", str(REPO / "sample_audience.csv"), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {
        "created": 320,
        "updated": 0,
        "skipped": 0,
        "invalid": 0,
        "added_to_groups": 0,
        "skipped_by_reason": NO_SKIPS,
        "errors": [],
    }
    assert "Warning" not in result.stderr
    with (REPO / "sample_audience.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    stored = contacts(lettr)
    assert len(stored) == 320
    assert Counter(c["status"] for c in stored.values()) == Counter(r["status"] for r in rows)
    for row in rows:
        contact = stored[row["email"]]
        assert contact["properties"] == {k: row[k] for k in SAMPLE_PROPERTIES}
        assert contact["status"] == row["status"]


def test_a_summary_in_words_names_the_bad_lines(lettr, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "people.csv",
        [["email"], ["ann@example.org"], ["not an address"], ["ann@example.org"]],
    )
    result = lettr("contact", "import", str(path))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Imported {path}: 1 created, 0 updated, 1 skipped, 1 invalid"
    assert "duplicate in the file 1" in lines[1]
    assert lines[2].startswith("  line 3: not an address: invalid email address:")
    assert lines[2].endswith("[invalid_email]")


def test_bad_rows_are_reported_by_line_and_the_rest_import(lettr, tmp_path: Path) -> None:
    define(lettr, {"first_name": "string", "score": "number"})
    assert lettr("contact", "add", "Ann@Example.org", "--prop", "score=1").exit_code == 0
    text = (
        "Email,First Name,Score\n"  # 1
        "ann@example.org,Annie,9\n"  # 2: exists: skipped, untouched
        "bob@example.org,Bob,3\n"  # 3: created
        "BOB@EXAMPLE.ORG,Robert,4\n"  # 4: a duplicate in the file: the first row wins
        "not an address,X,1\n"  # 5
        ",No Mail,2\n"  # 6
        'carol@example.org,"Carol\non two lines",many\n'  # 7-8: a bad number
        "dave@example.org,Dave,5\n"  # 9
        "erin@example.org,Erin,6,surplus\n"  # 10: more cells than the header
        "fay@example.org,Fay,,\n"  # 11: an empty extra cell is fine
    )
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8", newline="")
    result = lettr("contact", "import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert {k: body[k] for k in ("created", "updated", "skipped", "invalid")} == {
        "created": 3,
        "updated": 0,
        "skipped": 2,
        "invalid": 4,
    }
    assert body["skipped_by_reason"] == {
        "existing": 1,
        "duplicate_in_file": 1,
        "opt_out_kept": 0,
        "empty_row": 0,
    }
    assert [(e["line"], e["email"], e["error_code"]) for e in body["errors"]] == [
        (5, "not an address", "invalid_email"),
        (6, "", "missing_email"),
        (7, "carol@example.org", "invalid_property_value"),
        (10, "erin@example.org", "invalid_property_value"),
    ]
    assert "Score" in body["errors"][2]["error"] and "many" in body["errors"][2]["error"]
    stored = contacts(lettr)
    assert set(stored) == {
        "Ann@Example.org",
        "bob@example.org",
        "dave@example.org",
        "fay@example.org",
    }
    assert stored["bob@example.org"]["properties"] == {"first_name": "Bob", "score": 3}
    assert stored["Ann@Example.org"]["properties"] == {"score": 1}
    assert stored["fay@example.org"]["properties"] == {"first_name": "Fay"}


def _prepared_store(lettr) -> None:
    define(lettr, {"city": "string"})
    assert lettr("list", "create", "Customers").exit_code == 0
    assert lettr("contact", "add", "kept@example.org", "--list", "Customers").exit_code == 0


GOOD = "email,city\nnew@example.org,Paris\n"


@pytest.mark.parametrize(
    ("content", "args", "code", "words"),
    [
        (b"name,city\nAnn,Paris\n", [], "validation_error", "no email column"),
        (GOOD.encode(), ["--list", "Nope"], "not_found", "no list named 'Nope'"),
        (GOOD.encode(), ["--topic", "Nope"], "not_found", "no topic named 'Nope'"),
        (GOOD.encode(), ["--map", "city=town"], "not_found", "no property named 'town'"),
        (GOOD.encode(), ["--map", "Town=city"], "validation_error", "no column 'Town'"),
        (GOOD.encode(), ["--map", "city"], "validation_error", "COLUMN=FIELD"),
        (
            GOOD.encode(),
            ["--map", "city=created_at", "--create-properties"],
            "validation_error",
            "reserved",
        ),
        (
            b"email,city\nnew@example.org,Paris\nb@example.org,K\xf6ln\n",
            [],
            "validation_error",
            "line 3: byte 0xf6 is not valid UTF-8",
        ),
        (
            b'email,city\nnew@example.org,"Paris\nb@example.org,Lyon\n',
            [],
            "validation_error",
            "line 2: malformed CSV",
        ),
        (b'email,city\nnew@example.org,"Paris"x\n', [], "validation_error", "malformed CSV"),
        (GOOD.encode(), ["--encoding", "klingon"], "validation_error", "unknown encoding"),
        (b"", [], "validation_error", "no header line"),
        (b"\n \n", [], "validation_error", "no header line"),
    ],
)
def test_refusals_leave_the_store_unchanged(
    lettr,
    isolated_home: Path,
    tmp_path: Path,
    content: bytes,
    args: list[str],
    code: str,
    words: str,
) -> None:
    _prepared_store(lettr)
    before = store_state(db(isolated_home))
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    result = lettr("contact", "import", str(path), *args, "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    error = json_error(result.stderr)
    assert error["error_code"] == code
    assert words in error["message"]
    assert store_state(db(isolated_home)) == before


def test_a_file_that_cannot_be_read_is_refused(lettr, tmp_path: Path) -> None:
    result = lettr("contact", "import", str(tmp_path / "missing.csv"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error [validation_error]: cannot read")
    assert lettr("contact", "import", str(tmp_path)).exit_code == 1


def test_a_bad_on_duplicate_value_is_the_parsers(lettr, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [["email"], ["a@example.org"]])
    assert lettr("contact", "import", str(path), "--on-duplicate", "merge").exit_code == 2


def test_an_import_from_stdin(lettr) -> None:
    result = lettr("contact", "import", "-", "--json", input="email\nann@example.org\n")
    assert result.exit_code == 0, result.stderr
    assert result.json()["created"] == 1
    assert "ann@example.org" in contacts(lettr)
    assert "Importing stdin" in result.stderr


def test_progress_is_plain_lines_on_stderr_without_a_terminal(lettr, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [["email"], *([f"p{i}@example.org"] for i in range(3))])
    result = lettr("contact", "import", str(path))
    assert "Importing in.csv: 0/3 (0%)" in result.stderr
    assert "Importing in.csv: 3/3 (100%)" in result.stderr
    assert "Importing" not in result.stdout


def test_headers_are_normalised_and_columns_mapped(lettr, tmp_path: Path) -> None:
    define(lettr, {"first_name": "string", "postcode": "string"})
    path = write_csv(
        tmp_path / "in.csv",
        [
            ["E-Mail Address", "  First NAME ", "Zip Code", "Notes", "Shoe Size", "Nickname"],
            ["ann@example.org", "Ann", "01234", "hello", "38", "Annie"],
        ],
    )
    result = lettr("contact", "import", str(path), "--map", "zip_code=postcode", "--map", "Notes=-")
    assert result.exit_code == 0, result.stderr
    assert contacts(lettr)["ann@example.org"]["properties"] == {
        "first_name": "Ann",
        "postcode": "01234",
    }
    warning = next(line for line in result.stderr.splitlines() if line.startswith("Warning"))
    assert "'Shoe Size', 'Nickname' match no property and are ignored" in warning
    assert "Notes" not in result.stderr
    assert lettr("property", "list", "--json").json()[0]["name"] == "first_name"


def test_a_column_mapped_to_email_wins_over_the_email_header(lettr, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "in.csv", [["email", "Work Mail"], ["old@example.org", "new@example.org"]]
    )
    result = lettr("contact", "import", str(path), "--map", "Work Mail=email")
    assert result.exit_code == 0, result.stderr
    assert set(contacts(lettr)) == {"new@example.org"}
    assert "column 'email' is ignored" in result.stderr


def test_statuses_are_read_case_insensitively_and_unknown_ones_refused(
    lettr, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "in.csv",
        [
            ["email", "Status"],
            ["a@example.org", "Unsubscribed"],
            ["b@example.org", " BOUNCED "],
            ["c@example.org", ""],
            ["d@example.org", "gone"],
        ],
    )
    body = lettr("contact", "import", str(path), "--json").json()
    assert body["created"] == 3
    assert body["errors"] == [
        {
            "line": 5,
            "email": "d@example.org",
            "error_code": "invalid_property_value",
            "error": "status 'gone' is not one of subscribed, unsubscribed, bounced, complained, "
            "unverified",
        }
    ]
    statuses = {email: c["status"] for email, c in contacts(lettr).items()}
    assert statuses == {
        "a@example.org": "unsubscribed",
        "b@example.org": "bounced",
        "c@example.org": "subscribed",
    }


def test_create_properties_infers_each_type(lettr, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "in.csv",
        [
            ["email", "zip", "phone", "score", "vip", "joined", "flag", "mixed", "note", "blank"],
            ["a@example.org", "01234", "+44 20", "5", "yes", "2024-01-02", "0", "1", "hi", ""],
            ["b@example.org", "75001", "+1", "-2.5", "NO", "2023-12-31", "1", "x", "=1+1", ""],
            ["c@example.org", "", "", "1e3", "True", "", "", "", "", ""],
        ],
    )
    result = lettr("contact", "import", str(path), "--create-properties", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["created"] == 3
    types = {p["name"]: p["type"] for p in lettr("property", "list", "--json").json()}
    assert types == {
        "zip": "string",  # a leading 0 never makes a number
        "phone": "string",  # nor a leading +
        "score": "number",
        "vip": "boolean",
        "joined": "date",
        "flag": "number",
        "mixed": "string",
        "note": "string",
        "blank": "string",
    }
    stored = contacts(lettr)
    assert stored["a@example.org"]["properties"] == {
        "zip": "01234",
        "phone": "+44 20",
        "score": 5,
        "vip": True,
        "joined": "2024-01-02",
        "flag": 0,
        "mixed": "1",
        "note": "hi",
    }
    assert stored["c@example.org"]["properties"] == {"score": 1000, "vip": True}
    assert "Created the property score (number)" in result.stderr


def test_create_properties_reads_stdin_twice_too(lettr) -> None:
    text = csv_text([["email", "age"], ["a@example.org", "41"], ["b@example.org", "7"]])
    result = lettr("contact", "import", "-", "--create-properties", "--json", input=text)
    assert result.exit_code == 0, result.stderr
    assert contacts(lettr)["a@example.org"]["properties"] == {"age": 41}


def test_names_that_cannot_be_properties_are_ignored_with_a_warning(lettr, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [["email", "class", "2nd"], ["a@example.org", "x", "y"]])
    result = lettr("contact", "import", str(path), "--create-properties")
    assert result.exit_code == 0, result.stderr
    assert lettr("property", "list", "--json").json() == []
    assert "column 'class' is ignored: 'class' is a reserved name" in result.stderr
    assert "column '2nd' is ignored: invalid property name" in result.stderr


def test_reserved_link_names_are_not_created_from_columns(lettr, tmp_path: Path) -> None:
    rows = [["email", "Confirmation URL", "preferences_link"], ["a@example.org", "x", "y"]]
    path = write_csv(tmp_path / "in.csv", rows)
    result = lettr("contact", "import", str(path), "--create-properties")
    assert result.exit_code == 0, result.stderr
    assert lettr("property", "list", "--json").json() == []
    assert "column 'Confirmation URL' is ignored: 'confirmation_url' is a reserved" in result.stderr
    assert "column 'preferences_link' is ignored: 'preferences_link' is a reserved" in result.stderr


@pytest.mark.parametrize(
    ("encoding", "args", "delimiter", "newline"),
    [
        ("utf-8", [], ",", "\n"),
        ("utf-8-sig", [], ",", "\r\n"),  # Excel's UTF-8: a byte-order mark, CRLF
        ("utf-8-sig", ["--encoding", "UTF-8"], ";", "\r\n"),
        ("latin-1", ["--encoding", "latin-1"], ";", "\n"),
        ("cp1252", ["--encoding", "cp1252"], "\t", "\r\n"),
        ("utf-16", ["--encoding", "utf-16"], ",", "\n"),
        ("utf-8", [], "|", "\r"),  # old Mac line ends
    ],
)
def test_encodings_delimiters_and_line_ends(
    lettr, tmp_path: Path, encoding: str, args: list[str], delimiter: str, newline: str
) -> None:
    define(lettr, {"first_name": "string", "city": "string"})
    text = csv_text(
        [
            ["email", "first_name", "city"],
            ["zoe@example.org", "Zoë", "Köln; Porz"],
            ["ana@example.org", "Ana", 'São "Paulo"'],
        ],
        delimiter=delimiter,
        newline=newline,
    )
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode(encoding))
    result = lettr("contact", "import", str(path), *args, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["created"] == 2
    stored = contacts(lettr)
    assert stored["zoe@example.org"]["properties"] == {"first_name": "Zoë", "city": "Köln; Porz"}
    assert stored["ana@example.org"]["properties"] == {"first_name": "Ana", "city": 'São "Paulo"'}


def test_imports_are_never_blocked_by_the_plan_limit(lettr, tmp_path: Path) -> None:
    rows = [["email"], *([f"p{i}@example.org"] for i in range(510))]
    result = lettr("contact", "import", str(write_csv(tmp_path / "in.csv", rows)), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["created"] == 510
    assert "510 of 500 contacts allowed by plan free" in result.stderr
    assert len(contacts(lettr)) == 510


def test_the_formula_guard_of_an_export_is_taken_off(lettr, tmp_path: Path) -> None:
    define(lettr, {"note": "string"})
    path = write_csv(
        tmp_path / "in.csv",
        [
            ["email", "note"],
            ["'-dash@example.org", "'=SUM(A1)"],
            ["b@example.org", "'plain quote"],
            ["c@example.org", "''=kept one"],
        ],
    )
    assert lettr("contact", "import", str(path)).exit_code == 0
    notes = {e: c["properties"]["note"] for e, c in contacts(lettr).items()}
    assert notes == {
        "-dash@example.org": "=SUM(A1)",
        "b@example.org": "'plain quote",
        "c@example.org": "'=kept one",
    }
