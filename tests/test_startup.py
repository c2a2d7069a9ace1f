"""The everyday commands start quickly (issue 18, "Start-up"): they read through SQLAlchemy Core
and never load sqlmodel, pydantic or textual. What keeps the gain is the import record checked
here, not a timing; what keeps the output is the comparison with the full (ORM) path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import SQLModel

from lettr_cli.store import core_tables, tables

REPO = Path(__file__).resolve().parent.parent

# What a quick command must not load: the ORM layer over SQLAlchemy, and the wizard's toolkit.
SLOW = ("sqlmodel", "pydantic", "pydantic_core", "textual", "sqlalchemy.orm")

# Runs one command in a fresh interpreter, as a user would, then reports what it imported.
PROBE = """
import gc, json, sys
from lettr_cli.cli.main import main

args, slow = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["lettr", *args]
try:
    main()
except SystemExit as stop:
    code = stop.code
else:
    code = 0
loaded = sorted(name for name in sys.modules if name in slow)
collecting = gc.isenabled()
sys.stderr.write("PROBE " + json.dumps({"code": code, "loaded": loaded, "gc": collecting}) + "\\n")
"""


def _store(lettr) -> None:
    lettr("property", "create", "first_name")
    lettr("list", "create", "VIP")
    lettr("list", "create", "B")
    lettr("topic", "create", "News")
    lettr("contact", "add", "ann@example.com", "--prop", "first_name=Ánn", "--list", "VIP")
    lettr("contact", "add", "Bob@Example.org", "--topic", "News", "--list", "VIP", "--list", "B")
    lettr("contact", "add", "cy@example.net", "--status", "unsubscribed")
    lettr("contact", "add", "dee@example.net", "--prop", "first_name=Line\nbreak")
    lettr("campaign", "create", "Spring", "--subject", "Hi", "--from-email", "a@example.com")
    lettr("config", "set", "smtp.host", "smtp.example.com")


def _probe(args: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(SLOW)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=REPO,
        timeout=120,
        check=False,
    )
    line = next(line for line in done.stderr.splitlines() if line.startswith("PROBE "))
    return dict(json.loads(line.removeprefix("PROBE ")))


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["contact", "list"],
        ["contact", "list", "--json", "--limit", "0"],
        ["contact", "list", "--status", "subscribed", "--limit", "1"],
        ["config", "get", "smtp.host"],
        ["config", "get", "smtp.port", "--json"],
        ["campaign", "list"],
        ["campaign", "list", "--json", "--limit", "0"],
        ["campaign", "list", "--status", "draft"],
        ["campaign", "show", "Spring"],
        ["campaign", "show", "Spring", "--json"],
    ],
)
def test_everyday_commands_load_no_orm_and_no_pydantic(lettr, args: list[str]) -> None:
    _store(lettr)
    probe = _probe(args)
    assert probe["code"] in (0, None)
    assert probe["loaded"] == []
    # The collector is off while the tree is built; a command (which may run long) turns it on.
    assert probe["gc"] is (args[0] not in ("--version", "--help"))


def test_a_refused_value_still_gets_the_parser_s_message(lettr) -> None:
    """Values the quick conversion does not take go to typer's, with its words and exit 2."""
    _store(lettr)
    for bad in ("-1", "many"):
        result = lettr("contact", "list", "--limit", bad)
        assert result.exit_code == 2
        assert "Invalid value for '--limit'" in result.stderr


@pytest.mark.parametrize("as_json", [["--json"], []])
@pytest.mark.parametrize("limit", [["--limit", "0"], ["--limit", "2"], []])
def test_the_quick_listing_prints_what_the_full_one_does(lettr, as_json, limit) -> None:
    """`contact list` alone reads through Core; with a filter that matches every contact
    (`--search @`) it takes the ORM path: both print the same bytes, table and JSON."""
    _store(lettr)
    quick = lettr("contact", "list", *limit, *as_json)
    full = lettr("contact", "list", "--search", "@", *limit, *as_json)
    assert quick.exit_code == full.exit_code == 0
    assert quick.stdout == full.stdout
    assert quick.stderr == full.stderr
    assert "bob@example.org" in quick.stdout.casefold()


def test_a_status_filter_reads_the_same_either_way(lettr) -> None:
    _store(lettr)
    quick = lettr("contact", "list", "--status", "subscribed", "--json")
    full = lettr("contact", "list", "--status", "subscribed", "--search", "@", "--json")
    assert quick.stdout == full.stdout
    assert [c["email"] for c in quick.json()] == [
        "ann@example.com",
        "Bob@Example.org",
        "dee@example.net",
    ]


def test_a_store_too_new_is_refused_by_the_quick_path_too(lettr, isolated_home: Path) -> None:
    import sqlite3

    _store(lettr)
    with sqlite3.connect(isolated_home / "lettr.db") as db:
        db.execute("INSERT INTO lettr_migrations VALUES (999, 'from the future', '2030-01-01')")
    for args in (["contact", "list"], ["config", "get", "smtp.host"]):
        result = lettr(*args)
        assert result.exit_code == 1
        assert result.stderr.startswith("Error [store_too_new]")


def _same_type(mapped: TypeEngine[object], core: TypeEngine[object]) -> bool:
    if isinstance(mapped, type(core)):
        return True
    # sqlmodel maps `str` to its AutoString, a decorated String
    impl = getattr(mapped, "impl", None)
    return isinstance(impl, type(core)) and not isinstance(core, TypeDecorator)


def test_core_tables_match_the_models() -> None:
    """Each Core column is the model's column: same name, type, nullability and primary key."""
    assert tables.ConfigEntry  # the models are loaded, so SQLModel.metadata holds every table
    for name, core in core_tables.metadata.tables.items():
        model = SQLModel.metadata.tables[name]
        for column in core.columns:
            mapped = model.columns[column.name]
            assert _same_type(mapped.type, column.type), (name, column.name, mapped.type)
            assert mapped.nullable == column.nullable, (name, column.name)
            assert mapped.primary_key == column.primary_key, (name, column.name)


@pytest.mark.parametrize("driver", ["psycopg", "psycopg2", "pysqlite"])
def test_json_documents_compile_as_with_jsonb_itself(driver: str) -> None:
    """JSON_TYPE names JSONB without importing the PostgreSQL dialect; every statement compiles
    as with ``JSON().with_variant(JSONB(), "postgresql")``: DDL, binds and JSON paths."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.dialects.postgresql import JSONB
    from sqlalchemy.schema import CreateTable

    from lettr_cli.store.types import JSON_TYPE

    dialect = sqlite.dialect() if driver == "pysqlite" else getattr(postgresql, driver).dialect()

    def compiled(kind: TypeEngine[object]) -> list[str]:
        table = sa.Table("t", sa.MetaData(), sa.Column("doc", kind, nullable=False))
        doc = table.c.doc
        statements = [
            CreateTable(table),
            sa.insert(table).values(doc={"a": 1}),
            sa.update(table).values(doc={"a": 2}).where(doc["a"].as_string() == "x"),
            sa.select(doc["a"].as_integer(), doc["b"]).where(doc["c"].as_boolean()),
        ]
        return [str(statement.compile(dialect=dialect)) for statement in statements]

    assert compiled(JSON_TYPE) == compiled(sa.JSON().with_variant(JSONB(), "postgresql"))
    if driver != "pysqlite":
        assert type(JSON_TYPE.dialect_impl(dialect).impl_instance) is type(
            JSONB().dialect_impl(dialect)
        )


@pytest.mark.parametrize(
    "host",
    ["smtp.example.com", "a..b", "-a.com", "a-.com", "x" * 63 + ".com", "x" * 64 + ".com", "",
     ".", "ok-1.Example.", "a_b.com", "192.0.2.1", "::1", "localhost"],
)  # fmt: skip
def test_an_ascii_host_name_is_checked_as_with_the_idna_codec(host: str) -> None:
    """Settings skip the IDNA codec for ASCII host names (its import costs every command that
    reads smtp.host): they accept and refuse exactly what the codec and the label check do."""
    import ipaddress
    import re

    from lettr_cli.settings import KEYS
    from lettr_cli.settings.values import Invalid

    def with_codec(raw: str) -> bool:
        name = raw.strip().rstrip(".").lower()
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            pass
        try:
            ascii_name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return False
        label = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
        return len(ascii_name) <= 253 and all(label.match(p) for p in ascii_name.split("."))

    try:
        KEYS["smtp.host"].parse(host)
        accepted = True
    except Invalid:
        accepted = False
    assert accepted == with_codec(host)
