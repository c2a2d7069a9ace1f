"""Machine opens (CONTRACT "Tracking"), unsubscribes reaching a send in progress, and the
server under uvicorn on loopback."""

from __future__ import annotations

import sqlite3
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from lettr_cli.store.types import utcnow
from tests.tracking_helpers import (
    BROWSER,
    app_client,
    contact_status,
    counters,
    events,
    links_in,
    sent_campaign,
)

ANN = "ann@example.com"
LATER = timedelta(hours=2)


def _later() -> object:
    return utcnow() + LATER


MACHINES = [
    pytest.param("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", None, id="GoogleImageProxy"),  # noqa: E501
    pytest.param("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", None, id="YahooMailProxy"),  # noqa: E501
    pytest.param("Mozilla/5.0", None, id="bare-Mozilla"),
    pytest.param(BROWSER, ("17.58.100.1", 40000), id="Apple-17/8"),
    pytest.param("Mozilla/5.0 (Windows NT 6.1; WOW64) BingPreview/1.0b", None, id="BingPreview"),
    pytest.param("Microsoft Office Existence Discovery", None, id="Office-existence"),
]  # fmt: skip


@pytest.mark.parametrize(("agent", "client"), MACHINES)
def test_machine_opens_count_apart_from_opens(
    lettr,
    smtp_server,
    verified_domain,
    tmp_path: Path,
    isolated_home: Path,
    agent: str,
    client: tuple[str, int] | None,
) -> None:
    from starlette.testclient import TestClient

    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    app = app_client(isolated_home, clock=_later).app
    http = TestClient(app, client=client) if client else TestClient(app)

    assert http.get(links[ANN].pixel, headers={"User-Agent": agent}).status_code == 200
    assert http.get(links[ANN].pixel, headers={"User-Agent": agent}).status_code == 200

    stats = counters(isolated_home, campaign)
    assert (stats["machine_opens"], stats["unique_machine_opens"]) == (2, 1)
    assert (stats["opens"], stats["unique_opens"]) == (0, 0)
    assert events(isolated_home, "open") == [("open", ANN, None, agent, 1)] * 2


def test_an_open_soon_after_acceptance_is_a_machine_and_a_later_browser_open_a_person(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    lettr("config", "set", "tracking.machine_open_seconds", "10")
    now = [utcnow()]
    client = app_client(isolated_home, clock=lambda: now[0])

    client.get(links[ANN].pixel, headers={"User-Agent": BROWSER})  # seconds after the relay
    now[0] = utcnow() + LATER
    client.get(links[ANN].pixel, headers={"User-Agent": BROWSER})  # hours later: a person

    stats = counters(isolated_home, campaign)
    assert (stats["machine_opens"], stats["unique_machine_opens"]) == (1, 1)
    assert (stats["opens"], stats["unique_opens"]) == (1, 1)
    assert [e[4] for e in events(isolated_home, "open")] == [1, 0]


def test_an_unsubscribed_contacts_queued_row_is_skipped_by_a_later_tick(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    from tests.sending_helpers import outbox_rows
    from tests.tracking_helpers import create_campaign

    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    second = create_campaign(lettr, tmp_path, name="Second")
    lettr("config", "set", "sending.paused", "true")
    assert lettr("campaign", "send", second, "--yes").exit_code == 0
    assert {status for status, _ in outbox_rows(isolated_home, second).values()} == {"queued"}

    response = app_client(isolated_home).post(links[ANN].unsubscribe, data={"confirm": "1"})
    assert response.status_code == 200
    lettr("config", "set", "sending.paused", "false")
    before = len(smtp_server.arrived())
    tick = lettr("daemon", "tick", "--json")

    assert tick.exit_code == 0, tick.stderr
    rows = outbox_rows(isolated_home, second)
    assert rows[ANN][0] == "skipped"
    assert rows["bob@example.org"][0] == "sent"
    assert [rcpts for _, rcpts, _ in smtp_server.arrived()[before:]] == [["bob@example.org"]]
    assert contact_status(isolated_home, ANN) == "unsubscribed"


def test_the_app_answers_real_http_under_uvicorn_on_loopback(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    import socket

    import uvicorn

    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    app = app_client(isolated_home).app
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        base = f"http://127.0.0.1:{port}"
        request = urllib.request.Request(base + links[ANN].pixel, headers={"User-Agent": BROWSER})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "image/gif"
            assert response.read().startswith(b"GIF89a")
        post = urllib.request.Request(
            base + links[ANN].unsubscribe,
            data=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        with urllib.request.urlopen(post, timeout=10) as response:
            assert response.status == 200
    finally:
        server.should_exit = True
        thread.join(timeout=20)
    assert counters(isolated_home, campaign)["opens"] == 1
    assert contact_status(isolated_home, ANN) == "unsubscribed"
    with sqlite3.connect(isolated_home / "lettr.db") as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM events WHERE event_type = 'list_unsubscribe'"
            ).fetchone()[0]
            == 1
        )


def test_links_in_a_test_send_carry_test_tokens(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign, _ = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    result = lettr("campaign", "test", campaign, "--to", "qa@example.net")
    assert result.exit_code == 0, result.stderr
    links = links_in(smtp_server.arrived()[-1][2])
    client = app_client(isolated_home)
    page = client.post(links.unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert "This was a test" in page.text
    assert counters(isolated_home, campaign)["unsubscribes"] == 0
