"""``/confirm/{token}``: the double opt-in link (issue 19).

GET shows a page with a button and changes nothing, so a link scanner that fetches every URL
in a mail cannot confirm someone who never asked; the button POSTs ``confirm=1`` (as ``/u/``
does), which confirms and answers 303 to the operator's redirect URL once the change is
committed. With ``optin.confirm_on_get`` a GET confirms at once. An invalid, forged, expired or
used link is a 404 page, with no redirect.
"""

from __future__ import annotations

import html
import logging

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from lettr_cli.errors import StoreUnavailable
from lettr_cli.optin import confirming
from lettr_cli.store.failures import is_busy
from lettr_cli.tracking.forms import posted_form
from lettr_cli.tracking.pages import NO_STORE, page
from lettr_cli.tracking.tracker import Tracker

log = logging.getLogger("lettr.tracking")


class ConfirmEndpoints:
    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.confirm_on_get = bool(tracker.settings["optin.confirm_on_get"])

    async def _pending(self, request: Request) -> confirming.Pending | None:
        tracker = self.tracker
        contact_id = confirming.contact_of(
            tracker.verify(request.path_params["token"]), tracker.clock()
        )
        if contact_id is None:
            return None
        return await run_in_threadpool(confirming.pending, tracker.store, contact_id)

    async def page(self, request: Request) -> Response:
        waiting = await self._pending(request)
        if waiting is None:
            return invalid_link()
        if self.confirm_on_get:
            return await self._confirm(waiting)
        return page(
            "Confirm your subscription",
            f"<p>Confirm that {html.escape(waiting.email)} wants to receive our email?</p>"
            '<form method="post"><input type="hidden" name="confirm" value="1">'
            '<button type="submit">Confirm</button></form>',
        )

    async def post(self, request: Request) -> Response:
        waiting = await self._pending(request)
        if waiting is None:
            return invalid_link()
        fields = await posted_form(request)
        if isinstance(fields, Response):
            return fields
        if "1" not in fields.get("confirm", []):
            return PlainTextResponse("Post confirm=1.", status_code=400, headers=NO_STORE)
        return await self._confirm(waiting)

    async def _confirm(self, waiting: confirming.Pending) -> Response:
        tracker = self.tracker
        try:
            redirect = await run_in_threadpool(
                confirming.confirm, tracker.store, waiting.contact_id, tracker.clock()
            )
        except (OperationalError, StoreUnavailable) as exc:
            if not is_busy(exc):
                raise
            log.warning("confirmation of %s not recorded: the store is busy", waiting.contact_id)
            return PlainTextResponse(
                "Busy; please try again shortly.",
                status_code=503,
                headers={**NO_STORE, "Retry-After": str(max(1, tracker.busy_timeout))},
            )
        if redirect is None:
            return invalid_link()
        return RedirectResponse(redirect, status_code=303, headers=NO_STORE)


def invalid_link() -> Response:
    response = page(
        "Link not valid",
        "<p>This confirmation link is not valid: it may have been used already, or have "
        "expired.</p>",
    )
    response.status_code = 404
    return response
