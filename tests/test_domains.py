"""`lettr domain add/list/show/records/remove`: the JSON shapes and what reaches the store."""

from __future__ import annotations

import base64
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_private_key

from lettr_cli.domains.keys import public_key_text
from lettr_cli.store.engine import Store
from lettr_cli.store.migrations import MIGRATIONS, migrate

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def relay(lettr) -> None:
    assert lettr("config", "set", "smtp.host", "192.0.2.10").exit_code == 0


def add(lettr, *args: str) -> dict[str, Any]:
    result = lettr("domain", "add", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def stored(home: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(home / "lettr.db") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM domains ORDER BY name")]


def test_add_makes_a_key_and_prints_the_domain(lettr, isolated_home: Path) -> None:
    body = add(lettr, "example.com")
    assert set(body) == {
        "id", "domain", "selector", "dkim", "spf_include", "status", "records",
        "created_at", "checked_at", "verified_at",
    }  # fmt: skip
    assert (body["domain"], body["selector"], body["dkim"], body["status"]) == (
        "example.com",
        "lettr",
        True,
        "pending",
    )
    assert body["created_at"].endswith("+00:00")
    dkim, spf, dmarc = body["records"]
    assert [(r["type"], r["dns_type"], r["name"]) for r in body["records"]] == [
        ("DKIM", "TXT", "lettr._domainkey.example.com"),
        ("SPF", "TXT", "example.com"),
        ("DMARC", "TXT", "_dmarc.example.com"),
    ]
    assert all(
        r["status"] == "missing" and "not checked yet" in r["detail"] for r in body["records"]
    )
    assert spf["value"] == "v=spf1 ip4:192.0.2.10 ~all"
    assert dmarc["value"] == "v=DMARC1; p=none"
    assert dkim["value"].startswith("v=DKIM1; k=rsa; p=")
    public = load_der_public_key(base64.b64decode(dkim["value"].split("p=")[1]))
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048

    [row] = stored(isolated_home)
    assert row["id"] == body["id"] and row["name"] == "example.com" and row["status"] == "pending"
    private = load_pem_private_key(row["private_key"].encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert public_key_text(private.public_key()) == dkim["value"].split("p=")[1]


def test_the_store_holding_keys_is_private(lettr, isolated_home: Path) -> None:
    add(lettr, "example.com")
    for path in isolated_home.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(isolated_home.stat().st_mode) == 0o700


def test_each_domain_gets_its_own_key(lettr) -> None:
    first = add(lettr, "example.com")["records"][0]["value"]
    second = add(lettr, "example.org")["records"][0]["value"]
    assert first != second


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("Example.COM.", "example.com"),
        ("  news.example.com ", "news.example.com"),
        ("Bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_domains_are_named_case_insensitively(lettr, given: str, canonical: str) -> None:
    assert add(lettr, given)["domain"] == canonical
    assert lettr("domain", "show", canonical.upper(), "--json").json()["domain"] == canonical
    again = lettr("domain", "add", canonical.upper(), "--json")
    assert again.exit_code == 1
    assert again.error()["error_code"] == "resource_already_exists"
    assert canonical in again.error()["message"]


def test_the_unicode_and_ascii_forms_are_one_domain(lettr, isolated_home: Path) -> None:
    add(lettr, "bücher.example")
    assert lettr("domain", "show", "xn--bcher-kva.example").exit_code == 0
    assert lettr("domain", "add", "BÜCHER.example").exit_code == 1
    assert len(stored(isolated_home)) == 1


@pytest.mark.parametrize(
    "bad",
    [
        "localhost",
        "192.0.2.1",
        "bad domain.com",
        "lead-.example.com",
        "a..example.com",
        "",
        "x_y.com",
    ],
)
def test_what_is_not_a_domain_is_refused(lettr, isolated_home: Path, bad: str) -> None:
    result = lettr("domain", "add", bad, "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "validation_error"
    assert "domain" in result.error()["errors"]
    assert stored(isolated_home) == []


def test_a_chosen_selector(lettr) -> None:
    body = add(lettr, "example.com", "--selector", "Mail2026")
    assert body["selector"] == "mail2026"
    assert body["records"][0]["name"] == "mail2026._domainkey.example.com"


@pytest.mark.parametrize("bad", ["bad selector", "-x", "a_b", ""])
def test_a_bad_selector_is_refused(lettr, isolated_home: Path, bad: str) -> None:
    result = lettr("domain", "add", "example.com", "--selector", bad, "--json")
    assert result.exit_code == 1
    assert result.error()["errors"].keys() == {"selector"}
    assert stored(isolated_home) == []


def test_no_dkim_means_no_key_and_no_dkim_record(lettr, isolated_home: Path) -> None:
    body = add(lettr, "example.com", "--no-dkim")
    assert body["dkim"] is False and body["selector"] is None
    assert [r["type"] for r in body["records"]] == ["SPF", "DMARC"]
    [row] = stored(isolated_home)
    assert row["private_key"] is None and row["public_key"] is None
    refused = lettr("domain", "add", "example.org", "--no-dkim", "--selector", "s1", "--json")
    assert refused.exit_code == 1 and refused.error()["errors"].keys() == {"selector"}


@pytest.mark.parametrize(
    ("args", "smtp_host", "value"),
    [
        (["--spf-include", "_SPF.example.net"], None, "v=spf1 include:_spf.example.net ~all"),
        ([], "mail.example.net", "v=spf1 a:mail.example.net ~all"),
        ([], "2001:db8::25", "v=spf1 ip6:2001:db8::25 ~all"),
        ([], "192.0.2.10", "v=spf1 ip4:192.0.2.10 ~all"),
    ],
)
def test_the_spf_mechanism(lettr, args: list[str], smtp_host: str | None, value: str) -> None:
    if smtp_host:
        lettr("config", "set", "smtp.host", smtp_host)
    else:
        lettr("config", "unset", "smtp.host")
    assert add(lettr, "example.com", *args)["records"][1]["value"] == value


def test_without_a_relay_or_an_spf_include_add_is_refused(lettr, isolated_home: Path) -> None:
    lettr("config", "unset", "smtp.host")
    result = lettr("domain", "add", "example.com", "--json")
    assert result.exit_code == 1
    assert result.error()["errors"].keys() == {"spf_include"}
    assert stored(isolated_home) == []
    bad = lettr("domain", "add", "example.com", "--spf-include", "not a host", "--json")
    assert bad.error()["errors"].keys() == {"spf_include"}


def test_records_prints_the_array(lettr) -> None:
    added = add(lettr, "example.com")
    result = lettr("domain", "records", "example.com", "--json")
    assert result.exit_code == 0
    assert result.json() == added["records"]


def test_records_in_words_keep_values_whole(lettr) -> None:
    added = add(lettr, "example.com")
    text = lettr("domain", "records", "example.com").stdout
    for record in added["records"]:
        assert f"  value:  {record['value']}\n" in text
        assert f"{record['type']} (TXT) {record['name']}\n" in text


def test_add_in_words_says_what_to_do_next(lettr) -> None:
    result = lettr("domain", "add", "example.com")
    assert result.exit_code == 0
    assert "lettr domain verify example.com" in result.stderr
    assert "DKIM (TXT) lettr._domainkey.example.com" in result.stdout


def test_list_and_show(lettr) -> None:
    add(lettr, "example.org")
    add(lettr, "example.com", "--no-dkim")
    listing = lettr("domain", "list", "--json").json()
    assert [d["domain"] for d in listing] == ["example.com", "example.org"]
    shown = lettr("domain", "show", "example.org", "--json").json()
    assert shown == listing[1]
    words = lettr("domain", "list").stdout
    assert "example.com" in words and "relay signs" in words and "selector lettr" in words
    show_words = lettr("domain", "show", "example.org").stdout
    assert show_words.splitlines()[1].split() == ["example.org", "pending", "selector", "lettr",
        "smtp.host", "never"]  # fmt: skip
    assert "DKIM (TXT) lettr._domainkey.example.org" in show_words


def test_list_limit(lettr) -> None:
    for name in ("example.com", "example.net", "example.org"):
        add(lettr, name, "--no-dkim")
    cut = lettr("domain", "list", "--limit", "2", "--json")
    assert [d["domain"] for d in cut.json()] == ["example.com", "example.net"]
    assert "2 of 3 shown" in cut.stderr
    whole = lettr("domain", "list", "--limit", "0", "--json")
    assert len(whole.json()) == 3 and whole.stderr == ""


def test_an_empty_list(lettr) -> None:
    assert lettr("domain", "list", "--json").json() == []


@pytest.mark.parametrize("command", ["show", "records", "remove"])
def test_unknown_domains_are_not_found(lettr, command: str) -> None:
    result = lettr("domain", command, "example.net", "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "not_found"
    assert "example.net" in result.error()["message"]


def test_remove_needs_confirmation_without_a_terminal(lettr, isolated_home: Path) -> None:
    added = add(lettr, "example.com")
    refused = lettr("domain", "remove", "example.com", "--json")
    assert refused.exit_code == 1
    assert refused.error()["error_code"] == "confirmation_required"
    assert len(stored(isolated_home)) == 1
    removed = lettr("domain", "remove", "EXAMPLE.com", "--yes", "--json")
    assert removed.exit_code == 0
    assert removed.json() == {"deleted": [added["id"]]}
    assert stored(isolated_home) == []
    assert lettr("domain", "show", "example.com").exit_code == 1
    assert add(lettr, "example.com")["id"] != added["id"]  # it can be added again, new key


def test_remove_in_words(lettr) -> None:
    add(lettr, "example.com")
    result = lettr("domain", "remove", "example.com", "--yes")
    assert result.exit_code == 0 and result.stdout == "Deleted sending domain: example.com\n"


def fixture_copy(name: str, tmp_path: Path) -> Path:
    db = tmp_path / name
    shutil.copyfile(FIXTURES / name, db)
    db.chmod(0o600)
    return db


def test_a_version_1_store_upgrades_and_takes_domains(lettr, tmp_path: Path) -> None:
    db = fixture_copy("store_v1.db", tmp_path)
    result = lettr("--db", str(db), "domain", "add", "example.com", "--json")
    assert result.exit_code == 0, result.stderr
    # the fixture's relay is kept and used for SPF
    assert result.json()["records"][1]["value"] == "v=spf1 a:relay.example.com ~all"
    assert lettr("--db", str(db), "config", "get", "sending.concurrency").stdout == "8\n"


def test_a_version_2_store_upgrades_keeps_its_audience_and_takes_domains(
    lettr, tmp_path: Path
) -> None:
    db = fixture_copy("store_v2.db", tmp_path)
    result = lettr("--db", str(db), "domain", "add", "example.com", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["records"][1]["value"] == "v=spf1 a:relay.example.com ~all"
    contacts = lettr("--db", str(db), "contact", "list", "--json").json()
    assert [c["email"] for c in contacts] == ["ann@example.com", "Zoë@Example.org"]
    assert contacts[0]["properties"] == {"first_name": "Ann", "age": 41, "vip": True}
    with sqlite3.connect(db) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
    assert versions == [step.version for step in MIGRATIONS]


def test_a_store_made_before_domains_were_merged_gets_them(lettr, tmp_path: Path) -> None:
    # A store created by a lettr that had later steps but not m003 (merged afterwards).
    db = tmp_path / "without.db"
    store = Store(db)
    migrate(store, [step for step in MIGRATIONS if step.name != "m003_domains"])
    store.close()
    assert add_to(lettr, db)["domain"] == "example.com"
    with sqlite3.connect(db) as conn:
        versions = {row[0] for row in conn.execute("SELECT version FROM lettr_migrations")}
    assert versions == {step.version for step in MIGRATIONS}


def add_to(lettr, db: Path) -> dict[str, Any]:
    args = ["--spf-include", "_spf.example.net", "--json"]
    result = lettr("--db", str(db), "domain", "add", "example.com", *args)
    assert result.exit_code == 0, result.stderr
    return result.json()
