"""What the preference centre writes: a recipient's topic choices (issue 19).

One short ``IMMEDIATE`` transaction: the memberships and their activity entries through the
audience's topics (``audience.preferences``), and one event per change (``topic_opt_in`` or
``topic_opt_out``, the topic's name as its reason) on the campaign whose message carried the
link, through the ledger. Returning means it is committed. No web imports here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection
from sqlmodel import Session

from lettr_cli import ledger
from lettr_cli.audience import preferences
from lettr_cli.audience.preferences import Change, TopicChoice
from lettr_cli.errors import NotFound
from lettr_cli.store.engine import Store
from lettr_cli.store.tables import Contact
from lettr_cli.tracking.recording import Recipient, write_now

TOPIC_OPT_IN = "topic_opt_in"
TOPIC_OPT_OUT = "topic_opt_out"


@dataclass(frozen=True)
class View:
    """What the preference page shows: the contact as it is now."""

    email: str
    status: str
    choices: list[TopicChoice]


def view(store: Store, row: Recipient) -> View | None:
    """The row's contact and its public topics; None when the contact is gone."""
    with store.read() as session:
        contact = session.get(Contact, row.contact_id)
        if contact is None:
            return None
        return View(contact.email, contact.status, preferences.choices_of(session, contact.id))


def save(
    store: Store,
    row: Recipient,
    shown: Sequence[str],
    opted_in: Collection[str],
    *,
    user_agent: str,
    now: datetime,
) -> list[Change]:
    """Apply the choices of the row's contact (``preferences.save_choices``: a
    ``validation_error`` changes nothing) and record an event per change. ``NotFound`` when
    the contact is gone; ``StoreBusy`` when the store stays locked."""
    changes: list[Change] = []

    def work(conn: Connection) -> None:
        session = Session(bind=conn)
        contact = session.get(Contact, row.contact_id)
        if contact is None:
            raise NotFound("the contact is gone")
        changes.extend(preferences.save_choices(session, contact, shown, opted_in))
        session.flush()
        for opted, kind in ((True, TOPIC_OPT_IN), (False, TOPIC_OPT_OUT)):
            rows = [
                {
                    "outbox_id": row.row_id,
                    "contact_id": row.contact_id,
                    "email": row.email,
                    "user_agent": user_agent,
                    "reason": change.name,
                }
                for change in changes
                if change.opted_in is opted
            ]
            ledger.record_events(conn, row.campaign_id, rows, kind, now)

    write_now(store, work)
    return changes
