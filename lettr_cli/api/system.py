"""``GET /api/health`` (no key), ``GET /api/auth/check`` (any live key) and
``GET /api/openapi.json`` (no key: the description of every route served)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from lettr_cli.api.endpoints import Call, route
from lettr_cli.api.envelopes import Json, ok
from lettr_cli.api.openapi import ApiRoute, Doc, describe
from lettr_cli.api.schemas import ref
from lettr_cli.store.types import utcnow

TEAM_ID = 1  # one store, one team


async def health(_request: Request) -> Response:
    return ok("API is healthy.", {"status": "ok", "timestamp": utcnow()})


def auth_check(_call: Call) -> Response:
    return ok("API key is valid.", {"team_id": TEAM_ID, "timestamp": utcnow()})


async def openapi(request: Request) -> Response:
    return Json(describe(request.app.routes))


ROUTES = [
    ApiRoute(
        "/health",
        health,
        methods=["GET"],
        scope=None,
        doc=Doc("Health", data=ref("Health")),
        auth=False,
    ),
    route(
        "/auth/check", "GET", None, auth_check, doc=Doc("Check the API key", data=ref("AuthCheck"))
    ),
    ApiRoute(
        "/openapi.json", openapi, methods=["GET"], scope=None, doc=Doc("This API"), auth=False
    ),
]
