"""Lettr's Audience API for properties, lists and topics (reference §18): paths take ids; the
services, which name things by name, are called with the name the id's row holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlmodel import Session
from starlette.responses import Response

from lettr_cli.api.endpoints import Call, route
from lettr_cli.api.envelopes import no_content, ok
from lettr_cli.api.openapi import PAGE, Doc, strings
from lettr_cli.api.params import body_text, pagination, window
from lettr_cli.api.schemas import page_of, ref
from lettr_cli.audience import groups
from lettr_cli.audience.groups import LISTS, TOPICS, GroupKind
from lettr_cli.audience.lookups import (
    list_by_id,
    lists_page,
    properties_page,
    property_by_id,
    topic_by_id,
    topics_page,
)
from lettr_cli.audience.properties import (
    create_property,
    delete_property,
    property_json,
    update_fallback,
)
from lettr_cli.errors import NotFound, ValidationError
from lettr_cli.store.tables import Property

T = TypeVar("T")
READ = "audience:read"
WRITE = "audience:write"


def exact(finder: Callable[[Session, str], T], noun: str) -> Callable[[Session, str], T]:
    """``finder`` with Lettr's not-found message (``"List not found."``)."""

    def find(session: Session, ident: str) -> T:
        try:
            return finder(session, ident)
        except NotFound:
            raise NotFound(f"{noun} not found.") from None

    return find


# -- properties ---------------------------------------------------------------------------------
find_property = exact(property_by_id, "Property")


def _property(prop: Property) -> dict[str, Any]:
    return {**property_json(prop), "created_at": prop.created_at}


def list_properties(call: Call) -> Response:
    chosen = window(call.query)
    with call.workspace.store.read() as session:
        found = properties_page(session, limit=chosen.per_page, offset=chosen.offset)
        data = {"properties": [_property(p) for p in found.rows]}
    return ok(
        "Properties retrieved successfully.", {**data, "pagination": pagination(found, chosen)}
    )


def get_property(call: Call) -> Response:
    with call.workspace.store.read() as session:
        data = _property(find_property(session, call.path["id"]))
    return ok("Property retrieved successfully.", data)


def new_property(call: Call) -> Response:
    name = body_text(call.body, "name", required=True)
    kind = body_text(call.body, "type", required=True)
    fallback = body_text(call.body, "fallback_value")
    assert name is not None and kind is not None
    with call.workspace.store.write() as session:
        data = _property(create_property(session, name, kind, fallback))
    return ok("Property retrieved successfully.", data, status=201)


def change_property(call: Call) -> Response:
    with call.workspace.store.write() as session:
        prop = find_property(session, call.path["id"])
        if "fallback_value" in call.body:
            update_fallback(session, prop.name, body_text(call.body, "fallback_value"))
        data = _property(prop)
    return ok("Property retrieved successfully.", data)


def remove_property(call: Call) -> Response:
    with call.workspace.store.write() as session:
        delete_property(session, find_property(session, call.path["id"]).name)
    return no_content()


# -- lists and topics ---------------------------------------------------------------------------
def _group_json(session: Session, kind: GroupKind, group: groups.Group) -> dict[str, Any]:
    count = groups.counts(session, kind).get(group.id, 0)
    return {**groups.to_json(kind, group, count), "created_at": group.created_at}


class Groups:
    """The endpoints of lists or topics."""

    def __init__(self, kind: GroupKind, noun: str, plural: str) -> None:
        self.kind, self.noun, self.plural = kind, noun, plural
        finder = list_by_id if kind is LISTS else topic_by_id
        self.find: Callable[[Session, str], groups.Group] = exact(finder, noun)
        self.message = f"{noun} retrieved successfully."

    def listing(self, call: Call) -> Response:
        chosen = window(call.query)
        paged = lists_page if self.kind is LISTS else topics_page
        with call.workspace.store.read() as session:
            found = paged(session, limit=chosen.per_page, offset=chosen.offset)
            sizes = groups.counts(session, self.kind)
            rows = [
                {**groups.to_json(self.kind, g, sizes.get(g.id, 0)), "created_at": g.created_at}
                for g in found.rows
            ]
        data = {self.plural: rows, "pagination": pagination(found, chosen)}
        return ok(f"{self.plural.capitalize()} retrieved successfully.", data)

    def get(self, call: Call) -> Response:
        with call.workspace.store.read() as session:
            data = _group_json(session, self.kind, self.find(session, call.path["id"]))
        return ok(self.message, data)

    def create(self, call: Call) -> Response:
        name = body_text(call.body, "name", required=True)
        assert name is not None
        fields: dict[str, Any] = {}
        if self.kind is TOPICS:
            fields = groups.topic_fields(
                default=body_text(call.body, "default_subscription") or "opt_in",
                visibility=body_text(call.body, "visibility") or "private",
                description=body_text(call.body, "description"),
            )
        with call.workspace.store.write() as session:
            group = groups.create(session, self.kind, name, **fields)
            data = _group_json(session, self.kind, group)
        return ok(self.message, data, status=201)

    def update(self, call: Call) -> Response:
        body = call.body
        if self.kind is TOPICS and "default_subscription" in body:
            raise ValidationError.field(
                "default_subscription", "A topic's default subscription cannot change."
            )
        with call.workspace.store.write() as session:
            group = self.find(session, call.path["id"])
            if body.get("name") is not None:
                new_name = body_text(body, "name")
                assert new_name is not None
                group = groups.rename(session, self.kind, group.name, new_name)
            if self.kind is TOPICS and ("description" in body or "visibility" in body):
                description = body_text(body, "description") if "description" in body else None
                group = groups.update_topic(
                    session,
                    group.name,
                    description=""
                    if "description" in body and description is None
                    else description,
                    visibility=body_text(body, "visibility"),
                )
            session.flush()
            data = _group_json(session, self.kind, group)
        return ok(self.message, data)

    def delete(self, call: Call) -> Response:
        with call.workspace.store.write() as session:
            groups.delete(session, self.kind, self.find(session, call.path["id"]).name)
        return no_content()

    def body(self, *, new: bool) -> dict[str, Any]:
        required = ("name",) if new else ()
        if self.kind is LISTS:
            return strings("name", required=required)
        topic = ("name", "description", "visibility")
        return strings(*topic, *(("default_subscription",) if new else ()), required=required)

    def routes(self, prefix: str) -> list[Any]:
        noun = self.noun.lower()
        return [
            route(
                prefix,
                "GET",
                READ,
                self.listing,
                doc=Doc(f"List {self.plural}", PAGE, data=page_of(self.plural, self.noun)),
            ),
            route(
                prefix,
                "POST",
                WRITE,
                self.create,
                doc=Doc(
                    f"Create a {noun}",
                    body=self.body(new=True),
                    success=201,
                    data=ref(self.noun),
                ),
            ),
            route(
                f"{prefix}/{{id}}",
                "GET",
                READ,
                self.get,
                doc=Doc(f"Get a {noun}", data=ref(self.noun)),
            ),
            route(
                f"{prefix}/{{id}}",
                "PATCH",
                WRITE,
                self.update,
                doc=Doc(f"Update a {noun}", body=self.body(new=False), data=ref(self.noun)),
            ),
            route(
                f"{prefix}/{{id}}",
                "DELETE",
                WRITE,
                self.delete,
                doc=Doc(f"Delete a {noun}", success=204),
            ),
        ]


ROUTES = [
    route(
        "/audience/properties",
        "GET",
        READ,
        list_properties,
        doc=Doc("List properties", PAGE, data=page_of("properties", "Property")),
    ),
    route(
        "/audience/properties",
        "POST",
        WRITE,
        new_property,
        doc=Doc(
            "Create a property",
            body=strings("name", "type", "fallback_value", required=("name", "type")),
            success=201,
            data=ref("Property"),
        ),
    ),
    route(
        "/audience/properties/{id}",
        "GET",
        READ,
        get_property,
        doc=Doc("Get a property", data=ref("Property")),
    ),
    route(
        "/audience/properties/{id}",
        "PATCH",
        WRITE,
        change_property,
        doc=Doc("Update a property", body=strings("fallback_value"), data=ref("Property")),
    ),
    route(
        "/audience/properties/{id}",
        "DELETE",
        WRITE,
        remove_property,
        doc=Doc("Delete a property", success=204),
    ),
    *Groups(LISTS, "List", "lists").routes("/audience/lists"),
    *Groups(TOPICS, "Topic", "topics").routes("/audience/topics"),
]
