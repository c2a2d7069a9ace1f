"""Schema migrations: a small ordered set of steps recorded in the store itself.

Each step is a plain function over Alembic's ``Operations`` (portable DDL, no SQLite table
rebuilds) and is applied in one transaction together with its record in ``lettr_migrations``.
Steps run under an exclusive lock and the version is read again inside it, so two processes
opening an old store at once apply each step exactly once. A store whose version is newer than
this code knows is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.errors import StoreTooNew
from lettr_cli.store.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from alembic.operations import Operations

    from lettr_cli.store.engine import Store

_meta = sa.MetaData()
migrations_table = sa.Table(
    "lettr_migrations",
    _meta,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Operations], None]


def m001_config(op: Operations) -> None:
    op.create_table(
        "config",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


MIGRATIONS: tuple[Migration, ...] = (Migration(1, "m001_config", m001_config),)
SCHEMA_VERSION = MIGRATIONS[-1].version


def read_version(conn: Connection) -> int:
    """The store's schema version; 0 for a new, empty store."""
    if not sa.inspect(conn).has_table(migrations_table.name):
        return 0
    value = conn.execute(sa.select(sa.func.max(migrations_table.c.version))).scalar()
    return int(value or 0)


def migrate(store: Store, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the store up to the newest schema; returns the resulting version.

    Raises ``StoreTooNew`` when the store was written by a newer lettr.
    """
    latest = migrations[-1].version
    with store.connect() as conn, conn.begin():
        version = read_version(conn)
    _refuse_newer(version, latest)
    for step in migrations:
        if step.version <= version:
            continue
        with store.connect("EXCLUSIVE") as conn, conn.begin():
            # Another process may have migrated while this one waited for the lock.
            version = read_version(conn)
            _refuse_newer(version, latest)
            if version >= step.version:
                continue
            _apply(conn, step)
            version = step.version
    return version


def _apply(conn: Connection, step: Migration) -> None:
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    _meta.create_all(conn, checkfirst=True)
    step.apply(Operations(MigrationContext.configure(conn)))
    conn.execute(
        migrations_table.insert().values(version=step.version, name=step.name, applied_at=utcnow())
    )


def _refuse_newer(version: int, latest: int) -> None:
    if version > latest:
        raise StoreTooNew(
            f"this store has schema version {version}, written by a newer lettr; "
            f"this lettr knows up to version {latest}. Upgrade lettr to use it."
        )
