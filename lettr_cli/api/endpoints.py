"""How every API endpoint runs: the bearer key looked up in the store on each request, its scope
checked before the body is read, the JSON body read (empty is ``{}``), the handler run on a worker
thread, and a service's refusal answered with Lettr's envelope and status."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from lettr_cli.api.envelopes import SERVER_ERROR, failure, invalid, refused
from lettr_cli.api.openapi import ApiRoute, Doc
from lettr_cli.errors import LettrError
from lettr_cli.signing.api_keys import authenticate, scopes_of
from lettr_cli.signing.api_limits import Guards
from lettr_cli.workspace import Workspace

log = logging.getLogger("lettr.api")

KEY_REQUIRED: Final = "API key is required."
KEY_INVALID: Final = "Invalid API key."
INSUFFICIENT: Final = "Your API key does not have the required permissions for this action."
TOO_MANY: Final = "Too many requests. Please retry after the time in Retry-After."
BLOCKED: Final = "Too many failed authentication attempts. Please retry later."
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it."""

    workspace: Workspace
    path: Mapping[str, str]
    query: Mapping[str, str]
    body: dict[str, Any] = field(default_factory=dict)
    nameserver: str | None = None  # `lettr serve --nameserver`: where domain checks ask DNS


Handler = Callable[[Call], Response]
AsyncHandler = Callable[[Call], Awaitable[Response]]


def presented_key(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _scopes(workspace: Workspace, key: str) -> list[str] | None:
    with workspace.store.read() as session:
        row = authenticate(session, key)
        return None if row is None else scopes_of(row)


async def authorize(workspace: Workspace, request: Request, scope: str | None) -> Response | None:
    """None when the request's key is live (and holds ``scope``, if one is needed); else the
    401 or 403 answer."""
    key = presented_key(request)
    if key is None:
        return failure(401, KEY_REQUIRED, None)
    scopes = await run_in_threadpool(_scopes, workspace, key)
    if scopes is None:
        return failure(401, KEY_INVALID, None)
    if scope is not None and scope not in scopes:
        return failure(403, INSUFFICIENT, "insufficient_scope")
    return None


async def read_body(request: Request) -> dict[str, Any] | Response:
    """The JSON object sent, ``{}`` for an empty body; else a 422 answer."""
    if request.method not in _WITH_BODY:
        return {}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return invalid("body", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return invalid("body", "The request body must be a JSON object.")
    return body


async def guarded(work: Callable[[], Awaitable[Response]]) -> Response:
    """``work``'s answer; a refusal as Lettr's envelope, anything else a logged 500."""
    try:
        return await work()
    except LettrError as exc:
        return refused(exc)
    except Exception:
        log.exception("the API failed on a request")
        return failure(500, SERVER_ERROR, "send_error")


def route(
    path: str,
    method: str,
    scope: str | None,
    handler: Handler | None = None,
    *,
    run: AsyncHandler | None = None,
    doc: Doc | None = None,
) -> ApiRoute:
    """An authenticated endpoint: ``handler`` runs on a worker thread, ``run`` (for handlers
    that await services) in the event loop."""

    async def endpoint(request: Request) -> Response:
        workspace: Workspace = request.app.state.workspace
        guards: Guards = request.app.state.guards
        client = request.client.host if request.client else ""
        key = presented_key(request)
        wait = guards.auth.blocked_for(client, key)
        if wait is not None:
            blocked = failure(429, BLOCKED, "rate_limit_exceeded")
            blocked.headers["Retry-After"] = str(wait)
            return blocked
        verdict = guards.rate.check(client, key)
        if verdict is not None and not verdict.allowed:
            refused = failure(429, TOO_MANY, "rate_limit_exceeded")
            refused.headers.update(verdict.headers())
            return refused

        async def work() -> Response:
            refusal = await authorize(workspace, request, scope)
            if refusal is not None:
                if refusal.status_code == 401:
                    guards.auth.failed(client, key)
                return refusal
            body = await read_body(request)
            if isinstance(body, Response):
                return body
            call = Call(
                workspace,
                dict(request.path_params),
                dict(request.query_params),
                body,
                nameserver=getattr(request.app.state, "nameserver", None),
            )
            if run is not None:
                return await run(call)
            assert handler is not None
            return await run_in_threadpool(handler, call)

        response = await guarded(work)
        if verdict is not None:
            response.headers.update(verdict.headers())
        return response

    described = doc or Doc(f"{method} {path}")
    return ApiRoute(path, endpoint, methods=[method], scope=scope, doc=described)
