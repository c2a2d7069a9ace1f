"""The columns that everyday reads use, as SQLAlchemy Core tables: no ORM, no pydantic.

`lettr config get`, `contact list`, `campaign list` and `campaign show` read through these, so
they start without loading sqlmodel (issue 18, "Start-up"). They describe tables the migrations
create and ``tables`` maps; each lists only the columns some reader here needs.
``tests/test_startup.py`` checks every column against ``tables`` (name, type, nullability,
primary key), so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.store.counters import STAT_KEYS
from lettr_cli.store.types import JSON_TYPE, UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

metadata = sa.MetaData()


def counted_page(
    conn: Connection, query: sa.Select[Any], order: Sequence[Any], limit: int | None
) -> tuple[Sequence[Any], int]:
    """The rows of ``query`` in ``order``: at most ``limit`` of them (all when None, none when
    0), and how many there are in all."""
    total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    window = query.order_by(*order)
    if limit is not None:
        window = window.limit(limit)
    rows = conn.execute(window).all() if limit != 0 else []
    return rows, int(total)


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

segments = sa.Table(
    "segments",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
)

templates = sa.Table(
    "templates",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("active_version", sa.Integer, nullable=False),
)

template_versions = sa.Table(
    "template_versions",
    metadata,
    sa.Column("template_id", sa.String, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("html_content", sa.String, nullable=False),
    sa.Column("text_content", sa.String, nullable=True),
)

_OPTIONAL_TEXTS = (
    "subject", "from_email", "from_name", "reply_to", "preview_text", "html_content",
    "text_content", "template_id", "failure_reason",
)  # fmt: skip

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    *(sa.Column(name, sa.String, nullable=True) for name in _OPTIONAL_TEXTS),
    sa.Column("template_version", sa.Integer, nullable=True),
    sa.Column("track_opens", sa.Boolean, nullable=False),
    sa.Column("track_clicks", sa.Boolean, nullable=False),
    sa.Column("audience", JSON_TYPE, nullable=False),
    sa.Column("scheduled_at", UTCDateTime, nullable=True),
    sa.Column("sent_at", UTCDateTime, nullable=True),
    sa.Column("total_recipients", sa.Integer, nullable=False),
    sa.Column("sent_count", sa.Integer, nullable=False),
    *(sa.Column(name, sa.Integer, nullable=False) for name in STAT_KEYS),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("utm", JSON_TYPE, nullable=True),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.String, nullable=False),
    sa.Column("email", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
)
