"""Engagement conditions as EXISTS over the outbox, read through the store's table definitions.

What counts (README "Engagement"): a row's ``first_open_at`` (machine opens are kept apart, in
``first_machine_open_at``, and never count) or its ``first_click_at`` (a click implies an open);
``received`` is a delivered row (``sent``). ``opened_any``/``clicked_any within Nd`` look for such
a moment in the last N days (``not_within``: find none there); ``last_open`` is the latest of
those moments over every campaign.
A contact who never opened has no ``last_open``: it matches neither ``before`` nor ``after``.
The outbox's unique (campaign_id, contact_id) index and its (contact_id, first_open_at,
first_click_at) index (schema step 14) keep each EXISTS a short index walk.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, not_, or_
from sqlmodel import col

from lettr_cli.audience.segments.model import ACTIVITY, CAMPAIGN, Condition, as_moment
from lettr_cli.store.tables import Contact, OutboxRow
from lettr_cli.store.types import utcnow

Clause = ColumnElement[bool]
DELIVERED = "sent"  # the outbox state of a row the relay accepted
_OPEN = col(OutboxRow.first_open_at)
_CLICK = col(OutboxRow.first_click_at)


def engagement_clause(condition: Condition, kind: str, now: datetime | None = None) -> Clause:
    """The contacts that meet an engagement condition (``kind`` is the field's type)."""
    field, operator, value = condition.field, condition.operator, condition.value or ""
    if kind == CAMPAIGN:
        matched = _any_row(col(OutboxRow.campaign_id) == value, _campaign_test(field))
        return not_(matched) if operator == "is_not" else matched
    if kind == ACTIVITY:
        moment = as_moment(value)
        if operator == "after":
            return _any_row(or_(moment < _OPEN, moment < _CLICK))
        opened_ever = _any_row(or_(_OPEN.is_not(None), _CLICK.is_not(None)))
        return and_(opened_ever, not_(_any_row(or_(moment <= _OPEN, moment <= _CLICK))))
    since = (now or utcnow()) - timedelta(days=int(value.removesuffix("d")))
    if field == "clicked_any":
        recent = _any_row(since <= _CLICK)
    else:
        recent = _any_row(or_(since <= _OPEN, since <= _CLICK))
    return not_(recent) if operator == "not_within" else recent


def _campaign_test(field: str) -> Clause:
    if field == "clicked":
        return _CLICK.is_not(None)
    if field == "received":
        return col(OutboxRow.status) == DELIVERED
    return or_(_OPEN.is_not(None), _CLICK.is_not(None))


def _any_row(*tests: Clause) -> Clause:
    return exists().where(col(OutboxRow.contact_id) == col(Contact.id), *tests)
