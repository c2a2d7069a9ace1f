"""A group of the hot endpoints' writes, written as sets (issue 18, "the tracking server under a
burst").

The writer thread (``tracking.group_writer``) hands a group of opens, clicks and unsubscribes
to ``write_group``, inside its one write transaction. The group's outbox rows are read in one
``SELECT`` (``FOR UPDATE`` on PostgreSQL, in id order, so two servers lock them in the same
order; SQLite has one writer anyway), then each kind is written with one statement per table:
the rows' first-open / first-click times (``executemany``), the campaign's counters (one
``UPDATE`` per campaign), the events (one ``INSERT``) and the clicks per row and URL. What is
recorded is what ``recording.open_in`` and ``recording.click_in`` record one request at a time:
the first open (a person's and a machine's apart) and the first click of a row count in the
unique counters, once, however many the group holds. Unsubscribes are rare and go through
``recording.unsubscribe_in`` one by one (in the same transaction). No web imports here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli import ledger
from lettr_cli.content.html import TrackedLink
from lettr_cli.tracking import recording
from lettr_cli.tracking.recording import Open, Recipient, is_machine_open, link_clicks, outbox

LinksOf = Callable[[Recipient], "tuple[TrackedLink, ...] | None"]
FIRSTS = ("first_open_at", "first_machine_open_at", "first_click_at")


@dataclass(frozen=True)
class Click:
    """A click as the server received it: link ``number`` (from 1) of the row's message."""

    row_id: int
    number: int
    user_agent: str
    now: datetime


@dataclass(frozen=True)
class Unsubscribe:
    """An unsubscribe (``method``: one of ``recording.UNSUBSCRIBE_METHODS``) of a row."""

    row_id: int
    method: str
    user_agent: str
    now: datetime


Item = Open | Click | Unsubscribe

_READ = (
    sa.select(*recording.RECIPIENT_COLUMNS, *(outbox.c[column] for column in FIRSTS))
    .where(outbox.c.id.in_(sa.bindparam("b_ids", expanding=True)))
    .order_by(outbox.c.id)
    .with_for_update()  # rendered on PostgreSQL only
)
_SET_FIRST = {
    column: outbox.update()
    .where(outbox.c.id == sa.bindparam("b_row_id"), outbox.c[column].is_(None))
    .values({column: sa.bindparam("b_now", type_=outbox.c[column].type)})
    for column in FIRSTS
}
_LINKS_OF_ROWS = sa.select(link_clicks.c.outbox_id, link_clicks.c.url).where(
    link_clicks.c.outbox_id.in_(sa.bindparam("b_ids", expanding=True))
)
_ADD_LINK_CLICKS = (
    link_clicks.update()
    .where(
        link_clicks.c.outbox_id == sa.bindparam("b_row_id"),
        link_clicks.c.url == sa.bindparam("b_url"),
    )
    .values(clicks=link_clicks.c.clicks + sa.bindparam("b_clicks"))
)
_FIRST_LINK_CLICKS = link_clicks.insert().values(
    campaign_id=sa.bindparam("b_campaign_id"),
    outbox_id=sa.bindparam("b_row_id"),
    url=sa.bindparam("b_url"),
    clicks=sa.bindparam("b_clicks"),
)


@dataclass
class _Row:
    recipient: Recipient
    firsts: dict[str, bool]  # column → empty (not set before, nor earlier in this group)


class _Group:
    """What a group writes, gathered request by request, then written as sets."""

    def __init__(self) -> None:
        self.firsts: dict[str, list[dict[str, Any]]] = {column: [] for column in FIRSTS}
        self.counters: dict[str, Counter[str]] = {}
        self.latest: dict[str, datetime] = {}
        self.events: list[dict[str, Any]] = []
        self.links: Counter[tuple[int, str, str]] = Counter()  # (row, campaign, url) → clicks

    def first(self, row: _Row, column: str, now: datetime) -> bool:
        if not row.firsts[column]:
            return False
        row.firsts[column] = False
        self.firsts[column].append({"b_row_id": row.recipient.row_id, "b_now": now})
        return True

    def count(self, campaign_id: str, now: datetime, *names: str) -> None:
        self.counters.setdefault(campaign_id, Counter()).update(names)
        if campaign_id not in self.latest or now > self.latest[campaign_id]:
            self.latest[campaign_id] = now

    def event(self, row: Recipient, kind: str, now: datetime, **values: Any) -> None:
        found = {"outbox_id": row.row_id, "contact_id": row.contact_id, "email": row.email}
        self.events.append(ledger.event_values(row.campaign_id, {**found, **values}, kind, now))

    def write(self, conn: Connection) -> None:
        for column, params in self.firsts.items():
            if params:
                conn.execute(_SET_FIRST[column], params)
        # In id order, as the rows were locked: two servers' groups never wait on each other in
        # opposite orders (PostgreSQL would roll one back as a deadlock, to be run again).
        for campaign_id, counts in sorted(self.counters.items()):
            ledger.add_counters(conn, campaign_id, dict(counts), self.latest[campaign_id])
        if self.links:
            rows = sorted({row_id for row_id, _, _ in self.links})
            known = {
                (int(r.outbox_id), str(r.url))
                for r in conn.execute(_LINKS_OF_ROWS, {"b_ids": rows})
            }
            more, new = [], []
            for (row_id, campaign_id, url), clicks in self.links.items():
                found = {"b_row_id": row_id, "b_url": url, "b_clicks": clicks}
                if (row_id, url) in known:
                    more.append(found)
                else:
                    new.append({**found, "b_campaign_id": campaign_id})
            if more:
                conn.execute(_ADD_LINK_CLICKS, more)
            if new:
                conn.execute(_FIRST_LINK_CLICKS, new)
        ledger.insert_events(conn, self.events)


def write_group(conn: Connection, items: Sequence[Item], links_of: LinksOf) -> list[Any]:
    """Write ``items`` on ``conn`` (inside the caller's write transaction); one result each:
    an open's whether its row exists, a click's URL to redirect to (None: no such row or
    link), an unsubscribe's row (None: no such row)."""
    ids = sorted({item.row_id for item in items})
    rows: dict[int, _Row] = {}
    for found in conn.execute(_READ, {"b_ids": ids}) if ids else ():
        recipient = recording.recipient_of(found)
        firsts = {column: getattr(found, column) is None for column in FIRSTS}
        rows[recipient.row_id] = _Row(recipient, firsts)
    group = _Group()
    results: list[Any] = []
    for item in items:
        row = rows.get(item.row_id)
        if isinstance(item, Open):
            results.append(row is not None and _open(group, row, item))
        elif isinstance(item, Click):
            results.append(None if row is None else _click(group, row, item, links_of))
        elif row is None:
            results.append(None)
        else:
            recording.unsubscribe_in(conn, row.recipient, item.method, item.user_agent, item.now)
            results.append(row.recipient)
    group.write(conn)
    return results


def _open(group: _Group, row: _Row, seen: Open) -> bool:
    """``recording.open_of``, gathered into the group."""
    recipient = row.recipient
    machine = is_machine_open(
        seen.user_agent, seen.address, recipient.accepted_at, seen.now, seen.machine_seconds
    )
    column, total, unique = (
        ("first_machine_open_at", "machine_opens", "unique_machine_opens")
        if machine
        else ("first_open_at", "opens", "unique_opens")
    )
    names = (total, unique) if group.first(row, column, seen.now) else (total,)
    group.count(recipient.campaign_id, seen.now, *names)
    group.event(recipient, "open", seen.now, user_agent=seen.user_agent, machine=machine)
    return True


def _click(group: _Group, row: _Row, seen: Click, links_of: LinksOf) -> str | None:
    """The URL link ``seen.number`` of the row's message leads to (its click gathered into the
    group, as ``recording.click_in`` records it, unless it is one of lettr's own pages); None
    when the message has no such link."""
    recipient = row.recipient
    links = links_of(recipient)
    if links is None or seen.number > len(links):
        return None
    link = links[seen.number - 1]
    if not link.own:
        written = link.as_written  # the report counts links as the content has them
        first = group.first(row, "first_click_at", seen.now)
        group.count(
            recipient.campaign_id, seen.now, "clicks", *(("unique_clicks",) if first else ())
        )
        group.links[(recipient.row_id, recipient.campaign_id, written)] += 1
        group.event(
            recipient, "click", seen.now, user_agent=seen.user_agent, target_link_url=written
        )
    return link.url
