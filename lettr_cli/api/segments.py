"""Lettr's Audience API for segments (reference §18): ``conditions.groups`` in (lists and
topics by id or exact name, as ``segment create --conditions`` takes them), ``condition_groups``
out, with ``cached_contacts_count`` (the subscribed members now). Paths take ids."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session
from starlette.responses import Response

from lettr_cli.api.audience import READ, WRITE, exact
from lettr_cli.api.endpoints import Call, route
from lettr_cli.api.envelopes import no_content, ok
from lettr_cli.api.openapi import PAGE, Doc
from lettr_cli.api.params import body_text, pagination, text, window
from lettr_cli.api.schemas import obj, page_of, ref
from lettr_cli.audience.counts import subscribed_per_segment
from lettr_cli.audience.lookups import list_by_id, segment_by_id, segments_page
from lettr_cli.audience.segments.service import (
    Definition,
    create_segment,
    delete_segment,
    edit_segment,
    segment_json,
)
from lettr_cli.errors import ValidationError
from lettr_cli.store.tables import Segment

find_segment = exact(segment_by_id, "Segment")
find_list = exact(list_by_id, "List")
MESSAGE = "Segment retrieved successfully."


def segment_body(required: tuple[str, ...]) -> dict[str, Any]:
    return obj(
        {
            "name": {"type": "string"},
            "conditions": {"type": "object", "properties": {"groups": {"type": "array"}}},
            "list_id": {"type": ["string", "null"]},
        },
        required,
    )


def _shown(session: Session, segment: Segment) -> dict[str, Any]:
    count = subscribed_per_segment(session, [segment.id])[segment.id]
    return {
        **segment_json(session, segment),
        "created_at": segment.created_at,
        "cached_contacts_count": count,
    }


def _definition(body: dict[str, Any]) -> Definition | None:
    conditions = body.get("conditions")
    if conditions is None:
        return None
    if not isinstance(conditions, dict):
        raise ValidationError.field("conditions", 'The conditions field must be {"groups": [...]}.')
    return Definition(document=json.dumps(conditions), document_name="conditions")


def _list_name(session: Session, body: dict[str, Any]) -> str | None:
    list_id = body_text(body, "list_id")
    return None if list_id is None else find_list(session, list_id).name


def list_all(call: Call) -> Response:
    chosen = window(call.query)
    list_id = text(call.query, "list_id")
    with call.workspace.store.read() as session:
        if list_id is not None:
            find_list(session, list_id)
        found = segments_page(session, list_id=list_id, limit=chosen.per_page, offset=chosen.offset)
        rows = [_shown(session, segment) for segment in found.rows]
    data = {"segments": rows, "pagination": pagination(found, chosen)}
    return ok("Segments retrieved successfully.", data)


def get_one(call: Call) -> Response:
    with call.workspace.store.read() as session:
        data = _shown(session, find_segment(session, call.path["id"]))
    return ok(MESSAGE, data)


def create(call: Call) -> Response:
    name = body_text(call.body, "name", required=True)
    definition = _definition(call.body)
    if definition is None:
        raise ValidationError.field("conditions", "The conditions field is required.")
    assert name is not None
    with call.workspace.store.write() as session:
        segment = create_segment(
            session, name, definition, list_name=_list_name(session, call.body)
        )
        data = _shown(session, segment)
    return ok(MESSAGE, data, status=201)


def update(call: Call) -> Response:
    body = call.body
    with call.workspace.store.write() as session:
        segment = find_segment(session, call.path["id"])
        new_name = body_text(body, "name")
        definition = _definition(body)
        clears = "list_id" in body and body["list_id"] is None
        list_name = _list_name(session, body)
        if new_name is not None or definition is not None or list_name is not None or clears:
            segment = edit_segment(
                session,
                segment.name,
                new_name=new_name,
                definition=definition,
                list_name=list_name,
                no_list=clears,
            )
        data = _shown(session, segment)
    return ok(MESSAGE, data)


def delete(call: Call) -> Response:
    with call.workspace.store.write() as session:
        delete_segment(session, find_segment(session, call.path["id"]).name)
    return no_content()


ROUTES = [
    route(
        "/audience/segments",
        "GET",
        READ,
        list_all,
        doc=Doc("List segments", (*PAGE, "list_id"), data=page_of("segments", "Segment")),
    ),
    route(
        "/audience/segments",
        "POST",
        WRITE,
        create,
        doc=Doc(
            "Create a segment",
            body=segment_body(("name", "conditions")),
            success=201,
            data=ref("Segment"),
        ),
    ),
    route(
        "/audience/segments/{id}",
        "GET",
        READ,
        get_one,
        doc=Doc("Get a segment", data=ref("Segment")),
    ),
    route(
        "/audience/segments/{id}",
        "PATCH",
        WRITE,
        update,
        doc=Doc("Update a segment", body=segment_body(()), data=ref("Segment")),
    ),
    route(
        "/audience/segments/{id}", "DELETE", WRITE, delete, doc=Doc("Delete a segment", success=204)
    ),
]
