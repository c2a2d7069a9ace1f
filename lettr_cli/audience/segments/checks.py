"""Conditions checked against the store: known fields, operators that fit the type, valid values.

Everything an operator can get wrong is refused here, when a segment is saved or previewed, so
that evaluation never meets a bad condition. Values are stored in a canonical form: numbers as
written by Python, dates as ``YYYY-MM-DD`` (or a UTC timestamp for ``created_at``), statuses in
lower case, lists and topics by id (so that renaming one never breaks a segment).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from lettr_cli.audience import groups
from lettr_cli.audience.contacts import STATUSES
from lettr_cli.audience.excerpts import clipped
from lettr_cli.audience.properties import InvalidValue, all_properties, coerce
from lettr_cli.audience.segments.engagement_values import (
    campaign_names,
    engagement_value,
    is_engagement,
)
from lettr_cli.audience.segments.model import (
    ACTIVITY,
    BUILT_IN_FIELDS,
    CAMPAIGN,
    DATE,
    LIST,
    MAX_VALUE,
    NO_VALUE,
    NUMBER,
    OPERATORS,
    PROPERTY_PREFIX,
    RECENCY,
    STATUS,
    TOPIC,
    Condition,
    Groups,
    RawCondition,
    Source,
    operators_for,
)
from lettr_cli.store.tables import ContactList, Property, Topic


def check_conditions(
    session: Session, raw_groups: Sequence[Sequence[RawCondition]], source: Source
) -> Groups:
    """Checked, canonical groups; the first problem is refused through ``source``."""
    properties = all_properties(session)
    return tuple(
        tuple(_check(session, raw, properties, source) for raw in group) for group in raw_groups
    )


def field_type(name: str, properties: Mapping[str, Property]) -> str | None:
    """The type of a canonical field; None for an unknown one."""
    if name in BUILT_IN_FIELDS and not (is_engagement(name) and name in properties):
        return BUILT_IN_FIELDS[name]
    prop = properties.get(name)
    return prop.type if prop else None


def _check(
    session: Session, raw: RawCondition, properties: Mapping[str, Property], source: Source
) -> Condition:
    field = _field(raw, properties, source)
    kind = field_type(field, properties)
    assert kind is not None  # _field refused unknown fields
    operator = raw.operator
    if operator not in OPERATORS:
        close = difflib.get_close_matches(operator, list(OPERATORS), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; one of: {', '.join(OPERATORS)}"
        shown = clipped(operator, 60)
        raise source.refuse(raw, "operator", f"unknown operator '{shown}'{hint}")
    built_in = field in BUILT_IN_FIELDS and kind == BUILT_IN_FIELDS[field]
    what = f"{field} (a {kind} {'field' if built_in else 'property'})"
    if kind not in OPERATORS[operator]:
        fitting = ", ".join(operators_for(kind))
        raise source.refuse(
            raw, "operator", f"'{operator}' does not apply to {what}; use one of: {fitting}"
        )
    if operator in NO_VALUE:
        if raw.value is not None:
            raise source.refuse(raw, "value", f"'{operator}' takes no value")
        return Condition(field, operator, None)
    if raw.value is None:
        raise source.refuse(raw, "value", f"'{operator}' needs a value")
    if len(raw.value) > MAX_VALUE:
        raise source.refuse(raw, "value", f"a value is at most {MAX_VALUE} characters")
    try:
        value = _value(session, field, kind, raw.value)
    except InvalidValue as exc:
        raise source.refuse(raw, "value", f"{what}: {exc}") from None
    return Condition(field, operator, value)


def _field(raw: RawCondition, properties: Mapping[str, Property], source: Source) -> str:
    name = raw.field.strip().lower()
    if name in BUILT_IN_FIELDS and not (is_engagement(name) and name in properties):
        return name
    bare = name.removeprefix(PROPERTY_PREFIX)
    if bare in properties:
        if properties[bare].type == "json":
            raise source.refuse(
                raw, "field", f"'{bare}' is a json property; segments cannot compare json values"
            )
        return bare
    known = [*BUILT_IN_FIELDS, *properties]
    close = difflib.get_close_matches(bare, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    props = ", ".join(properties) or "none defined"
    raise source.refuse(
        raw,
        "field",
        f"unknown field '{clipped(raw.field, 60)}'; {hint}fields are {', '.join(BUILT_IN_FIELDS)} "
        f"and the properties ({props})",
    )


def _value(session: Session, field: str, kind: str, raw: str) -> str:
    if kind == NUMBER:
        return str(coerce("number", raw))
    if kind in (DATE, ACTIVITY):
        return _timestamp(raw) if field in ("created_at", "last_open") else _date(raw)
    if kind in (CAMPAIGN, RECENCY):
        return engagement_value(session, kind, raw)
    if kind == STATUS:
        status = raw.strip().lower()
        if status not in STATUSES:
            raise InvalidValue(f"'{clipped(raw)}' is not a status ({', '.join(STATUSES)})")
        return status
    if kind in (LIST, TOPIC):
        return _group_id(session, kind, raw)
    return raw


def _date(raw: str) -> str:
    text = raw.strip()
    if len(text) == 10:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise InvalidValue(f"'{clipped(raw)}' is not a date (YYYY-MM-DD)")


def _timestamp(raw: str) -> str:
    """A date (midnight UTC) or an ISO 8601 time with an offset, in canonical form."""
    text = raw.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidValue(
            f"'{clipped(raw)}' is not a date (YYYY-MM-DD) or a time with an offset "
            "(2026-01-31T09:00:00+01:00)"
        )
    return moment.astimezone(UTC).isoformat()


def _group_id(session: Session, kind: str, raw: str) -> str:
    found: ContactList | Topic | None
    if kind == LIST:
        by_name = select(ContactList).where(ContactList.name == raw)
        found = session.get(ContactList, raw) or session.exec(by_name).first()
    else:
        found = (
            session.get(Topic, raw) or session.exec(select(Topic).where(Topic.name == raw)).first()
        )
    if found is None:
        raise InvalidValue(f"there is no {kind} named '{clipped(raw)}' (nor with that id)")
    return found.id


def display_groups(session: Session, conditions: Groups) -> list[list[tuple[str, str, str | None]]]:
    """The groups with list and topic names in place of ids, for the text form."""
    names = {
        g.id: g.name
        for kind in (groups.LISTS, groups.TOPICS)
        for g in groups.listing(session, kind)
    }

    campaigns = campaign_names(session, conditions)

    def shown(condition: Condition) -> str | None:
        if condition.field in ("lists", "topics") and condition.value is not None:
            return names.get(condition.value, condition.value)
        if condition.operator in ("is", "is_not") and condition.value in campaigns:
            return campaigns[condition.value]
        return condition.value

    return [[(c.field, c.operator, shown(c)) for c in group] for group in conditions]
