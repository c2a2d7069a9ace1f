"""The event feed of a campaign: filters with Lettr's inclusive bounds and cursor paging
(reference §17 "GET /campaigns/{id}/events"; CONTRACT "Objects": Event).

Events come in a stable order, by time then by row id. A cursor is opaque to the caller: the
URL-safe base64 of the last event's (time, row id); paging from it gives every later event once,
with no duplicates and no gaps, even when events are added meanwhile at later times.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lettr_cli.addressing.addresses import lookup_key
from lettr_cli.errors import ValidationError
from lettr_cli.settings import find_zone
from lettr_cli.store.tables import Contact, Event, table_of
from lettr_cli.store.types import UTCDateTime

events = table_of(Event)

EVENT_TYPES = (
    "injection", "delivery", "bounce", "spam_complaint", "open", "click",
    "list_unsubscribe", "link_unsubscribe", "topic_opt_in", "topic_opt_out",
)  # fmt: skip
EVENT_KEYS = (
    "event_id", "event_type", "email", "timestamp", "bounce_class", "reason",
    "target_link_url", "user_agent", "machine",
)  # fmt: skip
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_FRACTION = re.compile(r"T\d{2}:\d{2}:\d{2}[.,]\d", re.IGNORECASE)


@dataclass(frozen=True)
class Filters:
    """What ``campaign events`` selects. ``since`` is inclusive; ``before`` is exclusive (an
    inclusive ``--until`` made exclusive: the whole day, or the whole second given)."""

    event_type: str | None = None
    email: str | None = None
    since: datetime | None = None
    before: datetime | None = None


@dataclass(frozen=True)
class Page:
    events: list[dict[str, Any]]
    next_cursor: str | None

    def to_json(self) -> dict[str, Any]:
        return {"events": self.events, "next_cursor": self.next_cursor}


@dataclass(frozen=True)
class FilterNames:
    """What refusals call the filters: the command line's options, or the API's fields."""

    event_type: str
    since: str
    until: str
    prefix: str  # "--" before an option's name; "" before a field's


OPTIONS = FilterNames("type", "since", "until", "--")
API_FIELDS = FilterNames("event_type", "start_date", "end_date", "")


def make_filters(
    event_type: str | None,
    email: str | None,
    since: str | None,
    until: str | None,
    zone: str,
    *,
    names: FilterNames = OPTIONS,
) -> Filters:
    """Check and read the options (or the API's fields: ``names``); a bad one is
    ``validation_error``."""
    if event_type is not None and event_type not in EVENT_TYPES:
        raise ValidationError.field(
            names.event_type,
            f"unknown event type '{event_type}'; one of: {', '.join(EVENT_TYPES)}",
        )
    start = None if since is None else parse_bound(since, names.since, zone, end=False, names=names)
    before = None if until is None else parse_bound(until, names.until, zone, end=True, names=names)
    if start is not None and before is not None and before <= start:
        raise ValidationError.field(
            names.until, f"{names.prefix}{names.until} is before {names.prefix}{names.since}"
        )
    folded = None if email is None or not email.strip() else lookup_key(email.strip())
    return Filters(event_type, folded, start, before)


def parse_bound(
    text: str, field: str, zone: str, *, end: bool, names: FilterNames = OPTIONS
) -> datetime:
    """An ISO 8601 time or a ``YYYY-MM-DD`` date (Lettr: a date is that UTC day, whole).

    As a start, the moment itself; as an end (``end=True``), the exclusive moment just after
    it: the next UTC midnight for a date, the next second for a time given to the second (an
    event at 09:00:00.4 is at "09:00:00", as it is shown). A time without an offset is read in
    ``zone``.
    """
    raw = text.strip()
    if _DATE_ONLY.fullmatch(raw):
        try:
            day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise _bad(field, text, names.prefix) from None
        return day + timedelta(days=1) if end else day
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise _bad(field, text, names.prefix) from None
    if moment.tzinfo is None:
        local = find_zone(zone)
        moment = moment.replace(tzinfo=local or UTC)
    moment = moment.astimezone(UTC)
    if end:
        return moment + (timedelta(microseconds=1) if _FRACTION.search(raw) else _to_second(moment))
    return moment


def _to_second(moment: datetime) -> timedelta:
    return timedelta(seconds=1) - timedelta(microseconds=moment.microsecond)


def _bad(field: str, text: str, prefix: str = "--") -> ValidationError:
    return ValidationError.field(
        field,
        f"{prefix}{field} '{text}' is not a date or time; write YYYY-MM-DD or ISO 8601 "
        "(2026-11-26T09:00:00+00:00)",
    )


def encode_cursor(at: datetime, row_id: int) -> str:
    raw = json.dumps([at.astimezone(UTC).isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor.strip() + "=" * (-len(cursor.strip()) % 4)
        at_text, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None or not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError("not a cursor")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationError.field(
            "cursor", "the cursor is not one lettr gave; page again from the start"
        ) from None
    return at.astimezone(UTC), row_id


def event_json(row: Row[Any]) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "event_type": row.event_type,
        "email": row.email,
        "timestamp": row.at,
        "bounce_class": row.bounce_class,
        "reason": row.reason,
        "target_link_url": row.target_link_url,
        "user_agent": row.user_agent,
        "machine": bool(row.machine),
    }


def _where(campaign_id: str, filters: Filters) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = [events.c.campaign_id == campaign_id]
    if filters.event_type is not None:
        clauses.append(events.c.event_type == filters.event_type)
    if filters.email is not None:
        # Case-insensitive is casefold (CONTRACT): through the contact's stored key, and for
        # contacts deleted since, through the address itself (SQL folds only ASCII there).
        contacts = table_of(Contact)
        clauses.append(
            sa.or_(
                events.c.contact_id.in_(
                    sa.select(contacts.c.id).where(contacts.c.email_key == filters.email)
                ),
                sa.func.lower(events.c.email) == filters.email,
            )
        )
    if filters.since is not None:
        clauses.append(events.c.at >= sa.literal(filters.since, UTCDateTime))
    if filters.before is not None:
        clauses.append(events.c.at < sa.literal(filters.before, UTCDateTime))
    return clauses


def list_events(
    conn: Connection,
    campaign_id: str,
    filters: Filters,
    *,
    limit: int,
    cursor: str | None = None,
) -> Page:
    """One page of at most ``limit`` events (0: all of them) after ``cursor``; ``next_cursor``
    is None when nothing follows."""
    clauses = _where(campaign_id, filters)
    if cursor is not None:
        at, row_id = decode_cursor(cursor)
        after = sa.literal(at, UTCDateTime)
        clauses.append(sa.or_(events.c.at > after, sa.and_(events.c.at == after,
                                                            events.c.id > row_id)))  # fmt: skip
    query = sa.select(events).where(*clauses).order_by(events.c.at, events.c.id)
    if limit:
        query = query.limit(limit + 1)
    rows = list(conn.execute(query))
    more = bool(limit) and len(rows) > limit
    if more:
        rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].at, int(rows[-1].id)) if more else None
    return Page([event_json(row) for row in rows], next_cursor)


def count_events(conn: Connection, campaign_id: str, filters: Filters) -> int:
    query = sa.select(sa.func.count()).where(*_where(campaign_id, filters))
    return int(conn.execute(query).scalar_one())
