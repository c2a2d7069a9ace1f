"""Lettr's Audience API for contacts (reference §18): create (409 on a duplicate address, any
case), list (search, status, list_id, segment_id, page), get, update (a property set to null is
removed; status only subscribed or unsubscribed) and delete. Paths take ids."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lettr_cli.api.audience import READ, WRITE, exact
from lettr_cli.api.endpoints import Call, route
from lettr_cli.api.envelopes import no_content, ok
from lettr_cli.api.openapi import PAGE, Doc
from lettr_cli.api.params import body_text, pagination, text, window
from lettr_cli.api.schemas import obj, page_of, ref
from lettr_cli.audience.contacts import (
    ContactFilter,
    add_contacts,
    check_status,
    contacts_json,
    delete_contacts,
)
from lettr_cli.audience.editing import ContactChanges, edit_contact
from lettr_cli.audience.lookups import contact_by_id, contacts_page, list_by_id, segment_by_id
from lettr_cli.errors import ValidationError
from lettr_cli.optin.message import MailSpec
from lettr_cli.optin.service import add_with_double_opt_in

find_contact = exact(contact_by_id, "Contact")
find_list = exact(list_by_id, "List")
find_segment = exact(segment_by_id, "Segment")
WRITABLE_STATUSES = ("subscribed", "unsubscribed")
MESSAGE = "Contact retrieved successfully."
_VALUES = {"type": ["object", "null"], "additionalProperties": {"type": ["string", "null"]}}
CREATE = obj(
    {
        "email": {"type": "string"},
        "list_id": {"type": ["string", "null"]},
        "properties": _VALUES,
        "double_opt_in": {"type": ["object", "null"]},
    },
    ("email",),
)
UPDATE = obj(
    {
        "email": {"type": ["string", "null"]},
        "status": {"type": ["string", "null"]},
        "properties": _VALUES,
    }
)


def _shown(session: Session, contact_id: str) -> dict[str, Any]:
    return contacts_json(session, [find_contact(session, contact_id)])[0]


def _value(name: str, value: Any) -> str:
    """A property value sent as JSON, as the text the services read."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    raise ValidationError.field("properties", f"The value of {name} must be a string.")


def _properties(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """``name=value`` assignments and the names set to null (removed)."""
    given = body.get("properties")
    if given is None:
        return [], []
    if not isinstance(given, dict):
        raise ValidationError.field("properties", "The properties field must be an object.")
    assignments = [f"{k}={_value(k, v)}" for k, v in given.items() if v is not None]
    return assignments, [k for k, v in given.items() if v is None]


def _written_status(body: dict[str, Any]) -> str | None:
    status = body_text(body, "status")
    if status is not None and status not in WRITABLE_STATUSES:
        raise ValidationError.field("status", "The selected status is invalid.")
    return status


def list_contacts(call: Call) -> Response:
    chosen = window(call.query)
    query = call.query
    status = text(query, "status")
    with call.workspace.store.read() as session:
        list_id, segment_id = text(query, "list_id"), text(query, "segment_id")
        wanted = ContactFilter(
            status=None if status is None else check_status(status),
            list_name=None if list_id is None else find_list(session, list_id).name,
            segment=None if segment_id is None else find_segment(session, segment_id).name,
            search=text(query, "search"),
        )
        found = contacts_page(session, wanted, limit=chosen.per_page, offset=chosen.offset)
        rows = contacts_json(session, found.rows)
    data = {"contacts": rows, "pagination": pagination(found, chosen)}
    return ok("Contacts retrieved successfully.", data)


def get_contact(call: Call) -> Response:
    with call.workspace.store.read() as session:
        data = _shown(session, call.path["id"])
    return ok(MESSAGE, data)


async def create_contact(call: Call) -> Response:
    """A contact, subscribed; with ``double_opt_in`` (Lettr's fields ``from``, ``from_name``,
    ``subject``, ``template_slug``, ``redirect_url``) it is added unverified after its
    confirmation mail went out, as `lettr contact add --double-opt-in` does."""
    body = call.body
    email = body_text(body, "email", required=True)
    assert email is not None
    assignments, _ = _properties(body)
    optin = body.get("double_opt_in")
    if optin is None:
        return await run_in_threadpool(_create_subscribed, call, email, assignments)
    spec = _mail_spec(optin)
    lists = await run_in_threadpool(_list_names, call, body_text(body, "list_id"))
    made = await add_with_double_opt_in(
        call.workspace, email, spec, lists=lists, assignments=assignments
    )
    data = await run_in_threadpool(_shown_by_id, call, str(made["id"]))
    return ok(MESSAGE, data, status=201)


def _mail_spec(optin: Any) -> MailSpec:
    if not isinstance(optin, dict):
        raise ValidationError.field("double_opt_in", "The double opt in field must be an object.")
    fields = {
        name: body_text(optin, name, required=name != "from_name")
        for name in ("from", "from_name", "subject", "template_slug", "redirect_url")
    }
    return MailSpec(
        template=str(fields["template_slug"]),
        from_email=str(fields["from"]),
        subject=str(fields["subject"]),
        redirect_url=str(fields["redirect_url"]),
        from_name=fields["from_name"],
    )


def _list_names(call: Call, list_id: str | None) -> list[str]:
    with call.workspace.store.read() as session:
        return [] if list_id is None else [find_list(session, list_id).name]


def _shown_by_id(call: Call, contact_id: str) -> dict[str, Any]:
    with call.workspace.store.read() as session:
        return _shown(session, contact_id)


def _create_subscribed(call: Call, email: str, assignments: list[str]) -> Response:
    list_id = body_text(call.body, "list_id")
    with call.workspace.store.write() as session:
        lists = [] if list_id is None else [find_list(session, list_id).name]
        made = add_contacts(session, [email], lists=lists, assignments=assignments)
        data = contacts_json(session, made.contacts)[0]
    return ok(MESSAGE, data, status=201)


def update_contact(call: Call) -> Response:
    body = call.body
    assignments, unset = _properties(body)
    changes = ContactChanges(
        email=body_text(body, "email"),
        status=_written_status(body),
        assignments=assignments,
        unset=unset,
    )
    with call.workspace.store.write() as session:
        contact = find_contact(session, call.path["id"])
        edit_contact(session, contact.email, changes)
        session.flush()
        data = _shown(session, contact.id)
    return ok(MESSAGE, data)


def delete_contact(call: Call) -> Response:
    with call.workspace.store.write() as session:
        delete_contacts(session, [find_contact(session, call.path["id"]).email])
    return no_content()


ROUTES = [
    route(
        "/audience/contacts",
        "GET",
        READ,
        list_contacts,
        doc=Doc(
            "List contacts",
            (*PAGE, "search", "status", "list_id", "segment_id"),
            data=page_of("contacts", "Contact"),
        ),
    ),
    route(
        "/audience/contacts",
        "POST",
        WRITE,
        run=create_contact,
        doc=Doc("Create a contact", body=CREATE, success=201, data=ref("Contact")),
    ),
    route(
        "/audience/contacts/{id}",
        "GET",
        READ,
        get_contact,
        doc=Doc("Get a contact", data=ref("Contact")),
    ),
    route(
        "/audience/contacts/{id}",
        "PATCH",
        WRITE,
        update_contact,
        doc=Doc("Update a contact", body=UPDATE, data=ref("Contact")),
    ),
    route(
        "/audience/contacts/{id}",
        "DELETE",
        WRITE,
        delete_contact,
        doc=Doc("Delete a contact", success=204),
    ),
]
