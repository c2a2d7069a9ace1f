"""The app of ``lettr serve``: Lettr's API under ``/api`` and the tracking endpoints at ``/``
(so ``tracking.base_url`` can point at the same server). Imported by ``lettr serve`` only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount

from lettr_cli.api import (
    audience,
    bulk_contacts,
    campaigns,
    contacts,
    domains,
    memberships,
    segments,
    system,
)
from lettr_cli.api.envelopes import SERVER_ERROR, failure
from lettr_cli.signing.api_limits import AuthBlocker, Guards, RateLimiter
from lettr_cli.store.types import utcnow
from lettr_cli.tracking.access_log import AccessLog
from lettr_cli.tracking.app import create_app as create_tracking_app
from lettr_cli.workspace import Workspace


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return failure(404, "The requested resource was not found.", "not_found")
    if exc.status_code == 405:
        response = failure(405, "The method is not allowed for this path.", "method_not_allowed")
        if exc.headers:
            response.headers.update(exc.headers)
        return response
    return failure(exc.status_code, str(exc.detail), None)


async def _outer_http_error(request: Request, exc: Exception) -> Response:
    """What no mount matched (a path Starlette's mounts cannot read): JSON under /api."""
    assert isinstance(exc, HTTPException)
    if request.url.path == "/api" or request.url.path.startswith("/api/"):
        return await _http_error(request, exc)
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)


async def _crash(_request: Request, _exc: Exception) -> Response:
    return failure(500, SERVER_ERROR, "send_error")


def api_routes() -> list[BaseRoute]:
    # memberships first: its /audience/lists/bulk must not be read as a list's id
    parts = (system, campaigns, memberships, bulk_contacts, audience, contacts, segments, domains)
    return [route for part in parts for route in part.ROUTES]


def create_api_app(workspace: Workspace, nameserver: str | None = None) -> Starlette:
    app = Starlette(
        routes=api_routes(),
        middleware=[Middleware(AccessLog)],
        exception_handlers={HTTPException: _http_error, Exception: _crash},
    )
    app.state.workspace = workspace
    app.state.nameserver = nameserver  # HOST[:PORT] domain verification asks; None: the system's
    settings = workspace.settings()  # read once: restart the server after changing api.*
    app.state.guards = Guards(
        RateLimiter(settings.integer("api.rate_limit")),
        AuthBlocker(settings.flag("api.auth_block")),
    )
    return app


def create_app(
    workspace: Workspace,
    clock: Callable[[], datetime] = utcnow,
    *,
    nameserver: str | None = None,
) -> Starlette:
    """The API and the tracking app over one open workspace; ``nameserver`` (``HOST[:PORT]``) is
    where domain verification asks for records (None: the system's resolver)."""
    return Starlette(
        routes=[
            Mount("/api", app=create_api_app(workspace, nameserver)),
            Mount("/", app=create_tracking_app(workspace, clock)),
        ],
        exception_handlers={HTTPException: _outer_http_error},
    )
