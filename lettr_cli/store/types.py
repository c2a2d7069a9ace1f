"""Column types shared by every table."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class _JSONB(TypeDecorator[Any]):
    """PostgreSQL's JSONB, named here and loaded with the dialect: importing it up front would
    load the whole PostgreSQL dialect at every start, on SQLite too (issue 18, "Start-up")."""

    impl = JSON
    cache_ok = True
    render_bind_cast = True  # as JSONB itself is bound with psycopg: `%(doc)s::JSONB`

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        from sqlalchemy.dialects.postgresql import JSONB

        return dialect.type_descriptor(JSONB())


# JSON documents: TEXT on SQLite (queried with json_extract), JSONB on PostgreSQL.
JSON_TYPE = JSON().with_variant(_JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a zone first")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        assert isinstance(moment, datetime)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """Ids are uuid4 strings (CONTRACT "Streams and formats")."""
    return str(uuid.uuid4())


def new_ids(count: int) -> list[str]:
    """``count`` ids like :func:`new_id` (random uuid4 strings), made faster for bulk imports."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])  # the RFC 4122 variant
    text = raw.hex()
    return [
        f"{text[i : i + 8]}-{text[i + 8 : i + 12]}-{text[i + 12 : i + 16]}-"
        f"{text[i + 16 : i + 20]}-{text[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    ]
