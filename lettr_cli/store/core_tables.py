"""The columns that everyday reads use, as SQLAlchemy Core tables: no ORM, no pydantic.

`lettr config get`, `contact list`, `campaign list` and `campaign show` read through these, so
they start without loading sqlmodel (issue 18, "Start-up"). They describe tables the migrations
create and ``tables`` maps; each lists only the columns some reader here needs.
``tests/test_core_tables.py`` checks every column against ``tables`` (name, type, nullability,
primary key), so the two cannot drift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.store.types import JSON_TYPE, UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

metadata = sa.MetaData()


def connection_of(reader: Connection | Session) -> Connection:
    """The connection to run Core reads on: ``reader`` itself, or a session's own connection in
    its transaction, once its pending changes (a contact just added to a list) are written, as
    the session's own queries would."""
    if isinstance(reader, Connection):
        return reader
    reader.flush()
    return reader.connection()


config = sa.Table(
    "config",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String, nullable=False),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("email", sa.String, nullable=False),
    sa.Column("email_key", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("properties", JSON_TYPE, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

lists = sa.Table(
    "lists",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
)

topics = sa.Table(
    "topics",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
)

list_members = sa.Table(
    "list_members",
    metadata,
    sa.Column("list_id", sa.String, primary_key=True),
    sa.Column("contact_id", sa.String, primary_key=True),
)

topic_members = sa.Table(
    "topic_members",
    metadata,
    sa.Column("topic_id", sa.String, primary_key=True),
    sa.Column("contact_id", sa.String, primary_key=True),
)
