"""`lettr doctor`: the store, the configuration, the relay, each domain's records, tracking."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from lettr_cli.domains.responder import DnsResponder
from lettr_cli.store.migrations import SCHEMA_VERSION
from tests.conftest import run_process
from tests.smtp_relay import Relay, free_port

NOT_CHECKED = "not checked: the configuration is kept in the store, which cannot be read"
LOCKED_OUT = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def doctor(lettr: Any, *args: str, env: dict[str, str] | None = None) -> Any:
    return lettr("doctor", "--json", *args, env=env)


def checks(result: Any) -> dict[str, tuple[bool, str]]:
    body = result.json()
    assert isinstance(body, list)
    for item in body:
        assert set(item) == {"check", "ok", "detail"}
        assert isinstance(item["ok"], bool) and isinstance(item["detail"], str)
    return {item["check"]: (item["ok"], item["detail"]) for item in body}


def dump(db: Path) -> list[str]:
    """Every table's rows, as SQL: equal dumps mean nothing in the store changed."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def publish_printed(lettr: Any, responder: DnsResponder, domain: str) -> dict[str, Any]:
    printed = lettr("domain", "records", domain, "--json").json()
    for record in printed:
        responder.publish(record["name"], record["value"])
    return {record["type"]: record for record in printed}


def use_relay(lettr: Any, server: Relay, security: str = "none") -> None:
    for key, value in (
        ("smtp.host", server.host),
        ("smtp.port", str(server.port)),
        ("smtp.security", security),
    ):
        assert lettr("config", "set", key, value).exit_code == 0


# -- all well ------------------------------------------------------------------------------------
def test_a_healthy_installation_passes_every_check_and_changes_nothing(
    lettr, smtp_server, verified_domain, responder, isolated_home
) -> None:
    verified_domain()
    publish_printed(lettr, responder, "example.com")
    lettr("config", "set", "tracking.base_url", "https://track.example.com")
    db = isolated_home / "lettr.db"
    before = dump(db)

    result = doctor(lettr, "--nameserver", responder.nameserver)

    assert result.exit_code == 0, result.stdout
    assert result.stderr == ""
    assert checks(result) == {
        "store": (True, f"{db}, schema version {SCHEMA_VERSION}, quick_check ok"),
        "config": (True, "every value fits its key (4 stored, 0 from the environment)"),
        "relay": (True, f"127.0.0.1:{smtp_server.port} none, no AUTH (smtp.username is not set)"),
        "domain example.com": (True, "DKIM, SPF, DMARC valid; verified"),
        "tracking": (True, "https://track.example.com"),
    }
    assert smtp_server.messages == []
    assert dump(db) == before


def test_plain_output_is_one_line_per_check_on_stdout(
    lettr, smtp_server, verified_domain, responder
) -> None:
    verified_domain()
    publish_printed(lettr, responder, "example.com")
    result = lettr("doctor", "--nameserver", responder.nameserver)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line[:16] for line in lines] == [
        "ok    store     ",
        "ok    config    ",
        "ok    relay     ",
        "ok    domain exa",
        "ok    tracking  ",
    ]
    assert lines[2] == f"ok    relay     127.0.0.1:{smtp_server.port} none, no AUTH " + (
        "(smtp.username is not set)"
    )
    assert lines[3] == "ok    domain example.com DKIM, SPF, DMARC valid; verified"
    assert lines[4].startswith("ok    tracking  http://127.0.0.1:8025 (loopback:")
    assert result.stderr == ""


def test_a_new_store_says_what_is_missing(lettr) -> None:
    result = lettr("doctor")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[2:4] == [
        "FAIL  relay     no relay configured: lettr config set smtp.host HOST",
        "FAIL  domains   no sending domains yet: lettr domain add DOMAIN "
        "(nothing can be sent without one)",
    ]
    assert result.stderr == "2 of 5 checks failed: relay, domains\n"
    body = checks(doctor(lettr))
    assert body["relay"] == (False, "no relay configured: lettr config set smtp.host HOST")
    assert body["domains"][0] is False
    assert body["store"][0] and body["config"][0] and body["tracking"][0]


# -- the relay -----------------------------------------------------------------------------------
@LOCKED_OUT
def test_relay_auth_accepted_and_refused(lettr, auth_server) -> None:
    use_relay(lettr, auth_server)
    lettr("config", "set", "smtp.username", "apikey")
    where = f"127.0.0.1:{auth_server.port} none, AUTH as apikey"

    right = checks(doctor(lettr, env={"LETTR_SMTP_PASSWORD": "s3cret"}))
    assert right["relay"] == (True, where)

    wrong = doctor(lettr, env={"LETTR_SMTP_PASSWORD": "nope"})
    assert wrong.exit_code == 1
    ok, detail = checks(wrong)["relay"]
    assert not ok
    assert detail.startswith(f"{where}: 127.0.0.1:{auth_server.port} refused AUTH: 535")
    assert "nope" not in wrong.stdout + wrong.stderr

    unset = checks(doctor(lettr))["relay"]
    assert unset[0] is False
    assert unset[1].startswith(f"{where} (LETTR_SMTP_PASSWORD is not set): ")
    assert "refused AUTH" in unset[1]
    assert auth_server.messages == []


def test_a_relay_that_is_down(lettr) -> None:
    port = free_port()
    lettr("config", "set", "smtp.host", "127.0.0.1")
    lettr("config", "set", "smtp.port", str(port))
    result = doctor(lettr)
    assert result.exit_code == 1
    ok, detail = checks(result)["relay"]
    assert not ok
    assert detail.startswith(
        f"127.0.0.1:{port} starttls, no AUTH (smtp.username is not set): "
        f"cannot connect to 127.0.0.1:{port} (starttls)"
    )


def test_starttls_is_required_when_configured(lettr, smtp_server) -> None:
    use_relay(lettr, smtp_server, security="starttls")
    ok, detail = checks(doctor(lettr))["relay"]
    assert not ok
    assert "starttls" in detail and "STARTTLS" in detail  # never a silent fallback
    use_relay(lettr, smtp_server, security="none")
    assert checks(doctor(lettr))["relay"][0] is True


def test_a_bad_smtp_value_in_the_environment_is_not_tried(lettr, smtp_server) -> None:
    use_relay(lettr, smtp_server)
    result = doctor(lettr, env={"LETTR_SMTP_PORT": "lots"})
    body = checks(result)
    assert body["relay"] == (
        False,
        "not tried: environment variable LETTR_SMTP_PORT for smtp.port: "
        "'lots' is not a whole number",
    )
    assert body["config"][0] is False and "LETTR_SMTP_PORT" in body["config"][1]
    assert body["store"][0] and body["tracking"][0]


# -- sending domains -----------------------------------------------------------------------------
def test_wrong_and_missing_records_are_named_and_nothing_is_recorded(
    lettr, smtp_server, verified_domain, responder, isolated_home
) -> None:
    verified_domain()  # verified through the fixture's own DNS, which has stopped
    printed = publish_printed(lettr, responder, "example.com")
    responder.replace("example.com", "v=spf1 include:_spf.example.net ~all")
    assert lettr("domain", "add", "example.org").exit_code == 0  # nothing published for it
    db = isolated_home / "lettr.db"
    before = dump(db)

    result = doctor(lettr, "--nameserver", responder.nameserver)

    assert result.exit_code == 1
    body = checks(result)
    ok, detail = body["domain example.com"]
    assert not ok
    assert detail.startswith(
        "SPF example.com: invalid (the SPF record does not contain ip4:127.0.0.1 "
    )
    assert detail.endswith(" (still verified in the store until lettr domain verify example.com)")
    assert "DKIM" not in detail and "DMARC" not in detail
    ok, detail = body["domain example.org"]
    assert not ok
    assert "DKIM lettr._domainkey.example.org: missing" in detail
    assert "SPF example.org: missing" in detail
    assert "DMARC _dmarc.example.org: missing (no DMARC record" in detail
    assert printed["DKIM"]["name"] not in detail
    assert body["relay"][0] and body["store"][0]
    assert dump(db) == before
    assert lettr("domain", "show", "example.com", "--json").json()["status"] == "verified"
    assert lettr("domain", "show", "example.org", "--json").json()["status"] == "pending"


def test_right_records_on_a_domain_not_yet_verified(lettr, responder) -> None:
    lettr("config", "set", "smtp.host", "192.0.2.10")
    assert lettr("domain", "add", "example.org").exit_code == 0
    publish_printed(lettr, responder, "example.org")
    ok, detail = checks(doctor(lettr, "--nameserver", responder.nameserver))["domain example.org"]
    assert not ok
    assert detail == (
        "DKIM, SPF, DMARC valid in DNS, but the domain is pending in the store and campaigns "
        "from it are refused: lettr domain verify example.org"
    )
    assert lettr("domain", "show", "example.org", "--json").json()["status"] == "pending"


def test_a_nameserver_that_does_not_answer_is_waited_for_once(lettr) -> None:
    lettr("config", "set", "smtp.host", "192.0.2.10")
    lettr("domain", "add", "example.com")
    lettr("domain", "add", "example.org")
    down = f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}"
    result = doctor(lettr, "--nameserver", down, "--timeout", "0.3")
    assert result.exit_code == 1
    body = checks(result)
    assert body["domain example.com"][0] is False
    assert "did not answer within 0.3 s" in body["domain example.com"][1]
    assert body["domain example.org"] == (
        False,
        "not checked: DNS could not be asked for example.com",
    )
    assert lettr("domain", "show", "example.com", "--json").json()["status"] == "pending"


def test_a_malformed_nameserver_is_refused_before_any_check(lettr) -> None:
    result = doctor(lettr, "--nameserver", "127.0.0.1:99999")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.error()["error_code"] == "validation_error"


# -- tracking ------------------------------------------------------------------------------------
def test_http_tracking_url_on_a_public_host_fails(lettr) -> None:
    refused = lettr("config", "set", "tracking.base_url", "http://track.example.com")
    assert refused.exit_code == 1  # so it can only come from the environment
    env = {"LETTR_TRACKING_BASE_URL": "http://track.example.com"}
    assert lettr("config", "show", env=env).exit_code == 1  # other commands refuse to run

    result = doctor(lettr, env=env)

    assert result.exit_code == 1
    body = checks(result)
    ok, detail = body["tracking"]
    assert not ok
    assert detail == (
        "http://track.example.com: environment variable LETTR_TRACKING_BASE_URL for "
        "tracking.base_url: http is allowed only for loopback hosts; use https"
    )
    assert body["config"] == (
        False,
        "environment variable LETTR_TRACKING_BASE_URL for tracking.base_url: http is allowed "
        "only for loopback hosts; use https (every other command refuses to run with it)",
    )
    assert body["store"][0] is True  # the other checks are still made


@pytest.mark.parametrize(
    ("url", "ok", "detail"),
    [
        ("https://track.example.com/t", True, "https://track.example.com/t"),
        ("http://localhost:8025", True, "http://localhost:8025 (loopback:"),
        ("http://[::1]:8025", True, "http://[::1]:8025 (loopback:"),
    ],
)
def test_tracking_urls_that_pass(lettr, url: str, ok: bool, detail: str) -> None:
    found = checks(doctor(lettr, env={"LETTR_TRACKING_BASE_URL": url}))["tracking"]
    assert found[0] is ok
    assert found[1].startswith(detail)


# -- the store -----------------------------------------------------------------------------------
def store_copy(lettr: Any, tmp_path: Path) -> Path:
    """A self-contained copy of a store with a few contacts (``lettr store backup``)."""
    added = lettr("contact", "add", *(f"user{n}@example.com" for n in range(20)))
    assert added.exit_code == 0, added.stderr
    copy = tmp_path / "copy.db"
    assert lettr("store", "backup", str(copy)).exit_code == 0
    return copy


def page_of(db: Path, table: str) -> tuple[int, int]:
    """The root page number of ``table`` and the page size."""
    conn = sqlite3.connect(db)
    try:
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    finally:
        conn.close()
    return int(root), int(size)


def scribble(db: Path, page: int, page_size: int, offset: int, data: bytes) -> None:
    with db.open("r+b") as file:
        file.seek((page - 1) * page_size + offset)
        file.write(data)


def test_a_damaged_page_is_reported_in_sqlites_words(lettr, tmp_path) -> None:
    copy = store_copy(lettr, tmp_path)
    root, size = page_of(copy, "contacts")
    scribble(copy, root, size, 8, b"\xa5\xa5\xa5\xa5")  # the first cell pointers: out of range

    result = doctor(lettr, env={"LETTR_DB": str(copy)})

    assert result.exit_code == 1
    body = checks(result)
    ok, detail = body["store"]
    assert not ok
    assert detail.startswith(f"{copy}, schema version {SCHEMA_VERSION}: quick_check found: ")
    assert f"On tree page {root} cell" in detail
    assert body["config"][0] is True  # the rest of the store can still be read
    assert list(body) == ["store", "config", "relay", "domains", "tracking"]


def _break_header(db: Path) -> None:
    _, size = page_of(db, "contacts")
    scribble(db, 1, size, 100, b"\xa5" * 2000)  # the schema's own page, after the file header


def _break_migrations(db: Path) -> None:
    root, size = page_of(db, "lettr_migrations")
    scribble(db, root, size, 0, b"\xa5" * 2000)


def _not_a_database(db: Path) -> None:
    db.write_bytes(b"these are not the pages you are looking for\n" * 200)


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (_break_header, "database disk image is malformed"),
        (_break_migrations, "database disk image is malformed"),
        (_not_a_database, "file is not a database"),
    ],
    ids=["schema-page", "migrations-page", "not-a-database"],
)
def test_a_store_that_cannot_be_opened_still_gets_a_report(
    lettr, tmp_path, damage: Any, words: str
) -> None:
    copy = store_copy(lettr, tmp_path)
    damage(copy)
    result = lettr("--db", str(copy), "doctor", "--json")
    assert result.exit_code == 1
    body = checks(result)
    assert body["store"][0] is False
    assert body["store"][1].startswith(f"cannot open the store {copy}: ")
    assert words in body["store"][1]
    assert "SELECT" not in body["store"][1]  # SQLite's words, not SQLAlchemy's
    assert {name: item for name, item in body.items() if name != "store"} == dict.fromkeys(
        ("config", "relay", "domains", "tracking"), (False, NOT_CHECKED)
    )


def test_a_damaged_store_in_a_real_process_exits_1_without_a_traceback(lettr, tmp_path) -> None:
    copy = store_copy(lettr, tmp_path)
    _break_migrations(copy)
    plain = run_process(["--db", str(copy), "doctor"])
    assert plain.returncode == 1
    assert plain.stdout.startswith(f"FAIL  store     cannot open the store {copy}: ")
    assert plain.stderr == "5 of 5 checks failed: store, config, relay, domains, tracking\n"
    as_json = run_process(["--db", str(copy), "doctor", "--json"])
    assert as_json.returncode == 1 and as_json.stderr == ""
    assert len(json.loads(as_json.stdout)) == 5


def test_a_store_from_a_newer_lettr(lettr, tmp_path) -> None:
    copy = store_copy(lettr, tmp_path)
    conn = sqlite3.connect(copy)
    with conn:
        conn.execute(
            "INSERT INTO lettr_migrations VALUES (99, 'm099_future', '2030-01-01 00:00:00')"
        )
    conn.close()
    before = dump(copy)
    ok, detail = checks(doctor(lettr, env={"LETTR_DB": str(copy)}))["store"]
    assert not ok
    assert "schema version 99, written by a newer lettr" in detail
    assert detail.endswith("Upgrade lettr to use it; quick_check ok")
    assert dump(copy) == before


def test_values_that_contradict_each_other_are_reported(lettr) -> None:
    env = {"LETTR_SENDING_RETRY_MAX_SECONDS": "10"}  # below sending.retry_base_seconds (60)
    assert lettr("config", "show", env=env).exit_code == 1
    body = checks(doctor(lettr, env=env))
    ok, detail = body["config"]
    assert not ok
    assert detail.count("sending.retry_max_seconds (10) must be at least") == 2  # both keys
    assert body["store"][0] and body["tracking"][0]
