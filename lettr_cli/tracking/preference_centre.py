"""The preference centre: ``/p/{token}`` (issue 19).

GET shows the public topics with the recipient's current choice and changes nothing; POST
saves the choices (``shown`` names the topics the page showed, ``topic`` those ticked) or, with
``unsubscribe=1``, unsubscribes from everything through the unsubscribe rule of ``/u/``
(``recording.unsubscribe``, counted as a ``link_unsubscribe``). No CSRF token: the signed token
in the path is the authority, as for ``/u/``. Answers come after the commit; 503 with
``Retry-After`` while the store stays busy. A ``test`` token (previews, test sends) gets
"this was a test"; a forged one 404. The texts are the ``optin.*`` settings.
"""

from __future__ import annotations

import html
from functools import partial
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from lettr_cli.errors import NotFound, ValidationError
from lettr_cli.signing.tokens import Purpose, Token
from lettr_cli.tracking import recording, topic_choices
from lettr_cli.tracking.forms import Fields, posted_form
from lettr_cli.tracking.pages import not_found, page, plain, this_was_a_test
from lettr_cli.tracking.recording import Recipient, StoreBusy
from lettr_cli.tracking.topic_choices import View

if TYPE_CHECKING:
    from lettr_cli.tracking.app import Endpoints

# A ``shown`` field, a ``topic`` field per ticked topic: far more than a page ever offers.
MAX_FIELDS = 500
_FIELD_STYLE = "display: block; padding: 0.6em 0; border-bottom: 1px solid #ddd"
_BUTTON_STYLE = "font-size: 1em; padding: 0.6em 1.2em; margin-top: 1em"


class PreferenceCentre:
    """The two handlers of ``/p/{token}`` over the tracking app's endpoints."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        self.tracker = endpoints.tracker
        settings = self.tracker.settings
        self.texts = {
            name: str(settings.text(f"optin.{name}"))
            for name in (
                "preferences_title",
                "preferences_intro",
                "preferences_save",
                "preferences_saved",
                "unsubscribe_all",
            )
        }

    async def show(self, request: Request) -> Response:
        target = await self.endpoints.row_for(request.path_params["token"], Purpose.PREFERENCES)
        if target is None:
            return not_found()
        if isinstance(target, Token):
            return this_was_a_test()
        return await self._answer(target)

    async def save(self, request: Request) -> Response:
        target = await self.endpoints.row_for(request.path_params["token"], Purpose.PREFERENCES)
        if target is None:
            return not_found()
        fields = await posted_form(request)
        if isinstance(fields, Response):
            return fields
        if isinstance(target, Token):
            return this_was_a_test()
        return await self._apply(target, fields, request.headers.get("user-agent", ""))

    async def _apply(self, target: Recipient, fields: Fields, agent: str) -> Response:
        if "1" not in fields.get("unsubscribe", []) and "shown" not in fields:
            return plain("Post shown= and topic= (the page's form), or unsubscribe=1.", 400)
        try:
            notice = await self._write(target, fields, agent)
        except StoreBusy:
            response = plain("Busy; please try again shortly.", 503)
            response.headers["Retry-After"] = str(max(1, self.tracker.busy_timeout))
            return response
        except NotFound:
            return not_found()
        except ValidationError as exc:
            status = 409 if "status" in (exc.errors or {}) else 400
            return await self._answer(target, notice=exc.message, status=status)
        return await self._answer(target, notice=notice)

    async def _write(self, row: Recipient, fields: Fields, agent: str) -> str:
        """Unsubscribe (the rule of ``/u/``) or save the choices; the notice to show."""
        tracker = self.tracker
        now = tracker.clock()
        if "1" in fields.get("unsubscribe", []):
            method = recording.LINK_UNSUBSCRIBE
            await run_in_threadpool(recording.unsubscribe, tracker.store, row, method, agent, now)
            return ""
        shown, ticked = _choices(fields)
        await run_in_threadpool(
            partial(topic_choices.save, user_agent=agent, now=now),
            tracker.store,
            row,
            shown,
            ticked,
        )
        return self.texts["preferences_saved"]

    async def _answer(self, row: Recipient, *, notice: str = "", status: int = 200) -> Response:
        found = await run_in_threadpool(topic_choices.view, self.tracker.store, row)
        if found is None:
            return not_found()
        return page(self.texts["preferences_title"], self.body(found, notice), status)

    def body(self, view: View, notice: str) -> str:
        """The page: who it is for, the notice, the topics form and the unsubscribe form."""
        texts = {name: html.escape(text) for name, text in self.texts.items()}
        parts = [f"<p><strong>{html.escape(view.email)}</strong></p>"]
        if notice:
            parts.append(
                '<p role="status" style="background: #eef; padding: 0.6em">'
                f"{html.escape(notice)}</p>"
            )
        if view.status != "subscribed":
            word = "is unsubscribed" if view.status == "unsubscribed" else "receives no email"
            parts.append(f"<p>{html.escape(view.email)} {word}.</p>")
            return "".join(parts)
        if view.choices:
            shown = ",".join(choice.id for choice in view.choices)
            parts.append(
                f'<p>{texts["preferences_intro"]}</p><form method="post">'
                f'<input type="hidden" name="shown" value="{html.escape(shown)}">'
            )
            for choice in view.choices:
                checked = " checked" if choice.opted_in else ""
                about = (
                    f"<br><small>{html.escape(choice.description)}</small>"
                    if choice.description
                    else ""
                )
                parts.append(
                    f'<label style="{_FIELD_STYLE}"><input type="checkbox" name="topic" '
                    f'value="{html.escape(choice.id)}"{checked}> '
                    f"<strong>{html.escape(choice.name)}</strong>{about}</label>"
                )
            parts.append(
                f'<button type="submit" style="{_BUTTON_STYLE}">{texts["preferences_save"]}'
                "</button></form>"
            )
        parts.append(
            '<form method="post" style="margin-top: 2em">'
            '<input type="hidden" name="unsubscribe" value="1">'
            f'<button type="submit" style="{_BUTTON_STYLE}">{texts["unsubscribe_all"]}</button>'
            "</form>"
        )
        return "".join(parts)


def _choices(fields: Fields) -> tuple[list[str], list[str]]:
    """The topic ids the page showed and those ticked."""
    shown = [part for value in fields["shown"] for part in value.split(",") if part]
    return list(dict.fromkeys(shown)), list(dict.fromkeys(fields.get("topic", [])))
