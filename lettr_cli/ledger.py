"""The ledger: the one writer of what sends, tracking and feedback record (issue 14, "one owner
per rule").

It owns four things, and no other module writes them (``tests/test_ledger_owner.py`` checks):

- a campaign's **counters** (``COUNTERS``: the ``stats`` of CONTRACT's Campaign object, the
  ``sent_count`` and the unsubscribes by method), added to by one statement whose names are
  checked: an unknown name is a programming error (``ValueError``);
- the **events** of analytics (the ``events`` table), written in batches;
- a contact's **opt-out** (``unsubscribed``, ``bounced``, ``complained``) and every other change
  of a contact's status: the status, ``updated_at``, and the activity entry that goes with it;
- the **suppression** entries that keep an opt-out after the contact is deleted.

The delivery engine writes inside its single writer on a Core ``Connection``, the tracking server
and feedback import too: those get Core, set-based functions, so a batch stays one statement.
The audience edits contacts through a ``Session``: it gets Session functions that apply the same
rules. Below the audience in ARCHITECTURE.md's order, the ledger depends only on ``store``,
``errors`` and ``addressing``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from lettr_cli.addressing.addresses import email_key
from lettr_cli.store.counters import STAT_KEYS
from lettr_cli.store.server import take_write_lock
from lettr_cli.store.tables import (
    UNSUBSCRIBE_COUNTERS,
    Activity,
    Campaign,
    Contact,
    Event,
    Suppression,
    table_of,
)
from lettr_cli.store.types import JSON_TYPE, UTCDateTime, new_id, utcnow

campaigns = table_of(Campaign)
contacts = table_of(Contact)
events = table_of(Event)
activity = table_of(Activity)
suppressions = table_of(Suppression)

# -- counters -------------------------------------------------------------------------------

# The campaign's ``stats`` are ``STAT_KEYS`` (named in ``store.counters``).
# Every counter column of a campaign: only the ledger adds to them.
COUNTERS = (*STAT_KEYS, "sent_count", *UNSUBSCRIBE_COUNTERS.values())

_ADD_COUNTERS = (
    campaigns.update()
    .where(campaigns.c.id == sa.bindparam("campaign_id"))
    .values(
        {
            **{name: campaigns.c[name] + sa.bindparam(f"add_{name}") for name in COUNTERS},
            "updated_at": sa.bindparam("now", type_=UTCDateTime),
        }
    )
)


def add_counters(
    conn: Connection, campaign_id: str, deltas: dict[str, int], now: datetime | None = None
) -> None:
    """Add ``deltas`` (counter name → amount) to the campaign's counters: one statement,
    compiled once; nothing when every amount is zero. An unknown name raises ValueError."""
    unknown = set(deltas) - set(COUNTERS)
    if unknown:
        raise ValueError(f"not a counter of a campaign: {sorted(unknown)}")
    if any(deltas.values()):
        params = {f"add_{name}": deltas.get(name, 0) for name in COUNTERS}
        conn.execute(_ADD_COUNTERS, {"campaign_id": campaign_id, "now": now or utcnow(), **params})


# -- events ---------------------------------------------------------------------------------

USER_AGENT_LIMIT = 1000  # the events column


def event_values(
    campaign_id: str, row: dict[str, Any], event_type: str, at: datetime
) -> dict[str, Any]:
    """The values of one event as ``record_events`` writes it (for ``insert_events``)."""
    user_agent = row.get("user_agent")
    return {
        "event_id": new_id(),
        "campaign_id": campaign_id,
        "event_type": event_type,
        "at": at,
        "machine": bool(row.get("machine", False)),
        "outbox_id": row["outbox_id"],
        "contact_id": row.get("contact_id"),
        "email": row["email"],
        "bounce_class": row.get("bounce_class"),
        "reason": row.get("reason"),
        "user_agent": (user_agent[:USER_AGENT_LIMIT] or None) if user_agent else None,
        "target_link_url": row.get("target_link_url"),
    }


def record_events(
    conn: Connection,
    campaign_id: str,
    rows: Iterable[dict[str, Any]],
    event_type: str,
    at: datetime,
) -> None:
    """One ``event_type`` event per row (``outbox_id``, ``email``; optionally ``contact_id``,
    ``bounce_class``, ``reason``, ``user_agent``, ``machine``, ``target_link_url``), in one
    statement."""
    insert_events(conn, [event_values(campaign_id, row, event_type, at) for row in rows])


def record_events_by_type(
    conn: Connection,
    campaign_id: str,
    by_type: dict[str, list[dict[str, Any]]],
    at: datetime,
) -> None:
    """``record_events`` for several event types (type → rows) in one statement, in the order
    given."""
    insert_events(
        conn,
        [
            event_values(campaign_id, row, event_type, at)
            for event_type, rows in by_type.items()
            for row in rows
        ],
    )


def insert_events(conn: Connection, values: Sequence[dict[str, Any]]) -> None:
    """Events made by ``event_values`` (of any campaigns, types and times), in one statement."""
    if values:
        conn.execute(events.insert(), list(values))


def record_event_once(
    conn: Connection, campaign_id: str, row: dict[str, Any], event_type: str, at: datetime
) -> bool:
    """The row's ``event_type`` event unless the row has one already: one conditional
    ``INSERT … SELECT … WHERE NOT EXISTS``, so the check and the write are one statement.
    True when it wrote the event."""
    values = event_values(campaign_id, row, event_type, at)
    already = (
        sa.select(events.c.id)
        .where(events.c.outbox_id == row["outbox_id"], events.c.event_type == event_type)
        .exists()
    )
    source = sa.select(
        *(sa.literal(value, events.c[name].type).label(name) for name, value in values.items())
    ).where(~already)
    result = conn.execute(events.insert().from_select(list(values), source))
    return bool(result.rowcount)


def drop_events(conn: Connection, ids: Sequence[int]) -> None:
    """Delete events by id (the archive, once it has kept them elsewhere)."""
    if ids:
        conn.execute(events.delete().where(events.c.id.in_(list(ids))))


# -- a contact's status, and its opt-outs ------------------------------------------------------

SUBSCRIBED = "subscribed"
UNVERIFIED = "unverified"  # added with double opt-in, not confirmed yet
UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"
COMPLAINED = "complained"
OPTED_OUT = frozenset({UNSUBSCRIBED, BOUNCED, COMPLAINED})
NEEDS_FORCE = frozenset({BOUNCED, COMPLAINED})  # re-subscribing needs --force

# The activity kinds of a status change (reference §8).
STATUS_SUBSCRIBED = "subscribed"
STATUS_UNSUBSCRIBED = "unsubscribed"
STATUS_CHANGED = "status_changed"  # between two statuses that are neither `subscribed`


def status_event(old: str, new: str) -> tuple[str, str] | None:
    """The (kind, detail) logged when a contact's status goes from ``old`` to ``new``."""
    if old == new:
        return None
    if new == SUBSCRIBED:
        kind = STATUS_SUBSCRIBED
    elif old == SUBSCRIBED:
        kind = STATUS_UNSUBSCRIBED
    else:
        kind = STATUS_CHANGED
    return kind, f"status {old} → {new}"


def may_opt_out(old: str, new: str) -> bool:
    """Whether an opt-out ``new`` recorded by a send, tracking or feedback replaces ``old``:
    an unsubscribe only a subscribed contact; a bounce any contact not opted out already;
    a complaint any contact not complained already (it is the strongest)."""
    if new == UNSUBSCRIBED:
        return old == SUBSCRIBED
    if new == BOUNCED:
        return old not in OPTED_OUT
    if new == COMPLAINED:
        return old != COMPLAINED
    raise ValueError(f"not an opt-out: {new}")


def opt_out(
    conn: Connection,
    contact_id: str,
    new: str,
    now: datetime,
    *,
    note: str | None = None,
    email: str | None = None,
) -> bool:
    """Record the opt-out ``new`` on the contact when ``may_opt_out`` allows it, with its
    activity entry (``note`` appended to the detail). The update is conditional on the status
    read (``WHERE id = :id AND status = :old``, rowcount checked), so a change made meanwhile
    is never overwritten. With ``email`` (the address the message went to), a contact deleted
    since keeps the opt-out as a suppression entry (``suppress_address``). True when this call
    changed the contact; False when it is missing, already opted out, or changed meanwhile.

    Admin writes read a contact's status and write from it (an import's merge, a delete that
    keeps the opt-out as a suppression): on PostgreSQL an opt-out takes the store's write lock
    first (``take_write_lock``), so that they never overwrite or lose it."""
    take_write_lock(conn)
    old = conn.execute(sa.select(contacts.c.status).where(contacts.c.id == contact_id)).scalar()
    if old is None:
        if email is not None:
            suppress_address(conn, email, new, now)
        return False
    if not may_opt_out(str(old), new):
        return False
    changed = conn.execute(
        contacts.update()
        .where(contacts.c.id == contact_id, contacts.c.status == old)
        .values(status=new, updated_at=now)
    ).rowcount
    change = status_event(str(old), new)
    if not changed or change is None:
        return False
    detail = change[1] if note is None else f"{change[1]} ({note})"
    conn.execute(
        activity.insert().values(contact_id=contact_id, kind=change[0], detail=detail, at=now)
    )
    return True


def confirm_opt_in(conn: Connection, contact_id: str, now: datetime, *, source: str) -> bool:
    """A double opt-in confirmation: an ``unverified`` contact becomes ``subscribed``, with a
    ``status_changed`` activity entry naming ``source`` (issue 19). Conditional on the status
    (``WHERE status = 'unverified'``, rowcount checked): True when this call confirmed it;
    False when the contact is gone or is not unverified (confirmed already, or changed)."""
    changed = conn.execute(
        contacts.update()
        .where(contacts.c.id == contact_id, contacts.c.status == UNVERIFIED)
        .values(status=SUBSCRIBED, updated_at=now)
    ).rowcount
    if not changed:
        return False
    detail = f"status {UNVERIFIED} → {SUBSCRIBED} (double opt-in confirmed: {source})"
    conn.execute(
        activity.insert().values(contact_id=contact_id, kind=STATUS_CHANGED, detail=detail, at=now)
    )
    return True


def change_status(session: Session, contact: Contact, new: str) -> None:
    """`contact edit --status`: the contact's new status and its activity entry (the caller
    checked the status and the --force rules)."""
    change = status_event(contact.status, new)
    if change is not None:
        session.add(Activity(contact_id=contact.id, kind=change[0], detail=change[1], at=utcnow()))
    contact.status = new


_MERGE_CONTACT = (
    contacts.update()
    .where(contacts.c.id == sa.bindparam("b_id"))
    .values(
        status=sa.bindparam("b_status"),
        properties=sa.bindparam("b_properties", type_=JSON_TYPE),
        properties_folded=sa.bindparam("b_folded", type_=JSON_TYPE),
        updated_at=sa.bindparam("b_now", type_=UTCDateTime),
    )
)


def merge_contacts(conn: Connection, changes: list[dict[str, Any]], now: datetime) -> None:
    """An import's batch of merged contacts (``b_id``, ``b_status``, ``b_properties``,
    ``b_folded``) in one statement. The import logged the status changes with
    ``status_event`` and never re-subscribes a contact (``import_updates``)."""
    if changes:
        conn.execute(_MERGE_CONTACT, [{**change, "b_now": now} for change in changes])


# -- suppressions ---------------------------------------------------------------------------


def suppress_address(conn: Connection, email: str, status: str, now: datetime) -> bool:
    """Keep the opt-out ``status`` of an address whose contact is gone (an unsubscribe link of
    a deleted contact); an existing entry is kept as it is. True when this call added one."""
    key = email_key(email)
    if conn.execute(sa.select(suppressions).where(suppressions.c.email_key == key)).first():
        return False
    conn.execute(suppressions.insert().values(email_key=key, status=status, created_at=now))
    return True


def keep_opt_out(session: Session, contact: Contact) -> None:
    """Before an opted-out contact is deleted: its address stays suppressed, with its status."""
    if contact.status not in OPTED_OUT:
        return
    entry = session.get(Suppression, contact.email_key) or Suppression(
        email_key=contact.email_key, status=contact.status, created_at=utcnow()
    )
    entry.status = contact.status
    session.add(entry)


def suppression_of(session: Session, key: str) -> Suppression | None:
    return session.get(Suppression, key)


def lift_suppression(session: Session, key: str) -> bool:
    """Delete the address's suppression entry (a forced re-subscribe, an erasure); True when
    there was one."""
    entry = session.get(Suppression, key)
    if entry is None:
        return False
    session.delete(entry)
    return True
