"""Columns every schema step writes the same way: a text id, a creation time."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lettr_cli.store.types import UTCDateTime


def id_column(name: str = "id") -> sa.Column[Any]:
    return sa.Column(name, sa.String(36), primary_key=True)


def created_at_column() -> sa.Column[Any]:
    return sa.Column("created_at", UTCDateTime, nullable=False)
