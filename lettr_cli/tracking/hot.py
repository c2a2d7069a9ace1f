"""The three endpoints a burst hits (an open's GET, a click's GET, an unsubscribe's POST), as
plain coroutines over a token and the few request fields they read, so that both the Starlette
routes (``tracking.app``) and the fast path in front of them (``tracking.fast_path``) answer
with the very same code.

Each verifies the signed token (a forged or altered one gets 404 and nothing is recorded) and
hands its write to the tracker's group writer, which also reads the row (and, for a click, the
row's links): nothing touches the store on the event loop. Constant answers (the pixel, 404)
are built once.
"""

from __future__ import annotations

import html
import logging
import re
import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from lettr_cli.signing.tokens import Purpose, Token
from lettr_cli.tracking import recording
from lettr_cli.tracking.forms import Fields, posted_form
from lettr_cli.tracking.group_writes import Click, Unsubscribe
from lettr_cli.tracking.pages import NO_STORE, not_found, page, this_was_a_test
from lettr_cli.tracking.recording import Open, Recipient, StoreBusy
from lettr_cli.tracking.tracker import Tracker

log = logging.getLogger("lettr.tracking")

# The smallest transparent GIF: 1×1, one colour, 43 bytes.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
# Built once and shared: a Response is only read when it is sent.
PIXEL_ANSWER = Response(PIXEL, media_type="image/gif", headers=NO_STORE)
NOT_FOUND = not_found()
# Links are numbered from 1 in document order; six digits are far more than a message holds,
# and a longer number would only be a long way to say 404.
LINK_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


class Hot:
    """The hot endpoints over one ``Tracker``; also the row look-ups the other endpoints share."""

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

    async def open(self, token: str, user_agent: str, address: str | None) -> Response:
        """``GET /o/{token}.gif``: the open recorded (unless a test token), then the pixel."""
        tracker = self.tracker
        found = tracker.verify(token)
        if found is None or found.purpose not in (Purpose.OPEN, Purpose.TEST):
            return NOT_FOUND
        if found.purpose is Purpose.OPEN:
            seen = Open(
                row_id=found.row_id,
                user_agent=user_agent,
                address=address,
                now=tracker.clock(),
                machine_seconds=tracker.machine_seconds,
            )
            try:
                if not await tracker.write(seen):
                    return NOT_FOUND
            except StoreBusy as exc:
                log.warning("open of row %s not recorded: %s", seen.row_id, exc.message)
        return PIXEL_ANSWER

    async def click(self, token: str, n: str, user_agent: str) -> Response:
        """``GET /c/{token}/{n}``: the click recorded, then a redirect to link n of the
        message as the row got it (a test token: of the campaign's sample)."""
        digits = LINK_NUMBER.fullmatch(n)
        if digits is None:
            return NOT_FOUND
        number = int(digits.group(0))
        tracker = self.tracker
        found = tracker.verify(token)
        if found is None or found.purpose not in (Purpose.CLICK, Purpose.TEST):
            return NOT_FOUND
        if found.purpose is Purpose.TEST:
            url = await self.sample_link(found, token, number)
        else:
            seen = Click(
                row_id=found.row_id, number=number, user_agent=user_agent, now=tracker.clock()
            )
            try:
                url = await tracker.write(seen)
            except StoreBusy as exc:
                log.warning("click of row %s not recorded: %s", seen.row_id, exc.message)
                url = await self.row_link(seen.row_id, number)
        if url is None:
            return NOT_FOUND
        return RedirectResponse(url, status_code=302, headers=NO_STORE)

    async def row_link(self, row_id: int, number: int) -> str | None:
        """Link ``number`` of the row's message, read without writing (None: 404)."""
        row = await run_in_threadpool(recording.find_row, self.tracker.store, row_id)
        links = None if row is None else await run_in_threadpool(self.tracker.links_of, row)
        return None if links is None or number > len(links) else links[number - 1].url

    async def sample_link(self, found: Token, token: str, number: int) -> str | None:
        """Link ``number`` of the campaign's sample message, which a test token names."""
        campaign_id = _campaign_id(found)
        if campaign_id is None:
            return None
        sample = self.tracker.render_sample
        rendered = await run_in_threadpool(sample, campaign_id, token)
        links = None if rendered is None else rendered.links
        return None if links is None or number > len(links) else links[number - 1].url

    async def unsubscribe(self, request: Request, token: str) -> Response:
        """``POST /u/{token}``: the unsubscribe, answered only once it is committed (503 with
        ``Retry-After`` while the store stays busy)."""
        tracker = self.tracker
        found = tracker.verify(token)
        if found is None or found.purpose not in (Purpose.UNSUBSCRIBE, Purpose.TEST):
            return NOT_FOUND
        method = await read_method(request)
        is_row = found.purpose is Purpose.UNSUBSCRIBE
        if isinstance(method, Response):  # a missing row is 404 before a bad body
            return NOT_FOUND if is_row and not await self.row_exists(found.row_id) else method
        if not is_row:
            return this_was_a_test()
        agent = request.headers.get("user-agent", "")
        return await self._unsubscribed(Unsubscribe(found.row_id, method, agent, tracker.clock()))

    async def _unsubscribed(self, seen: Unsubscribe) -> Response:
        tracker = self.tracker
        try:
            # Answered only once the group holding it is committed.
            row = await tracker.write(seen)
        except StoreBusy:
            if not await self.row_exists(seen.row_id):
                return NOT_FOUND
            return PlainTextResponse(
                "Busy; please try again shortly.",
                status_code=503,
                headers={**NO_STORE, "Retry-After": str(max(1, tracker.busy_timeout))},
            )
        if row is None:
            return NOT_FOUND
        return page("Unsubscribed", f"<p>{html.escape(row.email)} is unsubscribed.</p>")


async def read_method(request: Request) -> str | Response:
    """The unsubscribe method a POST names, or the response that refuses it."""
    fields = await posted_form(request)
    if isinstance(fields, Response):
        return fields
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
