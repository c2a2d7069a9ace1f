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
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.errors import StoreTooNew
from lettr_cli.store.types import JSON_TYPE, UTCDateTime, utcnow

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


def _id_column(name: str = "id") -> sa.Column[Any]:
    return sa.Column(name, sa.String(36), primary_key=True)


def _created_at() -> sa.Column[Any]:
    return sa.Column("created_at", UTCDateTime, nullable=False)


def m002_audience(op: Operations) -> None:
    op.create_table(
        "properties",
        _id_column(),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("fallback_value", sa.String(1000)),
        _created_at(),
    )
    op.create_table(
        "contacts",
        _id_column(),
        sa.Column("email", sa.String(320), nullable=False),
        # casefold(email): identity, case-insensitive matching (CONTRACT "Naming and matching")
        sa.Column("email_key", sa.String(320), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("properties", JSON_TYPE, nullable=False),
        # casefolded copies of the string values, for case-insensitive comparisons in SQL
        sa.Column("properties_folded", JSON_TYPE, nullable=False),
        _created_at(),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_contacts_status", "contacts", ["status"])
    op.create_index("ix_contacts_created_at", "contacts", ["created_at"])
    for kind in ("list", "topic"):
        table = f"{kind}s"
        columns: list[sa.Column[Any]] = [
            _id_column(),
            sa.Column("name", sa.String(255), nullable=False, unique=True),
        ]
        if kind == "topic":
            columns += [
                sa.Column("description", sa.String(1000)),
                sa.Column("default_subscription", sa.String(8), nullable=False),
                sa.Column("visibility", sa.String(8), nullable=False),
            ]
        op.create_table(table, *columns, _created_at())
        members = f"{kind}_members"
        op.create_table(
            members,
            sa.Column(
                f"{kind}_id",
                sa.String(36),
                sa.ForeignKey(f"{table}.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column(
                "contact_id",
                sa.String(36),
                sa.ForeignKey("contacts.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("added_at", UTCDateTime, nullable=False),
        )
        op.create_index(f"ix_{members}_contact", members, ["contact_id"])
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "contact_id",
            sa.String(36),
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_activity_contact", "activity", ["contact_id", "id"])
    # Opt-outs outlive deletion (DESIGN "Decisions"): the casefolded address and its status.
    op.create_table(
        "suppressions",
        sa.Column("email_key", sa.String(320), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        _created_at(),
    )


def m004_segments(op: Operations) -> None:
    op.create_table(
        "segments",
        _id_column(),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        # No cascade: deleting a list that scopes a segment is refused (resource_in_use).
        sa.Column("list_id", sa.String(36), sa.ForeignKey("lists.id")),
        # {"groups": [{"conditions": [{field, operator, value}]}]}, lists and topics by id
        sa.Column("conditions", JSON_TYPE, nullable=False),
        _created_at(),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_segments_list", "segments", ["list_id"])


# Version 3 is the sending-domains step, merged from another branch; a gap is harmless.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "m001_config", m001_config),
    Migration(2, "m002_audience", m002_audience),
    Migration(4, "m004_segments", m004_segments),
)
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
