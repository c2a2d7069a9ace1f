"""The demo's readers: a tracking server on loopback, and real HTTP requests to it from some of
the messages the sink kept, made after the machine-open window, with a browser's User-Agent,
so that the report at the end shows opens and clicks that went through the whole path."""

from __future__ import annotations

import email
import mailbox
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

from lettr_cli.workspace import Workspace

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
MACHINE_WINDOW_SECONDS = 1  # the demo's tracking.machine_open_seconds: a short wait, then reads
OPEN_EVERY = 3  # every third recipient opens the message ...
CLICK_EVERY = 5  # ... and every fifth clicks its first link


@dataclass
class Engagement:
    opens: int = 0
    clicks: int = 0


@contextmanager
def running_tracker(workspace: Workspace) -> Iterator[str]:
    """`lettr track serve` for the demo's store, on a free loopback port; yields its base URL
    and points ``tracking.base_url`` at it (messages built afterwards link there)."""
    import uvicorn

    from lettr_cli.tracking.app import create_app

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    workspace.set_config("tracking.base_url", base_url)
    workspace.set_config("tracking.machine_open_seconds", str(MACHINE_WINDOW_SECONDS))
    config = uvicorn.Config(
        create_app(workspace), log_level="warning", server_header=False, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A click answers with a redirect to example.com; the demo stops there."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def engage(maildir: Path, base_url: str) -> Engagement:
    """Open every third message kept in ``maildir`` and click in every fifth, as a person would
    (after the machine-open window, with a full browser User-Agent)."""
    time.sleep(MACHINE_WINDOW_SECONDS + 0.2)
    opener = urllib.request.build_opener(_NoRedirect)
    pixel = re.compile(re.escape(base_url) + r"/o/[A-Za-z0-9._-]+\.gif")
    click = re.compile(re.escape(base_url) + r"/c/[A-Za-z0-9._-]+/\d+")
    done = Engagement()
    box = mailbox.Maildir(maildir, create=False)
    for index, key in enumerate(sorted(box.keys())):
        if index % OPEN_EVERY:
            continue
        html = _html_of(box.get_bytes(key))
        found = pixel.search(html)
        if found and _get(opener, found.group(0)):
            done.opens += 1
        link = click.search(html)
        if index % CLICK_EVERY == 0 and link and _get(opener, link.group(0)):
            done.clicks += 1
    return done


def _html_of(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("html",))
    return str(part.get_content()) if part is not None else ""


def _get(opener: urllib.request.OpenerDirector, url: str) -> bool:
    if not url.startswith("http://127.0.0.1:"):  # only the demo's own tracking server
        return False
    request = urllib.request.Request(url, headers={"User-Agent": BROWSER})  # noqa: S310
    try:
        with opener.open(request, timeout=10) as answer:
            return bool(200 <= answer.status < 300)
    except urllib.error.HTTPError as answer:
        return answer.code in (301, 302, 303, 307, 308)
    except OSError:
        return False
