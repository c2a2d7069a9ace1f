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
import re
import uuid
from collections.abc import Callable
from datetime import datetime

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from lettr_cli.signing.tokens import Purpose, Token
from lettr_cli.store.types import utcnow
from lettr_cli.tracking import recording
from lettr_cli.tracking.access_log import AccessLog
from lettr_cli.tracking.forms import Fields, Refusal, form_fields, read_body
from lettr_cli.tracking.pages import NO_STORE, not_found, page, this_was_a_test
from lettr_cli.tracking.preference_centre import PreferenceCentre
from lettr_cli.tracking.recording import Recipient, StoreBusy
from lettr_cli.tracking.tracker import Tracker
from lettr_cli.workspace import Workspace

log = logging.getLogger("lettr.tracking")

# The smallest transparent GIF: 1×1, one colour, 43 bytes.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
# Links are numbered from 1 in document order; six digits are far more than a message holds,
# and a longer number would only be a long way to say 404.
_LINK_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


class Endpoints:
    """The four endpoints over one ``Tracker``."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    async def row_for(self, token: str, purpose: Purpose) -> Token | Recipient | None:
        """The row a token names, the test token itself, or None (404)."""
        found = self.tracker.verify(token)
        if found is None:
            return None
        if found.purpose is Purpose.TEST:
            return found
        if found.purpose is not purpose:
            return None
        return await run_in_threadpool(recording.find_row, self.tracker.store, found.row_id)

    async def row_exists(self, row_id: int) -> bool:
        found = await run_in_threadpool(recording.find_row, self.tracker.store, row_id)
        return found is not None

    async def open_pixel(self, request: Request) -> Response:
        tracker = self.tracker
        found = tracker.verify(request.path_params["token"])
        if found is None or found.purpose not in (Purpose.OPEN, Purpose.TEST):
            return not_found()
        if found.purpose is Purpose.OPEN and request.method == "GET":
            seen = recording.Open(
                row_id=found.row_id,
                user_agent=request.headers.get("user-agent", ""),
                address=request.client.host if request.client else None,
                now=tracker.clock(),
                machine_seconds=tracker.machine_seconds,
            )
            try:
                if not await tracker.write(lambda conn: recording.open_of(conn, seen)):
                    return not_found()
            except StoreBusy as exc:
                log.warning("open of row %s not recorded: %s", seen.row_id, exc.message)
        elif found.purpose is Purpose.OPEN and not await self.row_exists(found.row_id):
            return not_found()  # HEAD: the row must exist; nothing is recorded
        return Response(PIXEL, media_type="image/gif", headers=NO_STORE)

    async def click(self, request: Request) -> Response:
        tracker = self.tracker
        token = request.path_params["token"]
        digits = _LINK_NUMBER.fullmatch(request.path_params["n"])
        if digits is None:
            return not_found()
        number = int(digits.group(0))
        target = await self.row_for(token, Purpose.CLICK)
        if target is None:
            return not_found()
        if isinstance(target, Recipient):
            links = await run_in_threadpool(tracker.links_of, target)
        else:
            campaign_id = _campaign_id(target)
            rendered = (
                None
                if campaign_id is None
                else await run_in_threadpool(tracker.render_sample, campaign_id, token)
            )
            links = None if rendered is None else rendered.links
        if links is None or number > len(links):
            return not_found()
        link = links[number - 1]
        url = link.url  # the UTM-tagged target when the campaign tags its links
        if isinstance(target, Recipient) and request.method == "GET" and not link.own:
            row, agent, now = target, request.headers.get("user-agent", ""), tracker.clock()
            written = link.as_written  # the report counts links as the content has them
            try:
                await tracker.write(lambda conn: recording.click_in(conn, row, written, agent, now))
            except StoreBusy as exc:
                log.warning("click of row %s not recorded: %s", target.row_id, exc.message)
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
        tracker = self.tracker
        target = await self.row_for(request.path_params["token"], Purpose.UNSUBSCRIBE)
        if target is None:
            return not_found()
        method = await read_method(request)
        if isinstance(method, Response):
            return method
        if isinstance(target, Token):
            return this_was_a_test()
        row, agent, now = target, request.headers.get("user-agent", ""), tracker.clock()
        try:
            # Answered only once the group holding it is committed.
            await tracker.write(
                lambda conn: recording.unsubscribe_in(conn, row, method, agent, now)
            )
        except StoreBusy:
            return PlainTextResponse(
                "Busy; please try again shortly.",
                status_code=503,
                headers={**NO_STORE, "Retry-After": str(max(1, tracker.busy_timeout))},
            )
        return page("Unsubscribed", f"<p>{html.escape(target.email)} is unsubscribed.</p>")

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


def create_app(workspace: Workspace, clock: Callable[[], datetime] = utcnow) -> Starlette:
    """The tracking app over an open workspace; ``clock`` is injectable for tests."""
    from lettr_cli.tracking.confirmations import ConfirmEndpoints

    tracker = Tracker(workspace, clock)
    endpoints = Endpoints(tracker)
    confirm = ConfirmEndpoints(tracker)
    preferences = PreferenceCentre(endpoints)
    routes = [
        Route("/o/{token}.gif", endpoints.open_pixel, methods=["GET"]),
        Route("/c/{token}/{n}", endpoints.click, methods=["GET"]),
        Route("/u/{token}", endpoints.unsubscribe_page, methods=["GET"]),
        Route("/u/{token}", endpoints.unsubscribe_post, methods=["POST"]),
        Route("/v/{token}", endpoints.web_version, methods=["GET"]),
        Route("/confirm/{token}", confirm.page, methods=["GET"]),
        Route("/confirm/{token}", confirm.post, methods=["POST"]),
        Route("/p/{token}", preferences.show, methods=["GET"]),
        Route("/p/{token}", preferences.save, methods=["POST"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(AccessLog)])


async def read_method(request: Request) -> str | Response:
    """The unsubscribe method a POST names, or the response that refuses it."""
    body = await read_body(request)
    fields = (
        body
        if isinstance(body, Refusal)
        else form_fields(request.headers.get("content-type", ""), body)
    )
    if isinstance(fields, Refusal):
        return PlainTextResponse(fields.text, status_code=fields.status, headers=NO_STORE)
    method = unsubscribe_method(fields)
    if method is None:
        return PlainTextResponse(
            "Post confirm=1, or List-Unsubscribe=One-Click (RFC 8058).",
            status_code=400,
            headers=NO_STORE,
        )
    return method


def unsubscribe_method(fields: Fields) -> str | None:
    """``list_unsubscribe`` for RFC 8058's ``List-Unsubscribe=One-Click``, ``link_unsubscribe``
    for the confirm page's ``confirm=1``; else None."""
    if "One-Click" in fields.get("List-Unsubscribe", []):
        return recording.LIST_UNSUBSCRIBE
    if "1" in fields.get("confirm", []):
        return recording.LINK_UNSUBSCRIBE
    return None


def _campaign_id(token: Token) -> str | None:
    try:
        return str(uuid.UUID(hex=token.ident))
    except ValueError:
        return None
