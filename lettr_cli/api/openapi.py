"""``GET /api/openapi.json``: the OpenAPI 3.1 description of exactly what is served, built from
the routes themselves (their paths, methods, scopes, query parameters and body schemas)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from starlette.routing import BaseRoute, Route

import lettr_cli
from lettr_cli.api.schemas import SCHEMAS, obj

_NUMBERS: Final = frozenset({"page", "per_page", "limit"})
_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Doc:
    """What an endpoint takes and answers, for the description: ``query`` names (numbers for
    page, per_page and limit, else strings), the JSON schema of its ``body``, its success status
    and the schema of the ``data`` it answers with."""

    summary: str
    query: tuple[str, ...] = ()
    body: dict[str, Any] | None = None
    success: int = 200
    data: dict[str, Any] | None = None  # the schema of the answer's ``data`` (api.schemas)
    also: tuple[int, ...] = ()  # other success statuses with the same answer (200 when unchanged)


class ApiRoute(Route):
    """A route of the API with its scope (None: any live key) and description."""

    def __init__(self, *args: Any, scope: str | None, doc: Doc, auth: bool = True, **kw: Any):
        super().__init__(*args, **kw)
        self.scope, self.doc, self.auth = scope, doc, auth


def strings(*names: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object schema of nullable string fields."""
    return obj({name: {"type": ["string", "null"]} for name in names}, required)


IDS: Final = {"type": "array", "items": {"type": "string"}}
PAGE: Final = ("page", "per_page")
_ENVELOPE: Final = obj({"message": {"type": "string"}, "data": {}}, ("message",))
_ERROR: Final = obj(
    {
        "message": {"type": "string"},
        "error_code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array"}},
    },
    ("message",),
)


def _enveloping(data: dict[str, Any]) -> dict[str, Any]:
    return obj({"message": {"type": "string"}, "data": data}, ("message", "data"))


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _parameters(route: ApiRoute) -> list[dict[str, Any]]:
    found = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(route.path)
    ]
    for name in route.doc.query:
        kind = {"type": "integer"} if name in _NUMBERS else {"type": "string"}
        found.append({"name": name, "in": "query", "required": False, "schema": kind})
    return found


def _operation(route: ApiRoute, method: str) -> dict[str, Any]:
    doc = route.doc
    envelope = _ENVELOPE if doc.data is None else _enveloping(doc.data)
    success = (
        {"description": "No content"}
        if doc.success == 204
        else {"description": doc.summary, **_json(envelope)}
    )
    operation: dict[str, Any] = {
        "summary": doc.summary,
        "operationId": f"{method}{route.path}".replace("/", "_").replace("{", "").replace("}", ""),
        "parameters": _parameters(route),
        "responses": {
            **{str(status): success for status in (doc.success, *doc.also)},
            "default": {"description": "An error", **_json(_ERROR)},
        },
    }  # fmt: skip
    if route.auth:
        operation["security"] = [{"bearer": []}]
        if route.scope:
            operation["x-scope"] = route.scope
    if doc.body is not None:
        operation["requestBody"] = {"required": False, **_json(doc.body)}
    return operation


def describe(routes: Iterable[BaseRoute], prefix: str = "/api") -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (those that are ``ApiRoute``), served under ``prefix``."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, ApiRoute):
            continue
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            paths.setdefault(route.path, {})[method.lower()] = _operation(route, method.lower())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "lettr: Lettr's Campaigns and Audience API",
            "version": lettr_cli.__version__,
        },
        "servers": [{"url": prefix}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
