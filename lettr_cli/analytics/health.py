"""Audience health (issue "Engagement"): the subscribed contacts of the store, a list or a
segment, counted by when they last opened or clicked.

A contact's last engagement is the latest of: the first person open and the first click of each
message it got (kept on the outbox rows, so they outlive the 30-day event archive), and the
opens by a person and the clicks still in the events. Machine opens (DESIGN "Tracking") never
count. The buckets are disjoint: within 7 days, 8 to 30, 31 to 90, 91 to 180, older, never
(which includes contacts never sent anything).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from lettr_cli.audience import groups
from lettr_cli.audience.counts import subscribed
from lettr_cli.audience.segments.resolve import find_segment, segment_clause
from lettr_cli.audience.segments.sql import Clause, within_list
from lettr_cli.errors import ValidationError
from lettr_cli.store.tables import Contact, Event, OutboxRow, table_of
from lettr_cli.store.types import utcnow

contacts = table_of(Contact)
outbox = table_of(OutboxRow)
events = table_of(Event)


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    days: int | None  # engaged within this many days (None: older, or never)


BUCKETS = (
    Bucket("7d", "within 7 days", 7),
    Bucket("30d", "8-30 days", 30),
    Bucket("90d", "31-90 days", 90),
    Bucket("180d", "91-180 days", 180),
    Bucket("older", "over 180 days", None),
    Bucket("never", "never", None),
)


def _engagements() -> sa.Subquery:
    """(contact_id, at) for every engagement the store remembers."""
    row_times = [
        sa.select(outbox.c.contact_id, outbox.c[column].label("at")).where(
            outbox.c[column].is_not(None)
        )
        for column in ("first_open_at", "first_click_at")
    ]
    recent = sa.select(events.c.contact_id, events.c.at).where(
        events.c.contact_id.is_not(None),
        sa.or_(
            sa.and_(events.c.event_type == "open", events.c.machine.is_(False)),
            events.c.event_type == "click",
        ),
    )
    return sa.union_all(*row_times, recent).subquery("engagements")


def _scope(session: Session, list_name: str | None, segment_name: str | None) -> Clause:
    if list_name is not None and segment_name is not None:
        raise ValidationError.field("scope", "give --list or --segment, not both")
    if list_name is not None:
        return subscribed() & within_list(groups.find(session, groups.LISTS, list_name).id)
    if segment_name is not None:
        return subscribed() & segment_clause(session, find_segment(session, segment_name))
    return subscribed()


def audience_health(
    session: Session,
    *,
    list_name: str | None = None,
    segment_name: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The subscribed contacts in scope (everyone, a list or a segment) by last engagement:
    ``{"scope", "as_of", "total", "buckets": [{"bucket", "label", "contacts", "share"}]}``,
    the buckets in ``BUCKETS`` order, every one present. Unknown names are ``not_found``."""
    now = now or utcnow()
    scope = _scope(session, list_name, segment_name)
    engaged = _engagements()
    last = (
        sa.select(engaged.c.contact_id, sa.func.max(engaged.c.at).label("last"))
        .group_by(engaged.c.contact_id)
        .subquery("last_engagement")
    )
    whens: list[tuple[Any, str]] = [(last.c.last.is_(None), "never")]
    whens += [
        (last.c.last >= now - timedelta(days=b.days), b.key) for b in BUCKETS if b.days is not None
    ]
    bucket = sa.case(*whens, else_="older").label("bucket")
    query = (
        sa.select(bucket, sa.func.count())
        .select_from(contacts.outerjoin(last, last.c.contact_id == contacts.c.id))
        .where(scope)
        .group_by(bucket)
    )
    counted = {str(key): int(n) for key, n in session.connection().execute(query)}
    total = sum(counted.values())
    return {
        "scope": {"list": list_name, "segment": segment_name},
        "as_of": now,
        "total": total,
        "buckets": [
            {
                "bucket": b.key,
                "label": b.label,
                "contacts": counted.get(b.key, 0),
                "share": None if total == 0 else counted.get(b.key, 0) / total,
            }
            for b in BUCKETS
        ],
    }
