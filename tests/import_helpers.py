"""What the import and export tests share: writing CSV files, and a picture of the whole store."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

AUDIENCE_TABLES = (
    "contacts",
    "properties",
    "lists",
    "list_members",
    "topics",
    "topic_members",
    "activity",
    "suppressions",
)


def csv_text(rows: Sequence[Sequence[object]], delimiter: str = ",", newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return out.getvalue()


def write_csv(path: Path, rows: Sequence[Sequence[object]], **options: Any) -> Path:
    path.write_text(csv_text(rows, **options), encoding="utf-8", newline="")
    return path


def store_state(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every audience table, sorted: two equal states are the same store. In a
    PostgreSQL variant (LETTR_DB set) the test's database is read instead of ``db``."""
    configured = os.environ.get("LETTR_DB")
    if configured:
        from lettr_cli.store.location import parse_location
        from tests.store_access import ServerConnection

        con: Any = ServerConnection(parse_location(configured).secret)
    else:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {
            name: sorted(
                con.execute(f"SELECT * FROM {name}").fetchall(),
                key=repr,
            )
            for name in AUDIENCE_TABLES
        }
    finally:
        con.close()


def checksum(db: Path) -> str:
    return hashlib.sha256(repr(store_state(db)).encode()).hexdigest()


def contacts_by_email(listing: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["email"]: c for c in listing}


def json_error(stderr: str) -> dict[str, Any]:
    """The JSON error body, the last line of stderr (progress lines may come before it)."""
    body = json.loads(stderr.strip().splitlines()[-1])
    assert isinstance(body, dict)
    return body
