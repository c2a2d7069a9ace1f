"""What the tracking server writes: opens, clicks and unsubscribes of one outbox row
(CONTRACT "Tracking", DESIGN "Tracking, feedback, analytics").

Each is one short transaction: the event, the campaign's counters (an unsubscribe's method too),
a click's count for its row and URL, and for the unique counters the row's first-open /
first-click time, set only while it is empty (so counters survive the event archive and a replay
counts once). No web imports here.

On PostgreSQL they take row locks only (``ROWS``, ``store.server``), under READ COMMITTED, and
stay correct without the store's write lock: a counter is added to in one statement; a first
time is set by ``UPDATE … WHERE first_… IS NULL``, which a concurrent writer of the same row
waits for and then sees, so a unique open, click or unsubscribe counts once; a click's record
for its row and URL may be made twice by two servers at once and still adds up (the report sums
them). An unsubscribe's opt-out takes the write lock where it happens (``ledger.opt_out``).
A deadlock or lock timeout is run again (``Store.transact``), then is ``StoreBusy``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from lettr_cli import ledger
from lettr_cli.errors import StoreUnavailable
from lettr_cli.store.engine import Store
from lettr_cli.store.failures import is_busy
from lettr_cli.store.tables import UNSUBSCRIBE_COUNTERS, LinkClick, OutboxRow, table_of

outbox = table_of(OutboxRow)
link_clicks = table_of(LinkClick)

LIST_UNSUBSCRIBE = "list_unsubscribe"  # RFC 8058 one-click, from the List-Unsubscribe header
LINK_UNSUBSCRIBE = "link_unsubscribe"  # the confirm page reached from the body's link
UNSUBSCRIBE_METHODS = (LIST_UNSUBSCRIBE, LINK_UNSUBSCRIBE)
USER_AGENT_LIMIT = ledger.USER_AGENT_LIMIT

# CONTRACT "Tracking": opens made by machines, not people. Substrings of the User-Agent:
# Gmail's and Yahoo's image proxies fetch every image when a message arrives or is opened.
PROXY_AGENTS = ("GoogleImageProxy", "YahooMailProxy")
# Microsoft's fetchers that are known not to be a person reading: Bing's link and page preview
# crawler (used by Outlook.com and Teams previews) and Office's hyperlink existence check. Kept
# short on purpose: Outlook itself ("Microsoft Office/16.0 … Microsoft Outlook") is a person.
MICROSOFT_SCANNER_AGENTS = ("BingPreview", "Microsoft Office Existence Discovery")
BARE_AGENT = "Mozilla/5.0"  # exactly this: Apple Mail Privacy Protection and others
APPLE_PROXY = ipaddress.ip_network("17.0.0.0/8")


class StoreBusy(StoreUnavailable):
    """Another writer held the store for longer than ``store.busy_timeout``: the store could not
    be written (CONTRACT's ``store_unavailable``)."""


@dataclass(frozen=True)
class Recipient:
    """One outbox row as the tracking server needs it."""

    row_id: int
    campaign_id: str
    contact_id: str
    email: str
    merge_values: dict[str, Any]
    accepted_at: datetime | None
    unsubscribed_at: datetime | None


# What a ``Recipient`` is read from.
RECIPIENT_COLUMNS = (
    outbox.c.id,
    outbox.c.campaign_id,
    outbox.c.contact_id,
    outbox.c.email,
    outbox.c.merge_values,
    outbox.c.accepted_at,
    outbox.c.unsubscribed_at,
)
_FIND_ROW = sa.select(*RECIPIENT_COLUMNS).where(outbox.c.id == sa.bindparam("b_row_id"))


def find_row(store: Store, row_id: int) -> Recipient | None:
    with store.connect() as conn, conn.begin():
        return find_row_in(conn, row_id)


def find_row_in(conn: Connection, row_id: int) -> Recipient | None:
    """The row as the tracking server needs it, read on ``conn`` (inside its transaction)."""
    row = conn.execute(_FIND_ROW, {"b_row_id": row_id}).first()
    return None if row is None else recipient_of(row)


def recipient_of(row: Any) -> Recipient:
    """The ``Recipient`` of a row read with ``RECIPIENT_COLUMNS``."""
    return Recipient(
        row_id=int(row.id),
        campaign_id=str(row.campaign_id),
        contact_id=str(row.contact_id),
        email=str(row.email),
        merge_values=dict(row.merge_values or {}),
        accepted_at=row.accepted_at,
        unsubscribed_at=row.unsubscribed_at,
    )


def is_machine_open(
    user_agent: str,
    address: str | None,
    accepted_at: datetime | None,
    now: datetime,
    machine_seconds: int,
) -> bool:
    """CONTRACT "Tracking": proxies, a bare ``Mozilla/5.0``, Apple's network, Microsoft's
    scanners, or an open within ``tracking.machine_open_seconds`` of the relay's acceptance."""
    if any(part in user_agent for part in PROXY_AGENTS + MICROSOFT_SCANNER_AGENTS):
        return True
    if user_agent.strip() == BARE_AGENT:
        return True
    if address:
        try:
            if ipaddress.ip_address(address) in APPLE_PROXY:
                return True
        except ValueError:
            pass
    return (
        accepted_at is not None
        and machine_seconds > 0
        and now - accepted_at < timedelta(seconds=machine_seconds)
    )


def record_open(
    store: Store, row: Recipient, user_agent: str, machine: bool, now: datetime
) -> None:
    write_now(store, lambda conn: open_in(conn, row, user_agent, machine, now))


def open_in(
    conn: Connection, row: Recipient, user_agent: str, machine: bool, now: datetime
) -> None:
    """The open of ``row``, written on ``conn`` (inside the caller's write transaction)."""
    first = "first_machine_open_at" if machine else "first_open_at"
    total, unique = (
        ("machine_opens", "unique_machine_opens") if machine else ("opens", "unique_opens")
    )
    counters = {total: 1}
    if _set_first(conn, row.row_id, first, now):
        counters[unique] = 1
    ledger.add_counters(conn, row.campaign_id, counters, now)
    _event(conn, row, "open", now, user_agent=user_agent, machine=machine)


@dataclass(frozen=True)
class Open:
    """An open as the tracking server received it, before its row is read: what the writer
    records (``open_of``)."""

    row_id: int
    user_agent: str
    address: str | None
    now: datetime
    machine_seconds: int


def open_of(conn: Connection, seen: Open) -> bool:
    """Read the open's row and record the open (a machine's or a person's, by
    ``is_machine_open``) on ``conn``; False when the row does not exist."""
    row = find_row_in(conn, seen.row_id)
    if row is None:
        return False
    machine = is_machine_open(
        seen.user_agent, seen.address, row.accepted_at, seen.now, seen.machine_seconds
    )
    open_in(conn, row, seen.user_agent, machine, seen.now)
    return True


def record_click(store: Store, row: Recipient, url: str, user_agent: str, now: datetime) -> None:
    write_now(store, lambda conn: click_in(conn, row, url, user_agent, now))


def click_in(conn: Connection, row: Recipient, url: str, user_agent: str, now: datetime) -> None:
    """The click of ``url`` by ``row``, written on ``conn`` (inside the caller's transaction)."""
    counters = {"clicks": 1}
    if _set_first(conn, row.row_id, "first_click_at", now):
        counters["unique_clicks"] = 1
    ledger.add_counters(conn, row.campaign_id, counters, now)
    _count_link(conn, row, url)
    _event(conn, row, "click", now, user_agent=user_agent, target_link_url=url)


# Statements built once (the writer runs them for every request of a burst).
_COUNT_LINK = (
    link_clicks.update()
    .where(
        link_clicks.c.outbox_id == sa.bindparam("b_row_id"),
        link_clicks.c.url == sa.bindparam("b_url"),
    )
    .values(clicks=link_clicks.c.clicks + 1)
)
_FIRST_LINK = link_clicks.insert().values(
    campaign_id=sa.bindparam("b_campaign_id"),
    outbox_id=sa.bindparam("b_row_id"),
    url=sa.bindparam("b_url"),
    clicks=1,
)
_SET_FIRST = {
    column: outbox.update()
    .where(outbox.c.id == sa.bindparam("b_row_id"), outbox.c[column].is_(None))
    .values({column: sa.bindparam("b_now", type_=outbox.c[column].type)})
    for column in ("first_open_at", "first_machine_open_at", "first_click_at", "unsubscribed_at")
}


def _count_link(conn: Connection, row: Recipient, url: str) -> None:
    """One more click of ``url`` by the row. Inside the write transaction, so on SQLite (one
    writer) the row and URL get one record; a second record made by a race elsewhere would
    still add up right (the report sums clicks and counts distinct rows)."""
    found = {"b_row_id": row.row_id, "b_url": url}
    if not conn.execute(_COUNT_LINK, found).rowcount:
        conn.execute(_FIRST_LINK, {**found, "b_campaign_id": row.campaign_id})


def unsubscribe(store: Store, row: Recipient, method: str, user_agent: str, now: datetime) -> bool:
    """Unsubscribe the row's contact (globally). The first unsubscribe of a row counts in the
    campaign's ``unsubscribes`` and in its method's counter, and writes its event; a repeat
    changes nothing more. Returns whether this one counted. Raises ``StoreBusy`` when the store
    stays locked; returning means the write is committed."""
    if method not in UNSUBSCRIBE_METHODS:
        raise ValueError(f"not an unsubscribe method: {method}")
    counted = False

    def write(conn: Connection) -> None:
        nonlocal counted
        counted = unsubscribe_in(conn, row, method, user_agent, now)

    write_now(store, write)
    return counted


def unsubscribe_in(
    conn: Connection, row: Recipient, method: str, user_agent: str, now: datetime
) -> bool:
    """``unsubscribe`` written on ``conn``, inside the caller's write transaction: the caller
    answers only once that transaction is committed."""
    if method not in UNSUBSCRIBE_METHODS:
        raise ValueError(f"not an unsubscribe method: {method}")
    counted = _set_first(conn, row.row_id, "unsubscribed_at", now)
    if counted:
        counters = {"unsubscribes": 1, UNSUBSCRIBE_COUNTERS[method]: 1}
        ledger.add_counters(conn, row.campaign_id, counters, now)
        _event(conn, row, method, now, user_agent=user_agent)
    _unsubscribe_contact(conn, row, method, now)
    return counted


def unsubscribe_of(
    conn: Connection, row_id: int, method: str, user_agent: str, now: datetime
) -> Recipient | None:
    """Read the row and unsubscribe it on ``conn``; the row (None when it does not exist)."""
    row = find_row_in(conn, row_id)
    if row is not None:
        unsubscribe_in(conn, row, method, user_agent, now)
    return row


def _unsubscribe_contact(conn: Connection, row: Recipient, method: str, now: datetime) -> None:
    """Only a subscribed contact becomes unsubscribed; one deleted since the send keeps the
    opt-out as a suppression entry, in case the address comes back."""
    note = f"{method}, campaign {row.campaign_id}"
    ledger.opt_out(conn, row.contact_id, ledger.UNSUBSCRIBED, now, note=note, email=row.email)


def _set_first(conn: Connection, row_id: int, column: str, now: datetime) -> bool:
    """Set the row's ``column`` if it is empty; True when this call set it."""
    result = conn.execute(_SET_FIRST[column], {"b_row_id": row_id, "b_now": now})
    return bool(result.rowcount)


def _event(
    conn: Connection,
    row: Recipient,
    event_type: str,
    now: datetime,
    *,
    user_agent: str,
    machine: bool = False,
    target_link_url: str | None = None,
) -> None:
    event = {
        "outbox_id": row.row_id,
        "contact_id": row.contact_id,
        "email": row.email,
        "user_agent": user_agent,
        "machine": machine,
        "target_link_url": target_link_url,
    }
    ledger.record_events(conn, row.campaign_id, [event], event_type, now)


def write_now(store: Store, work: Any) -> None:
    """Run ``work`` in one short transaction (row locks only on PostgreSQL), again when the
    store was busy; ``StoreBusy`` when it stays locked past ``store.busy_timeout``. Returning
    means the write is committed."""
    try:
        store.transact(work)
    except (OperationalError, StoreUnavailable) as exc:
        busy = busy_error(store, exc)
        if busy is None:
            raise
        raise busy from None


def busy_error(store: Store, exc: Exception) -> StoreBusy | None:
    """``StoreBusy`` when ``exc`` says the store stayed locked (SQLite's "locked", PostgreSQL's
    lock timeout, deadlock or serialization failure); None for any other error."""
    if is_busy(exc):
        return StoreBusy(f"the store stayed busy for {store.busy_timeout:g} s (store.busy_timeout)")
    return None
