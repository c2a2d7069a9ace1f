"""Schema migrations: a small ordered set of steps recorded in the store itself.

Each step (``schema_steps``) is applied in one transaction together with its record in
``lettr_migrations``. Steps run under an exclusive lock and the version is read again inside
it, so two processes opening an old store at once apply each step exactly once (on PostgreSQL
the lock is the store's advisory write lock, see ``server``). A store whose version is newer than
this code knows is refused.

Names sort in byte order on both engines: SQLite compares text bytewise, and on PostgreSQL every
text column of the schema is given ``COLLATE "C"`` in the transaction that applies the steps, so
that ordering never depends on the server's locale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.errors import StoreTooNew
from lettr_cli.store.schema_steps import MIGRATIONS, Migration
from lettr_cli.store.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from lettr_cli.store.engine import Store

_meta = sa.MetaData()
migrations_table = sa.Table(
    "lettr_migrations",
    _meta,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "migrate", "read_version"]

SCHEMA_VERSION = MIGRATIONS[-1].version


def applied_versions(conn: Connection) -> set[int]:
    """The versions recorded in the store; empty for a new store."""
    if not sa.inspect(conn).has_table(migrations_table.name):
        return set()
    return set(conn.execute(sa.select(migrations_table.c.version)).scalars())


def read_version(conn: Connection) -> int:
    """The store's schema version (the newest step applied); 0 for a new, empty store."""
    return max(applied_versions(conn), default=0)


def migrate(store: Store, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply every step the store has not recorded, in order; returns the resulting version.

    Steps are matched by version, not by "newer than the newest", so a step merged in later
    with a lower number is still applied. Raises ``StoreTooNew`` when the store records a step
    this lettr does not know (it was written by a newer lettr).
    """
    known = {step.version for step in migrations}
    with store.connect() as conn, conn.begin():
        applied = applied_versions(conn)
    _refuse_unknown(applied, known)
    if store.on_server:
        store.created = not applied
    for step in migrations:
        if step.version in applied:
            continue
        with store.connect("EXCLUSIVE") as conn, conn.begin():
            # Another process may have migrated while this one waited for the lock.
            applied = applied_versions(conn)
            _refuse_unknown(applied, known)
            if step.version in applied:
                continue
            _apply(conn, step)
            applied.add(step.version)
            if conn.dialect.name == "postgresql":
                byte_order_collation(conn)
    return max(applied, default=0)


def byte_order_collation(conn: Connection) -> None:
    """Give every text column of this schema PostgreSQL's ``"C"`` collation (byte order)."""
    rows = conn.execute(
        sa.text(
            "SELECT table_name, column_name, data_type, character_maximum_length "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND data_type IN ('character varying', 'text') "
            "AND COALESCE(collation_name, '') <> 'C'"
        )
    ).all()
    for table, column, data_type, length in rows:
        kind = "text" if data_type == "text" or length is None else f"varchar({int(length)})"
        conn.exec_driver_sql(
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {kind} COLLATE "C"'
        )


def _apply(conn: Connection, step: Migration) -> None:
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    _meta.create_all(conn, checkfirst=True)
    step.apply(Operations(MigrationContext.configure(conn)))
    conn.execute(
        migrations_table.insert().values(version=step.version, name=step.name, applied_at=utcnow())
    )


def _refuse_unknown(applied: set[int], known: set[int]) -> None:
    unknown = sorted(applied - known)
    if unknown:
        raise StoreTooNew(
            f"this store has schema version {max(applied)}, written by a newer lettr "
            f"(steps {', '.join(map(str, unknown))} are unknown here); this lettr knows up to "
            f"version {max(known)}. Upgrade lettr to use it."
        )
