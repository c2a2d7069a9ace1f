"""Existing contacts named by an import: merged in update mode, added to groups in skip mode.

Runs inside the import's write transaction (``import_writing``). An existing contact may leave
``subscribed`` but never return to it: such a row is skipped whole (``opt_out_kept``, DESIGN
"Decisions"). Empty cells were dropped when the row was built, so they change nothing. Changes
are logged as `contact edit` logs them (status, property set or changed, list added, topic
opted in); a row that changes nothing leaves the contact untouched and counts as existing.

In both modes an existing contact joins the ``--list`` lists, and the ``--topic`` topics only
while it is subscribed: an import never opts in someone who opted out (list membership is not
a subscription, but a topic is a subscription category).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from lettr_cli import ledger
from lettr_cli.audience import activity
from lettr_cli.audience.contacts import folded_values
from lettr_cli.store import tables as _tables  # noqa: F401 (registers the tables)

UPDATE_BATCH = 1000


@dataclass
class UpdateCounts:
    updated: int = 0  # in skip mode: contacts added to a list or topic, nothing else changed
    unchanged: int = 0
    opt_out_kept: int = 0
    not_opted_in: int = 0  # contacts not subscribed, so kept out of the chosen topics


@dataclass(frozen=True)
class _Group:
    kind: str  # "list" or "topic"
    id: str
    name: str
    event: str  # what joining it logs
    members: set[str]  # contact ids, kept current as the import adds some


def update_existing(
    conn: Connection,
    staging: sa.Table,
    list_ids: Sequence[tuple[str, str]],
    topic_ids: Sequence[tuple[str, str]],
    now: datetime,
) -> UpdateCounts:
    """Merge each staged row that names an existing contact into it."""
    contacts = _table("contacts")
    counts = UpdateCounts()
    groups = _groups(conn, list_ids, topic_ids)
    columns = (staging.c.status, staging.c.properties, contacts.c.status, contacts.c.properties)
    for rows in _existing(conn, staging, columns):
        changes: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        joins: dict[str, list[dict[str, Any]]] = {"list": [], "topic": []}
        for contact_id, wanted, staged, status, properties in rows:
            if wanted == "subscribed" and status != "subscribed":
                counts.opt_out_kept += 1  # an import never re-subscribes
                continue
            new_status = wanted or status
            merged, logged = _merge(status, new_status, properties, json.loads(staged))
            logged += _join(groups, contact_id, status, joins, now=now, counts=counts)
            if not logged:
                counts.unchanged += 1
                continue
            counts.updated += 1
            changes.append(
                {
                    "b_id": contact_id,
                    "b_status": new_status,
                    "b_properties": merged,
                    "b_folded": folded_values(merged),
                }
            )
            events += [
                {"contact_id": contact_id, "at": now, "kind": kind, "detail": detail}
                for kind, detail in logged
            ]
        _apply_updates(conn, changes, joins, events, now)
    return counts


def join_existing(
    conn: Connection,
    staging: sa.Table,
    list_ids: Sequence[tuple[str, str]],
    topic_ids: Sequence[tuple[str, str]],
    now: datetime,
) -> UpdateCounts:
    """Skip mode: each existing contact keeps its properties and status, and joins the chosen
    lists and topics it is not in yet (``updated`` counts those that joined one)."""
    contacts = _table("contacts")
    counts = UpdateCounts()
    groups = _groups(conn, list_ids, topic_ids)
    for rows in _existing(conn, staging, (contacts.c.status,)):
        touched: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        joins: dict[str, list[dict[str, Any]]] = {"list": [], "topic": []}
        for contact_id, status in rows:
            logged = _join(groups, contact_id, status, joins, now=now, counts=counts)
            if not logged:
                counts.unchanged += 1
                continue
            counts.updated += 1
            touched.append({"b_id": contact_id})
            events += [
                {"contact_id": contact_id, "at": now, "kind": kind, "detail": detail}
                for kind, detail in logged
            ]
        if touched:
            conn.execute(
                contacts.update()
                .where(contacts.c.id == sa.bindparam("b_id"))
                .values(updated_at=now),
                touched,
            )
        _apply_updates(conn, [], joins, events, now)
    return counts


def _groups(
    conn: Connection, list_ids: Sequence[tuple[str, str]], topic_ids: Sequence[tuple[str, str]]
) -> list[_Group]:
    chosen = [
        ("list", list_ids, activity.LIST_ADDED),
        ("topic", topic_ids, activity.TOPIC_OPTED_IN),
    ]
    return [
        _Group(kind, gid, name, event, _member_ids(conn, kind, gid))
        for kind, ids, event in chosen
        for gid, name in ids
    ]


def _existing(
    conn: Connection, staging: sa.Table, columns: Sequence[sa.ColumnElement[Any]]
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of ``(contact id, *columns)`` for the staged rows that name existing contacts."""
    contacts = _table("contacts")
    after = 0
    while True:
        rows = conn.execute(
            sa.select(staging.c.line, contacts.c.id, *columns)
            .join(contacts, contacts.c.id == staging.c.contact_id)
            .where(staging.c.line > after)
            .order_by(staging.c.line)
            .limit(UPDATE_BATCH)
        ).all()
        if not rows:
            return
        after = rows[-1][0]
        yield [tuple(row[1:]) for row in rows]


def _join(
    groups: Sequence[_Group],
    contact_id: str,
    status: str,
    joins: dict[str, list[dict[str, Any]]],
    *,
    now: datetime,
    counts: UpdateCounts,
) -> list[tuple[str, str]]:
    """The groups ``contact_id`` joins, added to ``joins``; the (kind, detail) events to log.

    ``status`` is the contact's status before the row: topics only for a subscribed contact.
    """
    logged: list[tuple[str, str]] = []
    withheld = False
    for group in groups:
        if contact_id in group.members:
            continue
        if group.kind == "topic" and status != "subscribed":
            withheld = True
            continue
        group.members.add(contact_id)
        joins[group.kind].append(
            {f"{group.kind}_id": group.id, "contact_id": contact_id, "added_at": now}
        )
        logged.append((group.event, group.name))
    counts.not_opted_in += withheld
    return logged


def _table(name: str) -> sa.Table:
    return SQLModel.metadata.tables[name]


def _member_ids(conn: Connection, kind: str, group_id: str) -> set[str]:
    members = _table(f"{kind}_members")
    query = sa.select(members.c.contact_id).where(members.c[f"{kind}_id"] == group_id)
    return set(conn.execute(query).scalars())


def _merge(
    old_status: str, new_status: str, properties: dict[str, Any], given: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The merged properties and the (kind, detail) events, as `contact edit` would log them."""
    logged: list[tuple[str, str]] = []
    if (event := ledger.status_event(old_status, new_status)) is not None:
        logged.append(event)
    merged = dict(properties)
    for name, value in given.items():
        if name not in merged:
            logged.append((activity.PROPERTY_SET, f"{name} = {value!r}"))
        elif merged[name] != value:
            logged.append((activity.PROPERTY_CHANGED, f"{name}: {merged[name]!r} → {value!r}"))
        merged[name] = value
    return merged, logged


def _apply_updates(
    conn: Connection,
    changes: list[dict[str, Any]],
    joins: dict[str, list[dict[str, Any]]],
    events: list[dict[str, Any]],
    now: datetime,
) -> None:
    ledger.merge_contacts(conn, changes, now)
    for kind, rows in joins.items():
        if rows:
            conn.execute(_table(f"{kind}_members").insert(), rows)
    if events:
        conn.execute(_table("activity").insert(), events)
