"""The columns that everyday reads use, as SQLAlchemy Core tables: no ORM, no pydantic.

`lettr config get`, `contact list`, `campaign list` and `campaign show` read through these, so
they start without loading sqlmodel (issue 18, "Start-up"). They describe tables the migrations
create and ``tables`` maps; each lists only the columns some reader here needs.
``tests/test_core_tables.py`` checks every column against ``tables`` (name, type, nullability,
primary key), so the two cannot drift.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

config = sa.Table(
    "config",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String, nullable=False),
)
