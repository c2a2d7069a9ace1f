"""The tracking server under a burst (issue 18): writes are grouped by one writer thread, and
every open, click and unsubscribe is answered only once its group is committed. Real HTTP to
the real app (uvicorn in a thread, or `lettr track serve` in a process of its own), a real
SQLite store; no timings asserted."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.send_cases import REPO
from tests.test_track_serve import _free_port, _wait_for
from tests.tracking_helpers import BROWSER, Links, app_client, counters, links_in, serving
from tests.tracking_helpers import create_campaign as make_campaign

RECIPIENTS = 20
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def sent_to_many(
    lettr: Any, tmp_path: Path, smtp_server: Any, verified_domain: Any
) -> tuple[str, list[Links]]:
    """A campaign really sent to RECIPIENTS contacts; its id and each message's links."""
    verified_domain()
    lettr("config", "set", "tracking.machine_open_seconds", "0")
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("list", "create", "Customers")
    audience = tmp_path / "audience.csv"
    rows = "".join(f"reader{i}@example.com,R{i}\n" for i in range(RECIPIENTS))
    audience.write_text("email,first_name\n" + rows, encoding="utf-8")
    assert lettr("contact", "import", str(audience), "--list", "Customers").exit_code == 0
    campaign = make_campaign(lettr, tmp_path)
    result = lettr("campaign", "send", campaign, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    return campaign, [links_in(message) for _, _, message in smtp_server.arrived()]


def _count(home: Path, sql: str) -> int:
    with sqlite3.connect(home / "lettr.db") as conn:
        return int(conn.execute(sql).fetchone()[0])


def _events(home: Path, kind: str) -> int:
    return _count(home, f"SELECT count(*) FROM events WHERE event_type = '{kind}'")


def _unsubscribed(home: Path) -> int:
    return _count(home, "SELECT count(*) FROM contacts WHERE status = 'unsubscribed'")


async def _burst(base: str, requests: list[tuple[str, str]]) -> list[int]:
    """Every request at once (up to 100 connections); the status of each."""
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:

        async def one(kind: str, path: str) -> int:
            if kind == "u":
                answer = await http.post(path, data=ONE_CLICK)
            else:
                answer = await http.get(path, headers={"User-Agent": BROWSER})
            return answer.status_code

        return list(await asyncio.gather(*(one(kind, path) for kind, path in requests)))


def _mix(links: list[Links], rounds: int) -> list[tuple[str, str]]:
    """``rounds`` opens and clicks of every recipient, and one unsubscribe of each."""
    requests: list[tuple[str, str]] = []
    for n in range(rounds):
        for mine in links:
            requests.append(("o", mine.pixel))
            requests.append(("c", mine.clicks[n % len(mine.clicks)]))
    requests += [("u", mine.unsubscribe) for mine in links]
    return requests


@pytest.mark.slow
def test_every_request_of_a_concurrent_burst_is_recorded(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign, links = sent_to_many(lettr, tmp_path, smtp_server, verified_domain)
    requests = _mix(links, rounds=8)  # 320 opens and clicks, 20 unsubscribes
    with serving(app_client(isolated_home).app) as base:
        statuses = asyncio.run(_burst(base, requests))

    expected = {"o": 200, "c": 302, "u": 200}
    assert statuses == [expected[kind] for kind, _ in requests]
    opens = sum(kind == "o" for kind, _ in requests)
    clicks = sum(kind == "c" for kind, _ in requests)
    assert (_events(isolated_home, "open"), _events(isolated_home, "click")) == (opens, clicks)
    assert _events(isolated_home, "list_unsubscribe") == RECIPIENTS
    assert _unsubscribed(isolated_home) == RECIPIENTS
    seen = counters(isolated_home, campaign)
    assert (seen["opens"], seen["unique_opens"]) == (opens, RECIPIENTS)
    assert (seen["clicks"], seen["unique_clicks"]) == (clicks, RECIPIENTS)
    assert seen["unsubscribes"] == RECIPIENTS
    clicked = _count(isolated_home, "SELECT sum(clicks) FROM link_clicks")
    assert clicked == clicks


@pytest.mark.slow
def test_an_unsubscribe_is_committed_before_its_answer_even_inside_a_burst(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_to_many(lettr, tmp_path, smtp_server, verified_domain)
    opens = [("o", mine.pixel) for mine in links for _ in range(10)]

    async def main(base: str) -> list[tuple[int, int, int]]:
        seen: list[tuple[int, int, int]] = []
        noise = asyncio.ensure_future(_burst(base, opens))  # keeps the writer's groups full
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            for number, mine in enumerate(links, start=1):
                answer = await http.post(mine.unsubscribe, data=ONE_CLICK)
                # Read the store the moment the answer is in: the write must be there.
                events = _events(isolated_home, "list_unsubscribe")
                seen.append((answer.status_code, events, _unsubscribed(isolated_home) - number))
        await noise
        return seen

    with serving(app_client(isolated_home).app) as base:
        seen = asyncio.run(main(base))
    assert seen == [(200, n, 0) for n in range(1, RECIPIENTS + 1)]


@pytest.mark.slow
def test_a_killed_server_loses_no_answered_open_click_or_unsubscribe(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_to_many(lettr, tmp_path, smtp_server, verified_domain)
    mixed = _mix(links, rounds=30)  # 1,200 opens and clicks, then 20 unsubscribes
    requests, unsubscribes = mixed[:-RECIPIENTS], mixed[-RECIPIENTS:]
    for index, request in enumerate(unsubscribes):  # spread among the opens and clicks
        requests.insert((index + 1) * len(requests) // (RECIPIENTS + 1), request)
    port = _free_port()
    # Its access lines go to a file: a pipe nobody reads would stop the server once full.
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "lettr_cli", "track", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env={**os.environ, "LETTR_HOME": str(isolated_home), "PYTHONPATH": str(REPO)},
        cwd=REPO,
    )
    killed: list[bool] = []
    answered: dict[str, int] = {"o": 0, "c": 0, "u": 0}
    failures: list[str] = []

    async def main() -> None:
        limits = httpx.Limits(max_connections=50)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:

            async def one(kind: str, path: str) -> None:
                if kind == "u":
                    answer = await http.post(path, data=ONE_CLICK)
                else:
                    answer = await http.get(path, headers={"User-Agent": BROWSER})
                if answer.status_code in (200, 302):
                    answered[kind] += 1
                else:
                    failures.append(f"{kind} {answer.status_code}")
                if sum(answered.values()) == len(requests) // 3 and not killed:
                    os.kill(process.pid, signal.SIGKILL)  # mid-burst, no goodbye
                    killed.append(True)

            for outcome in await asyncio.gather(
                *(one(k, p) for k, p in requests), return_exceptions=True
            ):
                if isinstance(outcome, BaseException) and not killed:
                    failures.append(repr(outcome))

    try:
        _wait_for(port)
        asyncio.run(main())
        assert killed, (answered, failures[:5])
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()

    assert process.returncode == -signal.SIGKILL
    assert 0 < sum(answered.values()) < len(requests)  # the kill came mid-burst
    # Whatever was answered is in the store; what was not may or may not be.
    assert _events(isolated_home, "open") >= answered["o"]
    assert _events(isolated_home, "click") >= answered["c"]
    assert _events(isolated_home, "list_unsubscribe") >= answered["u"]
    assert _unsubscribed(isolated_home) >= answered["u"]
    with sqlite3.connect(isolated_home / "lettr.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
