"""Contacts as listings show them, read through SQLAlchemy Core (no ORM, no pydantic).

``contact list`` without a list, topic, segment or search filter reads its page here, so it
starts quickly (issue 18, "Start-up"); every face shapes contacts with :func:`contacts_json`,
which takes ORM contacts and Core rows alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from lettr_cli.errors import ValidationError
from lettr_cli.store.core_tables import (
    connection_of,
    contacts,
    counted_page,
    list_members,
    lists,
    topic_members,
    topics,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

STATUSES = ("subscribed", "unsubscribed", "bounced", "complained", "unverified")
# Oldest first; the casefolded address is unique (``contacts.CONTACT_ORDER``, on the ORM table).
ORDER = (contacts.c.created_at, contacts.c.email_key)


def check_status(status: str) -> str:
    if status not in STATUSES:
        raise ValidationError.field(
            "status", f"unknown status '{status}'; one of: {', '.join(STATUSES)}"
        )
    return status


def contact_page(
    conn: Connection, status: str | None, limit: int | None
) -> tuple[Sequence[Any], int]:
    """Contacts (with ``status`` when given), oldest first: at most ``limit`` of them (all when
    None) and how many there are in all. Rows carry the attributes :func:`contacts_json` reads."""
    query = select(contacts)
    if status:
        query = query.where(contacts.c.status == check_status(status))
    return counted_page(conn, query, ORDER, limit)


def memberships(
    reader: Connection | Session, contact_ids: Sequence[str]
) -> tuple[dict[str, list[dict[str, str]]], dict[str, list[dict[str, str]]]]:
    """Lists and topics of each contact, fetched in two queries for a whole page."""
    found: dict[str, dict[str, list[dict[str, str]]]] = {
        kind: {cid: [] for cid in contact_ids} for kind in ("lists", "topics")
    }
    conn = connection_of(reader)
    groups = (
        ("lists", lists, list_members.c.list_id),
        ("topics", topics, topic_members.c.topic_id),
    )
    for chunk_start in range(0, len(contact_ids), 500):
        chunk = contact_ids[chunk_start : chunk_start + 500]
        for kind, group, member_group_id in groups:
            members = member_group_id.table
            rows = conn.execute(
                select(members.c.contact_id, group.c.id, group.c.name)
                .join(group, group.c.id == member_group_id)
                .where(members.c.contact_id.in_(chunk))
                .order_by(group.c.name)
            )
            for cid, gid, name in rows:
                found[kind][cid].append({"id": gid, "name": name})
    return found["lists"], found["topics"]


def contacts_json(reader: Connection | Session, found: Sequence[Any]) -> list[dict[str, Any]]:
    """The Contact objects (CONTRACT "Objects") of ORM contacts or Core rows."""
    lists_of, topics_of = memberships(reader, [c.id for c in found])
    return [
        {
            "id": c.id,
            "email": c.email,
            "status": c.status,
            "properties": c.properties,
            "lists": lists_of[c.id],
            "topics": topics_of[c.id],
            "created_at": c.created_at,
            "updated_at": c.updated_at,
        }
        for c in found
    ]
