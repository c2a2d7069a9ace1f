"""The tracking app's fast path (issue 18): the open, click and unsubscribe URLs answered in
front of Starlette's router give, over real HTTP, the very answers (status, headers, body) the
routes give, for valid, tampered, unknown and test tokens, and record the same."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from lettr_cli.signing.tokens import Purpose
from tests.conftest import store_location
from tests.tracking_helpers import (
    BROWSER,
    contact_status,
    counters,
    events,
    sent_campaign,
    serving,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("each_engine")

ANN = "ann@example.com"
BOB = "bob@example.org"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@contextmanager
def fast_and_general(home: Path) -> Iterator[tuple[httpx.Client, httpx.Client, Any]]:
    """The app (its fast path in front) and its Starlette app behind it, over one tracker,
    each under uvicorn; yields a client of each and the store's signer."""
    from lettr_cli.signing import keys
    from lettr_cli.tracking.app import create_app
    from lettr_cli.workspace import Workspace

    workspace = Workspace.open(store_location(home), home=home, environ={})
    with workspace.store.read() as session:
        signer = keys.signer(session)
    app = create_app(workspace)
    with ExitStack() as stack:
        fast = stack.enter_context(serving(app))
        general = stack.enter_context(serving(app.app))
        clients = (httpx.Client(base_url=fast), httpx.Client(base_url=general))
        for client in clients:
            stack.enter_context(client)
        yield clients[0], clients[1], signer


def _same(first: httpx.Response, second: httpx.Response) -> None:
    """Two answers alike but for the Date header."""

    def shown(answer: httpx.Response) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        headers = [(k.lower(), v) for k, v in answer.headers.raw if k.lower() != b"date"]
        return answer.status_code, headers, answer.content

    assert shown(first) == shown(second)


def _tampered(path: str) -> str:
    """``path`` with the last character of its token's signature changed."""
    token = _TOKEN.search(path)
    assert token is not None, path
    end = token.end()
    return path[: end - 1] + ("A" if path[end - 1] != "A" else "B") + path[end:]


_TOKEN = re.compile(r"[a-z][0-9]+\.[0-9a-z]+\.[A-Za-z0-9_-]{16}")


def test_opens_answer_alike_on_both_paths_and_record_alike(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    pixel = links[ANN].pixel
    with fast_and_general(isolated_home) as (fast, general, signer):
        browser = {"User-Agent": BROWSER}
        _same(fast.get(pixel, headers=browser), general.get(pixel, headers=browser))
        assert fast.get(pixel, headers=browser).status_code == 200
        stats = counters(isolated_home, campaign)
        assert (stats["opens"], stats["unique_opens"]) == (3, 1)
        assert events(isolated_home, "open") == [("open", ANN, None, BROWSER, 0)] * 3

        before = snapshot(isolated_home)
        unknown = f"/o/{signer.for_row(Purpose.OPEN, 999_999)}.gif"
        wrong_purpose = f"/o/{signer.for_row(Purpose.CLICK, 1)}.gif"
        for path in (_tampered(pixel), unknown, wrong_purpose, "/o/nonsense.gif", pixel + "x"):
            answer = fast.get(path, headers=browser)
            assert answer.status_code == 404, path
            _same(answer, general.get(path, headers=browser))
        test_pixel = f"/o/{signer.for_test(campaign)}.gif"
        _same(fast.get(test_pixel), general.get(test_pixel))
        assert fast.get(test_pixel).status_code == 200
        assert snapshot(isolated_home) == before


def test_clicks_answer_alike_on_both_paths_and_record_alike(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    first, second = links[BOB].clicks
    with fast_and_general(isolated_home) as (fast, general, signer):
        browser = {"User-Agent": BROWSER}
        for path in (first, second):
            answer = fast.get(path, headers=browser)
            assert answer.status_code == 302
            _same(answer, general.get(path, headers=browser))
        assert fast.get(first).headers["location"] == "https://example.com/offer?id=1"
        stats = counters(isolated_home, campaign)
        assert (stats["clicks"], stats["unique_clicks"]) == (5, 1)
        offer, shop = "https://example.com/offer?id=1", "https://example.org/shop"
        assert [e[2] for e in events(isolated_home, "click")] == [offer, offer, shop, shop, offer]

        before = snapshot(isolated_home)
        base = first.rsplit("/", 1)[0]
        unknown = f"/c/{signer.for_row(Purpose.CLICK, 999_999)}/1"
        for path in (_tampered(first), unknown, f"{base}/3", f"{base}/0", f"{base}/x", base):
            answer = fast.get(path, headers=browser)
            assert answer.status_code == 404, path
            _same(answer, general.get(path, headers=browser))
        test_click = f"/c/{signer.for_test(campaign)}/2"
        answer = fast.get(test_click)
        assert answer.status_code == 302 and answer.headers["location"].startswith(shop)
        _same(answer, general.get(test_click))
        assert snapshot(isolated_home) == before


def test_unsubscribes_answer_alike_on_both_paths_and_record_alike(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    mine = links[ANN].unsubscribe
    with fast_and_general(isolated_home) as (fast, general, signer):
        before = snapshot(isolated_home)
        unknown = f"/u/{signer.for_row(Purpose.UNSUBSCRIBE, 999_999)}"
        for path, body in (
            (_tampered(mine), ONE_CLICK),
            (unknown, ONE_CLICK),
            (unknown, {"nothing": "1"}),  # a missing row is 404 before a bad body
            (mine, {"nothing": "1"}),
            (mine, {f"f{n}": "1" for n in range(30)}),
        ):
            answer = fast.post(path, data=body)
            assert answer.status_code in (400, 404), (path, body)
            _same(answer, general.post(path, data=body))
        test_token = f"/u/{signer.for_test(campaign)}"
        _same(fast.post(test_token, data=ONE_CLICK), general.post(test_token, data=ONE_CLICK))
        assert snapshot(isolated_home) == before

        answer = fast.post(mine, data=ONE_CLICK)
        assert answer.status_code == 200 and ANN in answer.text
        _same(answer, general.post(mine, data=ONE_CLICK))  # a repeat, counted once
    assert counters(isolated_home, campaign)["unsubscribes"] == 1
    assert contact_status(isolated_home, ANN) == "unsubscribed"
    assert len(events(isolated_home, "list_unsubscribe")) == 1


def test_only_the_three_hot_urls_take_the_fast_path(isolated_home: Path, lettr) -> None:
    from lettr_cli.tracking.app import create_app
    from lettr_cli.workspace import Workspace

    workspace = Workspace.open(store_location(isolated_home), home=isolated_home, environ={})
    app = create_app(workspace)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    def taken(method: str, path: str, root_path: str = "") -> bool:
        scope = {"type": "http", "method": method, "path": path, "root_path": root_path}
        scope["headers"] = []
        answer = app._route(scope, receive)
        if answer is None:
            return False
        answer.close()  # type: ignore[attr-defined]  # a coroutine, never awaited here
        return True

    assert taken("GET", "/o/t.gif") and taken("GET", "/c/t/1") and taken("POST", "/u/t")
    for method, path in (
        ("HEAD", "/o/t.gif"),
        ("HEAD", "/c/t/1"),
        ("GET", "/u/t"),
        ("POST", "/o/t.gif"),
        ("GET", "/v/t"),
        ("GET", "/p/t"),
        ("POST", "/confirm/t"),
        ("GET", "/o/a/b.gif"),
        ("GET", "/c/t/1/2"),
    ):
        assert not taken(method, path), (method, path)
    assert not taken("GET", "/o/t.gif", root_path="/track")
