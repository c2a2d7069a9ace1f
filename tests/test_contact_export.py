"""`lettr contact export`: every column, the filters of `contact list`, guards, and round trips."""

from __future__ import annotations

import csv
import io
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from lettr_cli.audience.formulas import TRIGGERS, guard, unguard
from lettr_cli.cli.main import app
from tests.conftest import Result
from tests.import_helpers import contacts_by_email, json_error, write_csv

HEADER = ["email", "status", "born", "first_name", "meta", "score", "vip"]
TAIL = ["lists", "topics", "created_at", "updated_at"]


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def everyone(lettr) -> dict[str, dict]:
    result = lettr("contact", "list", "--limit", "0", "--json")
    assert result.exit_code == 0, result.stderr
    return contacts_by_email(result.json())


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One audience for the whole module, built through the CLI; each test gets a copy."""
    home = tmp_path_factory.mktemp("audience")

    def lettr(*args: str, input: str | None = None) -> Result:
        result = CliRunner().invoke(
            app, list(args), env={"LETTR_HOME": str(home)}, input=input, catch_exceptions=False
        )
        return Result(result.exit_code, result.stdout, result.stderr)

    for name, kind in (
        ("first_name", "string"),
        ("score", "number"),
        ("vip", "boolean"),
        ("born", "date"),
        ("meta", "json"),
    ):
        assert lettr("property", "create", name, "--type", kind).exit_code == 0
    assert lettr("list", "create", "Customers").exit_code == 0
    assert lettr("list", "create", "=Staff").exit_code == 0
    assert lettr("topic", "create", "News").exit_code == 0
    people = [
        [
            "Ann@Example.org",
            "--prop",
            "first_name=Ann",
            "--prop",
            "score=-5",
            "--list",
            "Customers",
            "--list",
            "=Staff",
            "--topic",
            "News",
        ],
        [
            "bob@example.org",
            "--prop",
            'first_name==HYPERLINK("http://x.example.com")',
            "--prop",
            "score=2.5",
            "--prop",
            "vip=yes",
            "--status",
            "unsubscribed",
        ],
        [
            "--prop",
            "first_name=+44 20 7946 0000",
            "--prop",
            "born=1990-02-03",
            "--prop",
            'meta={"tags": ["a", "b"], "n": 1}',
            "--status",
            "bounced",
            "--",
            "-carol@example.org",
        ],
        [
            "dan@example.org",
            "--prop",
            "first_name='=already quoted",
            "--prop",
            'meta="text"',
            "--prop",
            "score=+44",
            "--status",
            "complained",
        ],
        [
            "Ömer@Bücher.example.org",
            "--prop",
            "first_name=Ömer\nsecond line",
            "--prop",
            "vip=false",
            "--status",
            "unverified",
        ],
        ["eve@example.org", "--prop", "first_name=cr\rlf\r\nend ", "--prop", "born=2000-01-01"],
    ]
    for args in people:
        assert lettr("contact", "add", *args).exit_code == 0, args
    rows = [["email"], *([f"bulk{i}@example.net"] for i in range(120))]
    assert lettr("contact", "import", "-", input="\n".join(r[0] for r in rows)).exit_code == 0
    return home / "lettr.db"


@pytest.fixture
def audience(built_store: Path, isolated_home: Path) -> None:
    isolated_home.mkdir(mode=0o700)
    for suffix in ("", "-wal"):
        if Path(f"{built_store}{suffix}").exists():
            shutil.copy(f"{built_store}{suffix}", f"{isolated_home / 'lettr.db'}{suffix}")


@pytest.mark.usefixtures("audience")
def test_export_writes_every_contact_and_every_column(lettr, tmp_path: Path) -> None:
    target = tmp_path / "out" / "audience.csv"
    result = lettr("contact", "export", str(target), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"path": str(target), "contacts": 126}  # never cut by a limit
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    raw = target.read_bytes()
    assert raw.startswith(b"email,status,born,first_name,meta,score,vip,lists,topics,")
    assert b"\r\n" in raw  # RFC 4180 line ends
    rows = {row["email"]: row for row in read_csv(raw.decode("utf-8"))}
    assert list(next(iter(rows.values()))) == HEADER + TAIL
    assert len(rows) == 126
    ann = rows["Ann@Example.org"]
    assert (ann["status"], ann["first_name"], ann["score"]) == ("subscribed", "Ann", "-5")
    assert (ann["lists"], ann["topics"]) == ("'=Staff; Customers", "News")
    assert ann["created_at"].endswith("+00:00") and "T" in ann["created_at"]
    bob = rows["bob@example.org"]
    assert bob["first_name"] == '\'=HYPERLINK("http://x.example.com")'
    assert (bob["score"], bob["vip"], bob["born"], bob["meta"]) == ("2.5", "true", "", "")
    carol = rows["'-carol@example.org"]
    assert carol["first_name"] == "'+44 20 7946 0000"
    assert (carol["born"], carol["meta"]) == ("1990-02-03", '{"tags":["a","b"],"n":1}')
    dan = rows["dan@example.org"]
    assert (dan["first_name"], dan["meta"], dan["score"]) == ("''=already quoted", '"text"', "44")
    assert rows["Ömer@Bücher.example.org"]["first_name"] == "Ömer\nsecond line"
    assert rows["Ömer@Bücher.example.org"]["vip"] == "false"


@pytest.mark.usefixtures("audience")
def test_an_export_imports_back_to_the_same_contacts(lettr, tmp_path: Path) -> None:
    before = everyone(lettr)
    target = tmp_path / "audience.csv"
    assert lettr("contact", "export", str(target)).exit_code == 0
    assert lettr("contact", "delete", "--yes", "--", *before).exit_code == 0
    assert everyone(lettr) == {}
    result = lettr("contact", "import", str(target), "--json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert (body["created"], body["invalid"]) == (126, 0)
    # Opted-out contacts were deleted, so they come back with their status kept.
    assert body["skipped_by_reason"]["opt_out_kept"] == 3
    assert "not imported" in result.stderr  # lists, topics and timestamps, said once each
    after = everyone(lettr)
    assert set(after) == set(before)
    for email, contact in before.items():
        assert after[email]["status"] == contact["status"], email
        assert after[email]["properties"] == contact["properties"], email


@pytest.mark.usefixtures("audience")
def test_export_to_stdout(lettr) -> None:
    result = lettr("contact", "export", "-")
    assert result.exit_code == 0, result.stderr
    rows = read_csv(result.stdout)
    assert len(rows) == 126
    assert rows[0]["email"] == "Ann@Example.org"  # oldest first, as `contact list` shows them


@pytest.mark.parametrize(
    "filters",
    [
        ["--status", "unsubscribed"],
        ["--list", "Customers"],
        ["--topic", "News"],
        ["--search", "ömer"],
        ["--search", "bulk1", "--status", "subscribed"],
    ],
)
@pytest.mark.usefixtures("audience")
def test_export_honours_the_filters_of_contact_list(lettr, filters: list[str]) -> None:
    listed = lettr("contact", "list", "--limit", "0", "--json", *filters).json()
    exported = read_csv(lettr("contact", "export", "-", *filters).stdout)
    assert [unguard(row["email"]) for row in exported] == [c["email"] for c in listed]
    assert listed


@pytest.mark.usefixtures("audience")
def test_export_never_overwrites_a_file_without_yes(lettr, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "keep.csv"
    target.write_text("precious")
    result = lettr("contact", "export", str(target), "--json")
    assert result.exit_code == 1
    assert json_error(result.stderr)["error_code"] == "confirmation_required"
    assert target.read_text() == "precious"
    assert lettr("contact", "export", str(target), "--yes").exit_code == 0
    assert target.read_text().startswith("email,status")
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind


def test_export_with_an_unknown_list_writes_nothing(lettr, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "out.csv"
    result = lettr("contact", "export", str(target), "--list", "Nope")
    assert result.exit_code == 1
    assert result.stderr == "Error [not_found]: no list named 'Nope'\n"
    assert list(target.parent.iterdir()) == []


def test_export_in_words(lettr, tmp_path: Path) -> None:
    write_csv(tmp_path / "in.csv", [["email"], ["a@example.org"]])
    assert lettr("contact", "import", str(tmp_path / "in.csv")).exit_code == 0
    result = lettr("contact", "export", str(tmp_path / "out.csv"))
    assert result.stdout == f"Exported 1 contacts to {tmp_path / 'out.csv'}\n"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-5", "-5"),
        ("+44", "+44"),
        ("-1.5e3", "-1.5e3"),
        ("'hello", "'hello"),
        ("'=x", "''=x"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_formula_cells_are_guarded_but_plain_numbers_are_not(value: str, cell: str) -> None:
    assert guard(value) == cell
    assert unguard(cell) == value


@given(st.text())
def test_every_value_survives_guard_and_csv(value: str) -> None:
    out = io.StringIO(newline="")
    csv.writer(out).writerow([guard(value), "end"])
    ((cell, end),) = csv.reader(io.StringIO(out.getvalue(), newline=""))
    assert end == "end"
    assert unguard(cell) == value
    if cell.startswith(TRIGGERS):  # only plain numbers go unguarded
        assert re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", cell), cell


def test_export_to_a_closed_stdout_ends_quietly(lettr, tmp_path: Path) -> None:
    rows = "\n".join(["email", *(f"p{i}@example.org" for i in range(3000))])
    assert lettr("contact", "import", "-", input=rows).exit_code == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "lettr_cli", "contact", "export", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"email,status")
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert err == ""


def test_export_follows_a_segment(lettr) -> None:
    lettr("property", "create", "city")
    lettr("contact", "add", "a@example.com", "--prop", "city=Oslo")
    lettr("contact", "add", "b@example.com")
    lettr("segment", "create", "Oslo", "--where", "city equals oslo")
    out = lettr("contact", "export", "-", "--segment", "Oslo").stdout
    assert "a@example.com" in out and "b@example.com" not in out
