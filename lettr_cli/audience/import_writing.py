"""The write half of an import: staged rows become contacts in one transaction.

Rows are checked and staged in a temporary table outside the write lock (``importer``); this
module runs inside the ``BEGIN IMMEDIATE`` transaction and does its work in a few set-wise
statements, so that the lock is held briefly. Every decision about existing contacts is taken
here, under the lock, so a contact added meanwhile by another process is seen.

Rules (DESIGN "Decisions", reference §8, §13): new contacts get no "created" event and their
memberships are not logged (the bulk path); an address deleted while opted out is created with
its old status (``opt_out_kept``); in update mode an existing contact may leave ``subscribed``
but never return to it (the row is skipped, ``opt_out_kept``), and what changes is logged as
``contact edit`` logs it; opt-out topics attach to every new contact. In skip mode an existing
contact keeps its properties and status but joins the chosen lists and topics (logged), topics
only while it is subscribed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from lettr_cli.audience import activity
from lettr_cli.audience.import_updates import join_existing, update_existing
from lettr_cli.errors import ResourceAlreadyExists
from lettr_cli.store import tables as _tables  # noqa: F401 (registers the tables)
from lettr_cli.store.types import JSON_TYPE, UTCDateTime, new_id


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    existing: int = 0
    opt_out_kept_created: int = 0
    opt_out_kept_skipped: int = 0
    added_to_groups: int = 0  # skip mode: existing contacts that joined a chosen list or topic
    not_opted_in: int = 0  # existing contacts kept out of the chosen topics (not subscribed)


@dataclass(frozen=True)
class Targets:
    """Where imported contacts go: group ids, and properties this import creates."""

    list_ids: Sequence[tuple[str, str]]  # (id, name)
    topic_ids: Sequence[tuple[str, str]]  # chosen topics
    auto_topic_ids: Sequence[tuple[str, str]]  # opt-out topics (new contacts only)
    new_properties: dict[str, str] = field(default_factory=dict)


def staging_table() -> sa.Table:
    """The temporary table rows wait in; JSON columns hold serialised documents."""
    return sa.Table(
        "lettr_import_staging",
        sa.MetaData(),
        sa.Column("line", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("properties", sa.Text, nullable=False),
        sa.Column("properties_folded", sa.Text, nullable=False),
        sa.Column("contact_id", sa.String(36)),
        prefixes=["TEMPORARY"],
    )


def table(name: str) -> sa.Table:
    return SQLModel.metadata.tables[name]


def write_staged(
    conn: Connection,
    staging: sa.Table,
    targets: Targets,
    *,
    update: bool,
    now: datetime,
    new_status: str | None = None,
) -> Outcome:
    """Apply the staged rows to the store; the caller holds the write transaction. With
    ``new_status`` (double opt-in: ``unverified``), every contact created gets that status
    whatever the file says, unless its address keeps an opt-out."""
    contacts, suppressions = table("contacts"), table("suppressions")
    outcome = Outcome()
    _create_properties(conn, targets.new_properties, now)
    at = sa.bindparam("now", now, type_=UTCDateTime)
    # Who exists already, seen under the lock.
    conn.execute(
        staging.update().values(
            contact_id=sa.select(contacts.c.id)
            .where(contacts.c.email_key == staging.c.email_key)
            .scalar_subquery()
        )
    )
    new = staging.c.contact_id.is_(None)
    joined = staging.outerjoin(suppressions, suppressions.c.email_key == staging.c.email_key)
    given = staging.c.status if new_status is None else sa.literal(new_status)
    status = sa.func.coalesce(suppressions.c.status, given, "subscribed")
    created = conn.execute(
        contacts.insert().from_select(
            [
                "id",
                "email",
                "email_key",
                "status",
                "properties",
                "properties_folded",
                "created_at",
                "updated_at",
            ],
            sa.select(
                staging.c.id,
                staging.c.email,
                staging.c.email_key,
                status,
                _json(conn, staging.c.properties),
                _json(conn, staging.c.properties_folded),
                at,
                at,
            )
            .select_from(joined)
            .where(new),
        )
    )
    outcome.created = created.rowcount
    kept = sa.and_(new, suppressions.c.status.is_not(None))
    outcome.opt_out_kept_created = conn.execute(
        sa.select(sa.func.count()).select_from(joined).where(kept)
    ).scalar_one()
    conn.execute(
        table("activity")
        .insert()
        .from_select(
            ["contact_id", "at", "kind", "detail"],
            sa.select(
                staging.c.id,
                at,
                sa.literal(activity.STATUS_CHANGED),
                sa.literal("opt-out kept on import: ") + suppressions.c.status,
            )
            .select_from(joined)
            .where(kept),
        )
    )
    for kind, groups in (
        ("list", targets.list_ids),
        ("topic", [*targets.topic_ids, *targets.auto_topic_ids]),
    ):
        members = table(f"{kind}_members")
        for group_id, _name in dict.fromkeys(groups):
            conn.execute(
                members.insert().from_select(
                    [f"{kind}_id", "contact_id", "added_at"],
                    sa.select(sa.literal(group_id), staging.c.id, at).where(new),
                )
            )
    if update:
        counts = update_existing(conn, staging, targets.list_ids, targets.topic_ids, now)
        outcome.updated, outcome.existing = counts.updated, counts.unchanged
        outcome.opt_out_kept_skipped = counts.opt_out_kept
        outcome.not_opted_in = counts.not_opted_in
    elif targets.list_ids or targets.topic_ids:
        counts = join_existing(conn, staging, targets.list_ids, targets.topic_ids, now)
        outcome.added_to_groups, outcome.existing = counts.updated, counts.unchanged
        outcome.not_opted_in = counts.not_opted_in
    else:
        outcome.existing = conn.execute(
            sa.select(sa.func.count()).select_from(staging).where(staging.c.contact_id.is_not(None))
        ).scalar_one()
    return outcome


def _json(conn: Connection, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    # SQLite keeps JSON as text; other databases need the text turned into their JSON type.
    return column if conn.dialect.name == "sqlite" else sa.cast(column, JSON_TYPE)


def _create_properties(conn: Connection, new: dict[str, str], now: datetime) -> None:
    if not new:
        return
    properties = table("properties")
    clash = conn.execute(
        sa.select(properties.c.name).where(properties.c.name.in_(list(new)))
    ).scalar()
    if clash is not None:  # its type may not fit the values read: better to start again
        raise ResourceAlreadyExists(
            f"the property '{clash}' was created while this import ran; import the file again"
        )
    conn.execute(
        properties.insert(),
        [
            {"id": new_id(), "name": name, "type": kind, "fallback_value": None, "created_at": now}
            for name, kind in new.items()
        ],
    )
