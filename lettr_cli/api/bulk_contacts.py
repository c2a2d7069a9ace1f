"""``POST /audience/contacts/bulk`` (reference §13, §18): ``emails`` or per-row ``contacts``,
with batch-wide ``list_id``/``list_ids``, ``properties`` and ``topics``; rows that fail are
reported in ``errors`` and the rest written (201)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from lettr_cli.api.audience import WRITE
from lettr_cli.api.endpoints import Call, route
from lettr_cli.api.envelopes import ok
from lettr_cli.api.openapi import IDS, Doc
from lettr_cli.api.schemas import obj, ref
from lettr_cli.audience.bulk_create import Row, bulk_create
from lettr_cli.errors import ValidationError

_TOPIC = obj({"id": {"type": "string"}, "subscription": {"type": "string"}}, ("id",))
_TOPICS = {"type": "array", "items": _TOPIC}
_VALUES = {"type": "object", "additionalProperties": {"type": "string"}}
BODY = obj(
    {
        "emails": {"type": "array", "items": {"type": "string"}},
        "contacts": {"type": "array", "items": obj({"email": {"type": "string"}}, ("email",))},
        "list_id": {"type": ["string", "null"]},
        "list_ids": IDS,
        "properties": _VALUES,
        "topics": _TOPICS,
        "update_existing": {"type": "boolean"},
    }
)


def _bad(field: str, message: str) -> ValidationError:
    return ValidationError.field(field, message)


def _list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(field, f"The {field} field must be a list.")
    return value


def _ids(value: Any, field: str) -> list[str]:
    items = _list(value, field)
    if not all(isinstance(item, str) for item in items):
        raise _bad(field, f"The {field} field must be a list of ids.")
    return items


def _values(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _bad(field, f"The {field} field must be an object of strings.")
    return value


def _topics(value: Any, field: str) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for item in _list(value, field):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise _bad(field, f'Each of {field} must be {{"id", "subscription"}}.')
        subscription = item.get("subscription", "opt_in")
        chosen[item["id"]] = subscription if isinstance(subscription, str) else ""
    return chosen


def rows_of(body: dict[str, Any]) -> list[Row]:
    """The rows asked for, each with the batch-wide lists, properties and topics merged in (a
    row's own property or topic choice wins)."""
    emails, contacts = _list(body.get("emails"), "emails"), _list(body.get("contacts"), "contacts")
    if bool(emails) == bool(contacts):
        raise _bad("contacts", "Give either emails or contacts (1 to 1000 entries).")
    list_ids = _ids(body.get("list_ids"), "list_ids")
    if body.get("list_id") is not None:
        list_ids = [*_ids([body["list_id"]], "list_id"), *list_ids]
    if len(list_ids) > 50:
        raise _bad("list_ids", "The list_ids field must have at most 50 items.")
    properties = _values(body.get("properties"), "properties")
    topics = _topics(body.get("topics"), "topics")
    rows = []
    for index, item in enumerate(emails or contacts):
        given = {"email": item} if emails else item
        if not isinstance(given, dict) or not isinstance(given.get("email"), str):
            raise _bad(f"contacts.{index}.email", "Each contact needs an email string.")
        own_lists = _ids(given.get("list_ids"), f"contacts.{index}.list_ids")
        own_topics = {**topics, **_topics(given.get("topics"), f"contacts.{index}.topics")}
        own_values = {
            **properties,
            **_values(given.get("properties"), f"contacts.{index}.properties"),
        }
        rows.append(
            Row(
                email=given["email"],
                properties=own_values,
                list_ids=list(dict.fromkeys([*list_ids, *own_lists])),
                topics=list(own_topics.items()),
            )
        )
    return rows


def create_many(call: Call) -> Response:
    rows = rows_of(call.body)
    update_existing = call.body.get("update_existing", False)
    if not isinstance(update_existing, bool):
        raise _bad("update_existing", "The update_existing field must be true or false.")
    with call.workspace.store.write() as session:
        done = bulk_create(session, rows, update_existing=update_existing)
    data = {
        "created": done.created,
        "already_existed": done.already_existed,
        "updated": done.updated,
        "error_count": len(done.errors),
        "errors": [vars(error) for error in done.errors],
        "contacts": [{"id": i, "email": e, "created": c} for i, e, c in done.contacts],
    }
    return ok("Contacts created successfully.", data, status=201)


ROUTES = [
    route("/audience/contacts/bulk", "POST", WRITE, create_many, doc=Doc(
        "Create contacts in bulk", body=BODY, success=201, data=ref("BulkContacts"))),
]  # fmt: skip
