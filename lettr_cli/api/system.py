"""``GET /api/health`` (no key) and ``GET /api/auth/check`` (any live key)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lettr_cli.api.endpoints import Call, route
from lettr_cli.api.envelopes import ok
from lettr_cli.store.types import utcnow

TEAM_ID = 1  # one store, one team


async def health(_request: Request) -> Response:
    return ok("API is healthy.", {"status": "ok", "timestamp": utcnow()})


def auth_check(_call: Call) -> Response:
    return ok("API key is valid.", {"team_id": TEAM_ID, "timestamp": utcnow()})


ROUTES = [
    Route("/health", health, methods=["GET"]),
    route("/auth/check", "GET", None, auth_check),
]
