"""Custom properties: a name and a type defined once, then a typed value per contact."""

from __future__ import annotations

import json
import keyword
import math
import re
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from lettr_cli.audience.excerpts import clipped
from lettr_cli.audience.in_use import refuse_if_used
from lettr_cli.errors import NotFound, ResourceAlreadyExists, ValidationError
from lettr_cli.store.tables import Contact, Property

PROPERTY_TYPES = ("string", "number", "boolean", "date", "json")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_NAME = 255
MAX_VALUE = 1000
RESERVED_NAMES = frozenset(
    {"email", "status", "created_at", "updated_at", "id", "lists", "topics"}
    | {"unsubscribe_link", "webversion_link", "preferences_link", "confirmation_url"}
    | {word.lower() for word in keyword.kwlist}
    # Jinja's default globals, and the names Jinja gives meaning to inside templates
    | {"range", "dict", "lipsum", "cycler", "joiner", "namespace"}
    | {"loop", "self", "super", "caller", "varargs", "kwargs"}
)
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class InvalidValue(ValueError):
    pass


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name) or len(name) > MAX_NAME:
        raise ValidationError.field(
            "name",
            f"invalid property name '{clipped(name)}': use lower-case letters, digits and _, "
            "starting with a letter",
        )
    if name in RESERVED_NAMES:
        raise ValidationError.field("name", f"'{name}' is a reserved name; choose another")
    return name


def check_type(kind: str) -> str:
    if kind not in PROPERTY_TYPES:
        raise ValidationError.field(
            "type", f"unknown property type '{kind}'; one of: {', '.join(PROPERTY_TYPES)}"
        )
    return kind


def coerce(kind: str, raw: str) -> Any:
    """The typed value of ``raw`` for a property of type ``kind``; raises ``InvalidValue``."""
    text = raw.strip()
    if len(raw) > MAX_VALUE:
        raise InvalidValue(f"longer than {MAX_VALUE} characters")
    if kind == "string":
        return raw
    if kind == "number":
        if not _NUMBER.match(text):
            raise InvalidValue(f"'{clipped(raw)}' is not a number (use . for decimals)")
        number = float(text)
        if not math.isfinite(number):
            raise InvalidValue(f"'{clipped(raw)}' is not a finite number")
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "boolean":
        word = text.lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise InvalidValue(f"'{clipped(raw)}' is not a boolean (true/false, 1/0, yes/no)")
    if kind == "date":
        return _iso_date(raw)
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise InvalidValue(f"not valid JSON: {exc}") from None
        except RecursionError:
            raise InvalidValue("not valid JSON: nested too deeply") from None
    raise AssertionError(kind)


def _iso_date(raw: str) -> str:
    text = raw.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        raise InvalidValue(f"'{clipped(raw)}' is not an ISO 8601 date (YYYY-MM-DD)") from None


def folded(value: Any) -> Any:
    """What segments compare case-insensitively: strings casefolded, other values left out."""
    return value.casefold() if isinstance(value, str) else None


def property_json(prop: Property) -> dict[str, Any]:
    return {
        "id": prop.id,
        "name": prop.name,
        "type": prop.type,
        "fallback_value": prop.fallback_value,
    }


def _check_fallback(kind: str, fallback: str | None) -> str | None:
    if fallback is None:
        return None
    try:
        coerce(kind, fallback)
    except InvalidValue as exc:
        raise ValidationError.field("fallback_value", f"fallback for a {kind}: {exc}") from None
    if len(fallback) > MAX_NAME:
        raise ValidationError.field("fallback_value", "a fallback is at most 255 characters")
    return fallback


def create_property(session: Session, name: str, kind: str, fallback: str | None) -> Property:
    check_name(name)
    check_type(kind)
    if session.exec(select(Property).where(Property.name == name)).first():
        raise ResourceAlreadyExists(f"a property named '{name}' already exists")
    prop = Property(name=name, type=kind, fallback_value=_check_fallback(kind, fallback))
    session.add(prop)
    session.flush()
    return prop


def get_property(session: Session, name: str) -> Property:
    prop = session.exec(select(Property).where(Property.name == name)).first()
    if prop is None:
        raise NotFound(f"no property named '{name}'")
    return prop


def all_properties(session: Session) -> dict[str, Property]:
    return {p.name: p for p in session.exec(select(Property).order_by(col(Property.name)))}


def update_fallback(session: Session, name: str, fallback: str | None) -> Property:
    prop = get_property(session, name)
    prop.fallback_value = _check_fallback(prop.type, fallback)
    session.add(prop)
    return prop


def deletable_property(session: Session, name: str) -> Property:
    """The property called ``name``, unless a segment's conditions refer to it."""
    prop = get_property(session, name)
    refuse_if_used(session, "property", name, property_name=name)
    return prop


def delete_property(session: Session, name: str) -> str:
    """Delete a property and its value on every contact (recreating it must not revive them).

    Refused (``resource_in_use``) while a segment's conditions refer to it.
    """
    prop = deletable_property(session, name)
    holders = session.exec(select(Contact).where(Contact.properties[name].isnot(None)))
    for contact in holders:
        contact.properties = {k: v for k, v in contact.properties.items() if k != name}
        contact.properties_folded = {
            k: v for k, v in contact.properties_folded.items() if k != name
        }
        session.add(contact)
    session.delete(prop)
    return prop.id
