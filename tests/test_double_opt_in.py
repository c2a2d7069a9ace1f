"""Double opt-in (issue 19): a contact added unverified, one transactional confirmation mail
through the test relay, and the link followed over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import httpx

from lettr_cli.store.types import utcnow
from tests.optin_helpers import (
    REDIRECT,
    add_args,
    confirmation_path,
    rows,
    setup,
    store_snapshot,
)
from tests.tracking_helpers import app_client, contact_status, serving

ANN = "ann@example.com"


def _add_ann(lettr, relay, tmp_path: Path) -> str:
    setup(lettr, tmp_path)
    result = lettr(*add_args(ANN, "--list", "Customers", "--prop", "first_name=Ann", "--json"))
    assert result.exit_code == 0, result.stderr
    (_, _, message), *more = relay.arrived()
    assert more == []
    return confirmation_path(message)


def test_the_contact_is_added_unverified_and_gets_one_transactional_mail(
    lettr, relay, tmp_path: Path
) -> None:
    setup(lettr, tmp_path)
    result = lettr(*add_args(ANN, "--list", "Customers", "--prop", "first_name=Ann", "--json"))
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["status"] == "unverified"
    assert [group["name"] for group in body["lists"]] == ["Customers"]
    assert body["properties"] == {"first_name": "Ann"}
    assert "Confirmation mail sent to ann@example.com" in result.stderr

    [(sender, rcpts, message)] = relay.arrived()
    assert (sender, rcpts) == ("news@example.com", [ANN])
    assert message["Subject"] == "Please confirm your subscription"
    assert message["From"] == "Example News <news@example.com>"
    assert "DKIM-Signature" in message
    # Transactional, not a campaign: nothing tracked, no unsubscribe machinery.
    for header in ("List-Unsubscribe", "List-Id", "Feedback-ID"):
        assert header not in message
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Hello Ann," in html
    assert "https://example.com/about" in html  # left as written: not rewritten
    assert "/o/" not in html and "/c/" not in html
    path = confirmation_path(message)
    assert path.startswith("/confirm/k1.")

    listed = lettr("contact", "list", "--status", "unverified", "--json").json()
    assert [item["email"] for item in listed] == [ANN]
    assert lettr("contact", "list", "--status", "subscribed", "--json").json() == []


def test_confirming_through_real_http(lettr, relay, tmp_path: Path, isolated_home: Path) -> None:
    path = _add_ann(lettr, relay, tmp_path)
    with serving(app_client(isolated_home).app) as url, httpx.Client(base_url=url) as http:
        # A link scanner's GET (any User-Agent) shows the button and confirms nobody.
        scanned = http.get(path, headers={"User-Agent": "BingPreview/1.0b"})
        assert scanned.status_code == 200
        assert '<form method="post">' in scanned.text and 'name="confirm"' in scanned.text
        assert ANN in scanned.text
        assert contact_status(isolated_home, ANN) == "unverified"
        # A POST without confirm=1 is refused and changes nothing.
        assert http.post(path, data={"other": "1"}).status_code == 400
        assert contact_status(isolated_home, ANN) == "unverified"
        confirmed = http.post(path, data={"confirm": "1"})
        assert confirmed.status_code == 303
        assert confirmed.headers["location"] == REDIRECT
        assert contact_status(isolated_home, ANN) == "subscribed"
        # The link is used: a replay is a 404 page, with no redirect.
        for replay in (http.post(path, data={"confirm": "1"}), http.get(path)):
            assert replay.status_code == 404
            assert "location" not in replay.headers
            assert "not valid" in replay.text

    shown = lettr("contact", "show", ANN, "--json").json()
    assert shown["status"] == "subscribed"
    assert [group["name"] for group in shown["lists"]] == ["Customers"]
    changes = [entry for entry in shown["activity"] if entry["kind"] == "status_changed"]
    assert [entry["detail"] for entry in changes] == [
        "status unverified → subscribed (double opt-in confirmed: confirmation link)"
    ]
    assert lettr("contact", "list", "--status", "unverified", "--json").json() == []
    assert rows(isolated_home, "SELECT * FROM confirmations") == []


def test_forged_and_foreign_tokens_are_404(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    path = _add_ann(lettr, relay, tmp_path)
    token = path.removeprefix("/confirm/")
    head, ident, signature = token.split(".")
    other = "A" if signature[0] != "A" else "B"
    forged = [
        f"/confirm/{head}.{ident}.{other}{signature[1:]}",  # signature altered
        f"/confirm/{head}.{ident[:-1]}{'0' if ident[-1] != '0' else '1'}.{signature}",  # expiry
        f"/confirm/u1.{ident}.{signature}",  # another purpose
        "/confirm/not-a-token",
        f"{path}%0A",
    ]
    before = store_snapshot(isolated_home)
    with serving(app_client(isolated_home).app) as url, httpx.Client(base_url=url) as http:
        for bad in forged:
            assert http.get(bad).status_code == 404, bad
            answer = http.post(bad, data={"confirm": "1"})
            assert answer.status_code == 404, bad
            assert "location" not in answer.headers
    assert store_snapshot(isolated_home) == before
    assert contact_status(isolated_home, ANN) == "unverified"


def test_an_expired_link_is_404(lettr, relay, tmp_path: Path, isolated_home: Path) -> None:
    path = _add_ann(lettr, relay, tmp_path)
    before = store_snapshot(isolated_home)
    late = app_client(isolated_home, clock=lambda: utcnow() + timedelta(days=7, minutes=1)).app
    with serving(late) as url, httpx.Client(base_url=url) as http:
        assert http.get(path).status_code == 404
        answer = http.post(path, data={"confirm": "1"})
        assert answer.status_code == 404 and "location" not in answer.headers
    assert store_snapshot(isolated_home) == before
    # Within optin.token_days (7) the same link still confirms.
    in_time = app_client(isolated_home, clock=lambda: utcnow() + timedelta(days=6)).app
    with serving(in_time) as url, httpx.Client(base_url=url) as http:
        assert http.post(path, data={"confirm": "1"}).status_code == 303
    assert contact_status(isolated_home, ANN) == "subscribed"


def test_token_days_sets_the_expiry(lettr, relay, tmp_path: Path, isolated_home: Path) -> None:
    assert lettr("config", "set", "optin.token_days", "1").exit_code == 0
    path = _add_ann(lettr, relay, tmp_path)
    late = app_client(isolated_home, clock=lambda: utcnow() + timedelta(days=1, minutes=1)).app
    with serving(late) as url, httpx.Client(base_url=url) as http:
        assert http.post(path, data={"confirm": "1"}).status_code == 404
    assert contact_status(isolated_home, ANN) == "unverified"


def test_confirm_on_get_confirms_with_the_get(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    assert lettr("config", "set", "optin.confirm_on_get", "true").exit_code == 0
    path = _add_ann(lettr, relay, tmp_path)
    with serving(app_client(isolated_home).app) as url, httpx.Client(base_url=url) as http:
        answer = http.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == REDIRECT
        assert http.get(path).status_code == 404
    assert contact_status(isolated_home, ANN) == "subscribed"


def test_a_contact_changed_by_hand_cannot_be_confirmed(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    path = _add_ann(lettr, relay, tmp_path)
    assert lettr("contact", "edit", ANN, "--status", "unsubscribed").exit_code == 0
    with serving(app_client(isolated_home).app) as url, httpx.Client(base_url=url) as http:
        assert http.get(path).status_code == 404
        assert http.post(path, data={"confirm": "1"}).status_code == 404
    assert contact_status(isolated_home, ANN) == "unsubscribed"
    # A deleted contact's link is as dead.
    assert lettr("contact", "delete", ANN, "--yes").exit_code == 0
    assert rows(isolated_home, "SELECT * FROM confirmations") == []


def test_a_confirmation_while_the_store_stays_busy_answers_503_and_later_succeeds(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    path = _add_ann(lettr, relay, tmp_path)
    assert lettr("config", "set", "store.busy_timeout", "1").exit_code == 0
    client = app_client(isolated_home)
    before = store_snapshot(isolated_home)
    blocker = sqlite3.connect(isolated_home / "lettr.db", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        busy = client.post(path, data={"confirm": "1"})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert store_snapshot(isolated_home) == before
    done = client.post(path, data={"confirm": "1"})
    assert done.status_code == 303
    assert contact_status(isolated_home, ANN) == "subscribed"
