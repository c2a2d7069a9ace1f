"""The small HTML pages and plain answers of the tracking server: one self-contained document
each (no external resources, readable on a phone), never cached."""

from __future__ import annotations

import html

from starlette.responses import HTMLResponse, PlainTextResponse, Response

NO_STORE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0, private",
    "Pragma": "no-cache",
    "Expires": "0",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def not_found() -> Response:
    return PlainTextResponse("Not found", status_code=404, headers=NO_STORE)


def plain(text: str, status: int) -> Response:
    return PlainTextResponse(text, status_code=status, headers=NO_STORE)


def this_was_a_test() -> Response:
    return page(
        "This was a test",
        "<p>This was a test message: nothing is recorded and nobody is unsubscribed.</p>",
    )


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto; '
        'padding: 0 1em">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=NO_STORE)
