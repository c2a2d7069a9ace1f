"""Columns every schema step writes the same way: a text id, a creation time, a counted id."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lettr_cli.store.types import UTCDateTime

# Ids that grow without bound (outbox rows, events, activity...): BIGINT on PostgreSQL; on
# SQLite an INTEGER PRIMARY KEY is the 64-bit rowid (a BIGINT one would not count by itself).
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def id_column(name: str = "id") -> sa.Column[Any]:
    return sa.Column(name, sa.String(36), primary_key=True)


def created_at_column() -> sa.Column[Any]:
    return sa.Column("created_at", UTCDateTime, nullable=False)
