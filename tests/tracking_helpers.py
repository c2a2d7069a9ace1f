"""Shared set-up for the tracking tests: a campaign really sent, its links, and the app."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.conftest import store_location
from tests.sending_helpers import new_campaign
from tests.store_access import store_connect

HTML = (
    "<html><body><p>Hi {{ first_name }},</p>"
    "<a href='https://example.com/offer?id=1'>See the offer</a> "
    "<a href='https://example.org/shop'>Shop</a>"
    "<p>Web version: {{ webversion_link }}</p></body></html>"
)
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
_PATH = re.compile(r"http://127\.0\.0\.1:8025(/[ocuvp]/[A-Za-z0-9_.\-/]+)")


@dataclass
class Links:
    pixel: str
    clicks: list[str]
    unsubscribe: str
    view: str
    preferences: str = ""


def links_in(message: EmailMessage) -> Links:
    body = message.get_body(("html",))
    assert body is not None
    html = body.get_content()
    paths = list(dict.fromkeys(_PATH.findall(html)))
    header = str(message["List-Unsubscribe"])
    unsubscribe = _PATH.findall(header)[0]
    return Links(
        pixel=next(p for p in paths if p.startswith("/o/")),
        clicks=[p for p in paths if p.startswith("/c/")],
        unsubscribe=unsubscribe,
        view=next(p for p in paths if p.startswith("/v/")),
        preferences=next((p for p in paths if p.startswith("/p/")), ""),
    )


def create_campaign(lettr: Any, tmp_path: Path, name: str = "Sale", html: str = HTML) -> str:
    return new_campaign(lettr, tmp_path, name, html=html)


def sent_campaign(
    lettr: Any, tmp_path: Path, smtp_server: Any, verified_domain: Any, html: str = HTML
) -> tuple[str, dict[str, Links]]:
    """Ann (first_name Ann) and Bob in the list Customers, a campaign sent to both; returns
    its id and each recipient's links as they arrived."""
    verified_domain()
    lettr("config", "set", "tracking.machine_open_seconds", "0")
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("list", "create", "Customers")
    audience = tmp_path / "audience.csv"
    audience.write_text(
        "email,first_name\nann@example.com,Ann\nbob@example.org,\n", encoding="utf-8"
    )
    assert lettr("contact", "import", str(audience), "--list", "Customers").exit_code == 0
    campaign = create_campaign(lettr, tmp_path, html=html)
    result = lettr("campaign", "send", campaign, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    return campaign, {rcpts[0]: links_in(message) for _, rcpts, message in smtp_server.arrived()}


def app_client(home: Path, clock: Any = None) -> Any:
    from starlette.testclient import TestClient

    from lettr_cli.tracking.app import create_app
    from lettr_cli.workspace import Workspace

    workspace = Workspace.open(store_location(home), home=home, environ={})
    app = create_app(workspace) if clock is None else create_app(workspace, clock)
    return TestClient(app, follow_redirects=False)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port (uvicorn's logs off); yields its base URL."""
    import uvicorn

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="critical", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        listener.close()


def counters(home: Path, campaign: str) -> dict[str, int]:
    names = [
        "opens",
        "unique_opens",
        "clicks",
        "unique_clicks",
        "unsubscribes",
        "machine_opens",
        "unique_machine_opens",
        "injections",
        "deliveries",
    ]
    with store_connect(home) as conn:
        row = conn.execute(
            f"SELECT {', '.join(names)} FROM campaigns WHERE id = ?", (campaign,)
        ).fetchone()
    return dict(zip(names, row, strict=True))


def events(home: Path, *types: str) -> list[tuple[Any, ...]]:
    with store_connect(home) as conn:
        return conn.execute(
            "SELECT event_type, email, target_link_url, user_agent, machine FROM events"
            f" WHERE event_type IN ({', '.join('?' for _ in types)}) ORDER BY id",
            types,
        ).fetchall()


def contact_status(home: Path, email: str) -> str:
    with store_connect(home) as conn:
        return str(
            conn.execute("SELECT status FROM contacts WHERE email = ?", (email,)).fetchone()[0]
        )


def snapshot(home: Path) -> tuple[Any, ...]:
    """Everything the tracking server may write."""
    with store_connect(home) as conn:
        return tuple(
            conn.execute(query).fetchall()
            for query in (
                "SELECT * FROM campaigns",
                "SELECT * FROM events",
                "SELECT * FROM outbox",
                "SELECT * FROM contacts",
                "SELECT * FROM activity",
                "SELECT * FROM suppressions",
            )
        )
