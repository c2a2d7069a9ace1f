"""Lettr's membership endpoints (reference §18): a contact into or out of a list or topic (201
new, 200 already there; DELETE 204, idempotent), the same in bulk with Lettr's counts, and
``DELETE /audience/lists/bulk``."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from lettr_cli.api.audience import WRITE
from lettr_cli.api.endpoints import Call, route
from lettr_cli.api.envelopes import no_content, ok
from lettr_cli.api.openapi import IDS, Doc
from lettr_cli.api.schemas import INT, TEXT, obj, whole
from lettr_cli.audience import groups, memberships
from lettr_cli.audience.groups import LISTS, TOPICS, GroupKind
from lettr_cli.audience.lookups import contact_by_id, list_by_id, topic_by_id
from lettr_cli.errors import NotFound, ValidationError


def _strings(body: dict[str, Any], field: str) -> list[str]:
    value = body.get(field)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError.field(field, f"The {field} field must be a list of ids.")
    return value


class Single:
    """One contact into or out of one list or topic."""

    def __init__(self, kind: GroupKind, noun: str) -> None:
        self.kind, self.noun = kind, noun
        self.finder = list_by_id if kind is LISTS else topic_by_id

    def _pair(self, session: Any, call: Call) -> tuple[Any, Any]:
        try:
            contact = contact_by_id(session, call.path["contact_id"])
            group = self.finder(session, call.path["group_id"])
        except NotFound:
            raise NotFound(f"Contact or {self.noun} not found.") from None
        return contact, group

    def add(self, call: Call) -> Response:
        with call.workspace.store.write() as session:
            contact, group = self._pair(session, call)
            added = groups.join(session, self.kind, group, contact, log=True)
        verb = "added to" if self.kind is LISTS else "subscribed to"
        data = {"contact_id": contact.id, f"{self.noun}_id": group.id}
        return ok(f"Contact {verb} {self.noun}.", data, status=201 if added else 200)

    def remove(self, call: Call) -> Response:
        with call.workspace.store.write() as session:
            contact, group = self._pair(session, call)
            groups.leave(session, self.kind, group, contact)
        return no_content()


def _bulk(kind: GroupKind, field: str, keys: tuple[str, str], join: bool) -> Any:
    def run(call: Call) -> Response:
        contact_ids, group_ids = _strings(call.body, "contact_ids"), _strings(call.body, field)
        change = memberships.join_all if join else memberships.leave_all
        with call.workspace.store.write() as session:
            pairs = change(session, kind, contact_ids, group_ids, field)
        data: dict[str, int] = {keys[0]: pairs.changed}
        if keys[1]:
            data[keys[1]] = pairs.unchanged
        data["total_pairs"] = pairs.total
        return ok("Contacts updated successfully.", data)

    return run


def delete_lists(call: Call) -> Response:
    ids = _strings(call.body, "list_ids")
    with call.workspace.store.write() as session:
        deleted = memberships.delete_groups(session, LISTS, ids, "list_ids")
    return ok("Lists deleted successfully.", {"deleted": deleted})


_LIST, _TOPIC = Single(LISTS, "list"), Single(TOPICS, "topic")
BULK_LISTS = "/audience/contacts/lists/bulk"
BULK_TOPICS = "/audience/contacts/topics/bulk"

_ATTACH = _bulk(LISTS, "list_ids", ("attached", "already_attached"), True)
_DETACH = _bulk(LISTS, "list_ids", ("detached", "not_present"), False)
_SUBSCRIBE = _bulk(TOPICS, "topic_ids", ("subscribed", "already_subscribed"), True)
_UNSUBSCRIBE = _bulk(TOPICS, "topic_ids", ("unsubscribed", ""), False)
ONE_LIST = "/audience/contacts/{contact_id}/lists/{group_id}"
ONE_TOPIC = "/audience/contacts/{contact_id}/topics/{group_id}"


def counts(*names: str) -> dict[str, Any]:
    """The data of a bulk membership change: its counts and ``total_pairs``."""
    return whole(dict.fromkeys((*names, "total_pairs"), INT))


def pairs(*fields: str) -> dict[str, Any]:
    return obj(dict.fromkeys(fields, IDS), fields)


# Before the routes with an {id} segment: /audience/lists/bulk is not a list's id.
ROUTES = [
    route(
        "/audience/lists/bulk",
        "DELETE",
        WRITE,
        delete_lists,
        doc=Doc("Delete lists", body=pairs("list_ids"), data=whole({"deleted": INT})),
    ),
    route(
        BULK_LISTS,
        "POST",
        WRITE,
        _ATTACH,
        doc=Doc(
            "Add contacts to lists",
            body=pairs("contact_ids", "list_ids"),
            data=counts("attached", "already_attached"),
        ),
    ),
    route(
        BULK_LISTS,
        "DELETE",
        WRITE,
        _DETACH,
        doc=Doc(
            "Remove contacts from lists",
            body=pairs("contact_ids", "list_ids"),
            data=counts("detached", "not_present"),
        ),
    ),
    route(
        BULK_TOPICS,
        "POST",
        WRITE,
        _SUBSCRIBE,
        doc=Doc(
            "Subscribe contacts to topics",
            body=pairs("contact_ids", "topic_ids"),
            data=counts("subscribed", "already_subscribed"),
        ),
    ),
    route(
        BULK_TOPICS,
        "DELETE",
        WRITE,
        _UNSUBSCRIBE,
        doc=Doc(
            "Unsubscribe contacts from topics",
            body=pairs("contact_ids", "topic_ids"),
            data=counts("unsubscribed"),
        ),
    ),
    route(
        ONE_LIST,
        "POST",
        WRITE,
        _LIST.add,
        doc=Doc(
            "Add a contact to a list (200: it was there already)",
            success=201,
            also=(200,),
            data=whole({"contact_id": TEXT, "list_id": TEXT}),
        ),
    ),
    route(
        ONE_LIST,
        "DELETE",
        WRITE,
        _LIST.remove,
        doc=Doc("Remove a contact from a list", success=204),
    ),
    route(
        ONE_TOPIC,
        "POST",
        WRITE,
        _TOPIC.add,
        doc=Doc(
            "Subscribe a contact to a topic (200: it was subscribed already)",
            success=201,
            also=(200,),
            data=whole({"contact_id": TEXT, "topic_id": TEXT}),
        ),
    ),
    route(
        ONE_TOPIC,
        "DELETE",
        WRITE,
        _TOPIC.remove,
        doc=Doc("Unsubscribe a contact from a topic", success=204),
    ),
]
