"""The activity log of a contact: every change, kept for the life of the contact (reference §8)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from lettr_cli.store.tables import Activity
from lettr_cli.store.types import utcnow

CREATED = "created"
SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"
STATUS_CHANGED = "status_changed"  # between two statuses that are neither `subscribed`
LIST_ADDED = "list_added"
LIST_REMOVED = "list_removed"
TOPIC_OPTED_IN = "topic_opted_in"
TOPIC_OPTED_OUT = "topic_opted_out"
PROPERTY_SET = "property_set"
PROPERTY_CHANGED = "property_changed"
PROPERTY_CLEARED = "property_cleared"
EMAIL_CHANGED = "email_changed"


def record(session: Session, contact_id: str, kind: str, detail: str) -> None:
    session.add(Activity(contact_id=contact_id, kind=kind, detail=detail, at=utcnow()))


def record_status(session: Session, contact_id: str, old: str, new: str) -> None:
    event = status_event(old, new)
    if event is not None:
        record(session, contact_id, *event)


def status_event(old: str, new: str) -> tuple[str, str] | None:
    """The (kind, detail) logged when a contact's status goes from ``old`` to ``new``."""
    if old == new:
        return None
    if new == "subscribed":
        kind = SUBSCRIBED
    elif old == "subscribed":
        kind = UNSUBSCRIBED
    else:
        kind = STATUS_CHANGED
    return kind, f"status {old} → {new}"


def history(session: Session, contact_id: str) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Activity).where(Activity.contact_id == contact_id).order_by(col(Activity.id))
    )
    return [{"at": row.at, "kind": row.kind, "detail": row.detail} for row in rows]
