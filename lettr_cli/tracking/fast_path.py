"""The tracking app's fast path: the three URLs a burst hits answered without Starlette's
router and middleware stack, everything else passed on to the app unchanged.

``GET /o/{token}.gif``, ``GET /c/{token}/{n}`` and ``POST /u/{token}`` are matched with the
very regular expressions the app's routes compile to (``starlette.routing.compile_path``), so
a path reaches the same handler either way, and answered by the same coroutines
(``tracking.hot``) the routes call: the same status, headers and body, the same token checks
and the same writes. What the middleware stack adds is done here too: one access line per
request (``tracking.access_log``) and, should a handler raise, the stack's plain
``500 Internal Server Error`` before the error goes on to the server. HEAD, other methods,
other paths, lifespan events and an app mounted under a prefix all go to the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from lettr_cli.tracking.access_log import ACCESS, access_line
from lettr_cli.tracking.hot import Hot

_OPEN = compile_path("/o/{token}.gif")[0]
_CLICK = compile_path("/c/{token}/{n}")[0]
_UNSUBSCRIBE = compile_path("/u/{token}")[0]
_SERVER_ERROR = PlainTextResponse("Internal Server Error", status_code=500)


class FastPath:
    """ASGI: the hot endpoints of ``hot`` answered directly, anything else by ``app``."""

    def __init__(self, app: ASGIApp, hot: Hot) -> None:
        self.app = app
        self.hot = hot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = self._route(scope, receive) if scope["type"] == "http" else None
        if answer is None:
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # unless the handler answers
        try:
            try:
                response = await answer
            except Exception:
                # Starlette's ServerErrorMiddleware: a plain 500, then the error goes on.
                await _SERVER_ERROR(scope, receive, send)
                raise
            status = response.status_code
            await response(scope, receive, send)
        finally:
            if ACCESS.isEnabledFor(logging.INFO):
                ACCESS.info("%s", access_line(scope, status, time.perf_counter() - began))

    def _route(self, scope: Scope, receive: Receive) -> Awaitable[Response] | None:
        """The hot handler's answer (not yet awaited) for this request, or None for the app."""
        if scope.get("root_path"):
            return None  # mounted under a prefix: let the app's routing strip it
        method, path = scope["method"], scope["path"]
        hot = self.hot
        if method == "GET":
            found = _OPEN.match(path)
            if found is not None:
                client = scope.get("client")
                address = client[0] if client else None
                return hot.open(found["token"], _user_agent(scope), address)
            found = _CLICK.match(path)
            if found is not None:
                return hot.click(found["token"], found["n"], _user_agent(scope))
        elif method == "POST":
            found = _UNSUBSCRIBE.match(path)
            if found is not None:
                request = Request({**scope, "path_params": {"token": found["token"]}}, receive)
                return hot.unsubscribe(request, found["token"])
        return None


def _user_agent(scope: Scope) -> str:
    """The request's first User-Agent header (as Starlette's ``Headers.get`` reads it)."""
    for name, value in scope["headers"]:
        if name == b"user-agent":
            return str(value.decode("latin-1"))
    return ""
