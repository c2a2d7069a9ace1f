"""One line per request of the tracking server: the method, the path with its token cut to its
first ``TOKEN_SHOWN`` characters, the status and how long the answer took.

A whole token in a log would let whoever reads the log unsubscribe its recipient or count
opens, so it is never written. Lines go to the ``lettr.tracking.access`` logger at INFO;
``lettr track serve`` writes them to stderr (and keeps uvicorn's own access log off).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS = logging.getLogger("lettr.tracking.access")
TOKEN_SHOWN = 8
PATH_SHOWN = 120
_PRINTABLE = re.compile("[!-~…]*")  # what ``_printable`` keeps as it is
_TOKEN_PATH = re.compile(r"(/(?:[ocuvp]|confirm)/)([^/]+?)(\.gif)?(/.*)?", re.DOTALL)


def shown_path(path: str) -> str:
    """``path`` (as it came, percent-encoded) with its token cut, anything but printable
    ASCII percent-encoded, and at most ``PATH_SHOWN`` characters."""
    found = _TOKEN_PATH.fullmatch(path)
    if found is not None:
        prefix, token, gif, rest = found.groups()
        if len(token) > TOKEN_SHOWN:
            token = token[:TOKEN_SHOWN] + "…"
        path = f"{prefix}{token}{gif or ''}{rest or ''}"
    path = _printable(path)
    return path if len(path) <= PATH_SHOWN else path[:PATH_SHOWN] + "…"


def _printable(text: str) -> str:
    """Printable ASCII as it is, anything else percent-encoded (no newline reaches a log)."""
    if _PRINTABLE.fullmatch(text) is not None:
        return text  # the usual path: nothing to encode
    kept = (ch if " " < ch < "\x7f" or ch == "…" else f"%{ord(ch) & 0xFF:02X}" for ch in text)
    return "".join(kept)


def _path_of(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        return raw.decode("latin-1")
    return str(scope.get("path", ""))


class AccessLog:
    """ASGI middleware: logs each HTTP request once it is answered (or has failed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # unless the app answers

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if ACCESS.isEnabledFor(logging.INFO):
                ACCESS.info("%s", access_line(scope, status, time.perf_counter() - began))


def access_line(scope: Any, status: int, seconds: float) -> str:
    method = _printable(str(scope.get("method", "-")))[:PATH_SHOWN]
    return f"{method} {shown_path(_path_of(scope))} {status} {round(seconds * 1000)} ms"
