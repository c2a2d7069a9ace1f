"""The tracking server: an ASGI app (Starlette) with the four endpoints of CONTRACT "Tracking",
and ``/confirm/{token}``, the double opt-in link (``tracking.confirmations``).

``/o/{token}.gif`` an open (a 1×1 GIF, never cached), ``/c/{token}/{n}`` a click (a redirect to
link n of the message as rendered for that row: never a URL from the request), ``/u/{token}``
an unsubscribe (GET: a confirm page that changes nothing; POST: unsubscribes, answering 2xx only
once the write is committed, 503 with ``Retry-After`` while the store stays busy) and
``/v/{token}`` the web version. A forged or altered token gets 404 and nothing is recorded;
``test`` tokens (previews, test sends) record nothing.

Imported by ``lettr track serve`` only (Starlette is not loaded for other commands).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from lettr_cli.signing.tokens import Purpose, Token
from lettr_cli.store.types import utcnow
from lettr_cli.tracking.access_log import AccessLog
from lettr_cli.tracking.fast_path import FastPath
from lettr_cli.tracking.hot import LINK_NUMBER, NOT_FOUND, PIXEL, PIXEL_ANSWER, Hot
from lettr_cli.tracking.pages import NO_STORE, not_found, page, this_was_a_test
from lettr_cli.tracking.preference_centre import PreferenceCentre
from lettr_cli.tracking.tracker import Tracker
from lettr_cli.workspace import Workspace

__all__ = ["PIXEL", "Endpoints", "create_app"]

log = logging.getLogger("lettr.tracking")


class Endpoints(Hot):
    """The endpoints over one ``Tracker``: the hot ones (``tracking.hot``) as Starlette
    routes, their HEAD answers, and the pages."""

    async def open_pixel(self, request: Request) -> Response:
        token = request.path_params["token"]
        if request.method == "GET":
            address = request.client.host if request.client else None
            return await self.open(token, request.headers.get("user-agent", ""), address)
        found = self.tracker.verify(token)  # HEAD: the row must exist; nothing is recorded
        if found is None or found.purpose not in (Purpose.OPEN, Purpose.TEST):
            return NOT_FOUND
        if found.purpose is Purpose.OPEN and not await self.row_exists(found.row_id):
            return NOT_FOUND
        return PIXEL_ANSWER

    async def click_link(self, request: Request) -> Response:
        token, n = request.path_params["token"], request.path_params["n"]
        if request.method == "GET":
            return await self.click(token, n, request.headers.get("user-agent", ""))
        digits = LINK_NUMBER.fullmatch(n)  # HEAD: the same redirect; nothing is recorded
        found = None if digits is None else self.tracker.verify(token)
        if digits is None or found is None:
            return NOT_FOUND
        number = int(digits.group(0))
        if found.purpose is Purpose.TEST:
            url = await self.sample_link(found, token, number)
        elif found.purpose is Purpose.CLICK:
            url = await self.row_link(found.row_id, number)
        else:
            return NOT_FOUND
        if url is None:
            return NOT_FOUND
        return RedirectResponse(url, status_code=302, headers=NO_STORE)

    async def unsubscribe_page(self, request: Request) -> Response:
        target = await self.row_for(request.path_params["token"], Purpose.UNSUBSCRIBE)
        if target is None:
            return not_found()
        if isinstance(target, Token):
            return this_was_a_test()
        if target.unsubscribed_at is not None:
            return page("Unsubscribed", f"<p>{html.escape(target.email)} is unsubscribed.</p>")
        return page(
            "Unsubscribe",
            f"<p>Stop all email to {html.escape(target.email)}?</p>"
            '<form method="post"><input type="hidden" name="confirm" value="1">'
            '<button type="submit">Unsubscribe</button></form>',
        )

    async def unsubscribe_post(self, request: Request) -> Response:
        return await self.unsubscribe(request, request.path_params["token"])

    async def web_version(self, request: Request) -> Response:
        target = await self.row_for(request.path_params["token"], Purpose.VIEW)
        if target is None:
            return not_found()
        if isinstance(target, Token):
            return this_was_a_test()
        rendered = await run_in_threadpool(self.tracker.render_row, target)
        if rendered is None:
            return not_found()
        return HTMLResponse(rendered.html, headers=NO_STORE)


def create_app(workspace: Workspace, clock: Callable[[], datetime] = utcnow) -> FastPath:
    """The tracking app over an open workspace, behind its fast path for the hot endpoints
    (``tracking.fast_path``); ``clock`` is injectable for tests."""
    from lettr_cli.tracking.confirmations import ConfirmEndpoints

    tracker = Tracker(workspace, clock)
    endpoints = Endpoints(tracker)
    confirm = ConfirmEndpoints(tracker)
    preferences = PreferenceCentre(endpoints)
    routes = [
        Route("/o/{token}.gif", endpoints.open_pixel, methods=["GET"]),
        Route("/c/{token}/{n}", endpoints.click_link, methods=["GET"]),
        Route("/u/{token}", endpoints.unsubscribe_page, methods=["GET"]),
        Route("/u/{token}", endpoints.unsubscribe_post, methods=["POST"]),
        Route("/v/{token}", endpoints.web_version, methods=["GET"]),
        Route("/confirm/{token}", confirm.page, methods=["GET"]),
        Route("/confirm/{token}", confirm.post, methods=["POST"]),
        Route("/p/{token}", preferences.show, methods=["GET"]),
        Route("/p/{token}", preferences.save, methods=["POST"]),
    ]
    return FastPath(Starlette(routes=routes, middleware=[Middleware(AccessLog)]), endpoints)
