"""The activity log of a contact: every change, kept for the life of the contact (reference §8)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from lettr_cli import ledger
from lettr_cli.store.tables import Activity
from lettr_cli.store.types import utcnow

CREATED = "created"
SUBSCRIBED = ledger.STATUS_SUBSCRIBED
UNSUBSCRIBED = ledger.STATUS_UNSUBSCRIBED
STATUS_CHANGED = ledger.STATUS_CHANGED  # between two statuses that are neither `subscribed`
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


# A status change and its entry are the ledger's (``ledger.change_status``, ``ledger.opt_out``).
status_event = ledger.status_event


def history(session: Session, contact_id: str) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Activity).where(Activity.contact_id == contact_id).order_by(col(Activity.id))
    )
    return [{"at": row.at, "kind": row.kind, "detail": row.detail} for row in rows]
