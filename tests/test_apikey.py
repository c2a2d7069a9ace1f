"""`lettr apikey`: a key is printed once (lttr_ + 64 hex), only its hash is stored, revoking it
stops it at once; bad names and scopes are refused and nothing is written."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

from tests.api_helpers import ALL, make_key

KEY = re.compile(r"lttr_[0-9a-f]{64}")


def _rows(home: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(home / "lettr.db") as conn:
        return conn.execute("SELECT name, key_hash, scopes, revoked_at FROM api_keys").fetchall()


def test_create_prints_the_key_once_and_stores_only_its_hash(lettr, isolated_home: Path) -> None:
    made = lettr("apikey", "create", "ci", "--scopes", "campaigns:read, audience:read")
    assert made.exit_code == 0, made.stderr
    key = made.stdout.strip()
    assert KEY.fullmatch(key)
    assert "not shown again" in made.stderr
    [(name, stored, scopes, revoked)] = _rows(isolated_home)
    assert (name, scopes, revoked) == ("ci", "campaigns:read,audience:read", None)
    assert stored == hashlib.sha256(key.encode()).hexdigest()
    with sqlite3.connect(isolated_home / "lettr.db") as conn:
        assert key not in "\n".join(conn.iterdump())
    listed = lettr("apikey", "list", "--json")
    assert listed.exit_code == 0
    [shown] = listed.json()
    assert shown["name"] == "ci" and shown["scopes"] == ["campaigns:read", "audience:read"]
    assert "key" not in shown and key not in listed.stdout


def test_create_json_has_the_key_name_scopes_and_time(lettr) -> None:
    made = lettr("apikey", "create", "ci", "--json")
    body = made.json()
    assert KEY.fullmatch(body["key"])
    assert body["name"] == "ci"
    assert ",".join(body["scopes"]) == ALL
    assert body["created_at"] and body["revoked_at"] is None


def test_bad_scopes_and_names_are_refused_and_nothing_is_stored(lettr, isolated_home: Path) -> None:
    for args, field in (
        (("ci", "--scopes", "campaigns:read,emails:send"), "scopes"),
        (("ci", "--scopes", " , "), "scopes"),
        (("  ", "--scopes", "audience:read"), "name"),
    ):
        refused = lettr("apikey", "create", *args, "--json")
        assert refused.exit_code == 1
        error = refused.error()
        assert error["error_code"] == "validation_error" and field in error["errors"], error
    make_key(lettr, "ci")
    twice = lettr("apikey", "create", "ci", "--json")
    assert twice.exit_code == 1 and twice.error()["error_code"] == "resource_already_exists"
    assert len(_rows(isolated_home)) == 1


def test_revoke_by_name_keeps_the_row_and_frees_the_name(lettr, isolated_home: Path) -> None:
    make_key(lettr, "ci")
    revoked = lettr("apikey", "revoke", "ci", "--json")
    assert revoked.exit_code == 0, revoked.stderr
    assert revoked.json()["revoked_at"] is not None
    assert lettr("apikey", "list", "--json").json() == []
    assert len(lettr("apikey", "list", "--revoked", "--json").json()) == 1
    again = lettr("apikey", "revoke", "ci", "--json")
    assert again.exit_code == 1 and again.error()["error_code"] == "not_found"
    make_key(lettr, "ci")
    assert [row[3] is None for row in _rows(isolated_home)] == [False, True]
