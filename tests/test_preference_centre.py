"""The preference centre (issue 19): ``/p/{token}`` through real HTTP (uvicorn on loopback),
tokens from a real send to the test relay, the store checked after every answer."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.tracking_helpers import (
    BROWSER,
    Links,
    contact_status,
    counters,
    events,
    sent_campaign,
    serving,
    snapshot,
)

ANN = "ann@example.com"
BOB = "bob@example.org"


@pytest.fixture
def sent(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> tuple[str, dict[str, Links]]:
    """Topics News (public, opt-in), Offers (public, opt-out: every new contact is attached)
    and VIP (private, opt-out); Ann and Bob imported, then a campaign sent to both."""
    lettr("topic", "create", "News", "--visibility", "public", "--description", "Monthly news")
    lettr("topic", "create", "Offers", "--visibility", "public", "--default", "opt-out")
    lettr("topic", "create", "VIP", "--visibility", "private", "--default", "opt-out")
    return sent_campaign(lettr, tmp_path, smtp_server, verified_domain)


@pytest.fixture
def http(isolated_home: Path) -> Iterator[httpx.Client]:
    from lettr_cli.tracking.app import create_app
    from lettr_cli.workspace import Workspace

    workspace = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    try:
        with (
            serving(create_app(workspace)) as base,
            httpx.Client(
                base_url=base, headers={"User-Agent": BROWSER}, follow_redirects=False
            ) as client,
        ):
            yield client
    finally:
        workspace.close()


def topic_ids(lettr: Any) -> dict[str, str]:
    return {t["name"]: t["id"] for t in lettr("topic", "list", "--json").json()}


def topics_of(lettr: Any, email: str) -> list[str]:
    return sorted(t["name"] for t in lettr("contact", "show", email, "--json").json()["topics"])


def boxes(page: str) -> dict[str, bool]:
    """Each topic checkbox on the page: its topic id and whether it is ticked."""
    found = re.findall(r'<input type="checkbox" name="topic" value="([^"]+)"( checked)?>', page)
    return {topic: bool(ticked) for topic, ticked in found}


def test_the_page_lists_public_topics_with_current_choices_and_get_changes_nothing(
    lettr, sent, http: httpx.Client, isolated_home: Path
) -> None:
    _, links = sent
    ids = topic_ids(lettr)
    assert links[ANN].preferences.startswith("/p/")  # in the automatic footer
    before = snapshot(isolated_home)

    page = http.get(links[ANN].preferences)
    http.head(links[ANN].preferences)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "no-store" in page.headers["cache-control"]
    assert boxes(page.text) == {ids["News"]: False, ids["Offers"]: True}
    assert "VIP" not in page.text and ids["VIP"] not in page.text  # private never shows
    assert "Monthly news" in page.text and ANN in page.text
    assert 'name="viewport"' in page.text
    assert not re.search(r"<(script|link|img|iframe)\b|\bsrc=|url\(", page.text)
    assert 'name="unsubscribe" value="1"' in page.text
    assert snapshot(isolated_home) == before


def test_posted_choices_change_the_store_log_activity_and_count_events(
    lettr, sent, http: httpx.Client, isolated_home: Path
) -> None:
    campaign, links = sent
    ids = topic_ids(lettr)
    shown = f"{ids['News']},{ids['Offers']}"

    answer = http.post(links[ANN].preferences, data={"shown": shown, "topic": [ids["News"]]})

    assert answer.status_code == 200
    assert "Your choices are saved." in answer.text
    assert boxes(answer.text) == {ids["News"]: True, ids["Offers"]: False}
    assert topics_of(lettr, ANN) == ["News", "VIP"]  # the private topic is untouched
    assert topics_of(lettr, BOB) == ["Offers", "VIP"]
    activity = lettr("contact", "show", ANN, "--json").json()["activity"]
    assert [(a["kind"], a["detail"]) for a in activity[-2:]] == [
        ("topic_opted_in", "News (preference_centre)"),
        ("topic_opted_out", "Offers (preference_centre)"),
    ]
    with sqlite3.connect(isolated_home / "lettr.db") as conn:
        recorded = conn.execute(
            "SELECT event_type, email, reason, campaign_id FROM events"
            " WHERE event_type LIKE 'topic_%' ORDER BY id"
        ).fetchall()
    assert recorded == [
        ("topic_opt_in", ANN, "News", campaign),
        ("topic_opt_out", ANN, "Offers", campaign),
    ]
    listed = lettr("campaign", "events", campaign, "--type", "topic_opt_out", "--json").json()[
        "events"
    ]
    assert [(e["email"], e["reason"]) for e in listed] == [(ANN, "Offers")]
    assert contact_status(isolated_home, ANN) == "subscribed"

    # The same choices again change nothing and count nothing more.
    before = snapshot(isolated_home)
    again = http.post(links[ANN].preferences, data={"shown": shown, "topic": [ids["News"]]})
    assert again.status_code == 200
    assert snapshot(isolated_home) == before

    # The CLI and the tracking app agree on the contact afterwards.
    page = boxes(http.get(links[ANN].preferences).text)
    by_name = {name: page[topic] for name, topic in ids.items() if topic in page}
    cli = lettr("contact", "show", ANN, "--json").json()
    assert {name for name, ticked in by_name.items() if ticked} == {
        t["name"] for t in cli["topics"] if t["name"] != "VIP"
    }


def test_unsubscribe_from_everything_uses_the_unsubscribe_rule(
    lettr, sent, http: httpx.Client, isolated_home: Path
) -> None:
    campaign, links = sent
    ids = topic_ids(lettr)

    answer = http.post(links[BOB].preferences, data={"unsubscribe": "1"})

    assert answer.status_code == 200
    assert f"{BOB} is unsubscribed." in answer.text and "<form" not in answer.text
    assert contact_status(isolated_home, BOB) == "unsubscribed"
    assert counters(isolated_home, campaign)["unsubscribes"] == 1
    assert [e[:2] for e in events(isolated_home, "link_unsubscribe")] == [("link_unsubscribe", BOB)]
    shown = lettr("contact", "show", BOB, "--json").json()
    assert shown["status"] == "unsubscribed"
    assert "link_unsubscribe" in shown["activity"][-1]["detail"]
    # A second unsubscribe counts once; choices of an unsubscribed contact are refused.
    before = snapshot(isolated_home)
    http.post(links[BOB].preferences, data={"unsubscribe": "1"})
    refused = http.post(links[BOB].preferences, data={"shown": ids["News"], "topic": ids["News"]})
    assert refused.status_code == 409
    assert "receives no email" in refused.text
    assert snapshot(isolated_home) == before


def _altered(path: str) -> list[str]:
    head, _, token = path.rpartition("/")
    purpose_kid, ident, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    other_row = "1" if ident != "1" else "2"
    return [
        f"{head}/{purpose_kid}.{ident}.{flipped}",
        f"{head}/{purpose_kid}.{other_row}.{signature}",
        f"{head}/{purpose_kid[0]}9.{ident}.{signature}",
        f"{head}/{purpose_kid}.{ident}.AAAAAAAAAAAAAAAA",
        f"{head}/garbage",
    ]


def test_forged_altered_or_misused_tokens_get_404_and_change_nothing(
    lettr, sent, http: httpx.Client, isolated_home: Path
) -> None:
    _, links = sent
    ids = topic_ids(lettr)
    mine = links[ANN]
    before = snapshot(isolated_home)
    choice = {"shown": ids["News"], "topic": ids["News"]}

    for path in _altered(mine.preferences):
        assert http.get(path).status_code == 404, path
        assert http.post(path, data=choice).status_code == 404, path
        assert http.post(path, data={"unsubscribe": "1"}).status_code == 404, path
    unsubscribe_token = mine.unsubscribe.rpartition("/")[2]
    preferences_token = mine.preferences.rpartition("/")[2]
    assert http.get(f"/p/{unsubscribe_token}").status_code == 404
    assert http.post(f"/p/{unsubscribe_token}", data={"unsubscribe": "1"}).status_code == 404
    assert http.post(f"/u/{preferences_token}", data={"confirm": "1"}).status_code == 404
    assert http.get(f"/v/{preferences_token}").status_code == 404

    assert snapshot(isolated_home) == before
    assert topics_of(lettr, ANN) == ["Offers", "VIP"]


def test_a_preview_or_test_send_link_says_it_was_a_test(
    lettr, sent, http: httpx.Client, isolated_home: Path
) -> None:
    campaign, _ = sent
    ids = topic_ids(lettr)
    html = lettr("campaign", "preview", campaign, "--html").stdout
    (path,) = set(re.findall(r"http://127\.0\.0\.1:8025(/p/t[^\"]+)", html))
    before = snapshot(isolated_home)

    for answer in (
        http.get(path),
        http.post(path, data={"shown": ids["News"], "topic": ids["News"]}),
        http.post(path, data={"unsubscribe": "1"}),
    ):
        assert answer.status_code == 200
        assert "This was a test" in answer.text

    assert snapshot(isolated_home) == before


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"shown": "{VIP}", "topic": "{VIP}"}, 400),  # a private topic
        ({"shown": "{News},{VIP}"}, 400),
        ({"shown": "no-such-topic"}, 400),
        ({"shown": "{News}", "topic": "{Offers}"}, 400),  # ticked but not shown
        ({"topic": "{News}"}, 400),  # neither a save nor an unsubscribe
        ({"confirm": "1"}, 400),
        ({f"f{n}": "x" for n in range(501)}, 400),  # too many fields
    ],
)
def test_bad_posts_are_refused_with_a_clear_answer_and_change_nothing(
    lettr, sent, http: httpx.Client, isolated_home: Path, fields: dict[str, str], status: int
) -> None:
    _, links = sent
    ids = topic_ids(lettr)
    data = {name: value.format(**ids) for name, value in fields.items()}
    before = snapshot(isolated_home)

    answer = http.post(links[ANN].preferences, data=data)

    assert answer.status_code == status
    assert answer.text.strip()
    assert snapshot(isolated_home) == before
    assert topics_of(lettr, ANN) == ["Offers", "VIP"]


def test_the_page_texts_come_from_the_optin_settings(lettr, sent, isolated_home: Path) -> None:
    _, links = sent
    lettr("config", "set", "optin.preferences_title", "Vos préférences")
    lettr("config", "set", "optin.preferences_save", "Enregistrer")
    lettr("config", "set", "optin.unsubscribe_all", "Me désabonner de tout")
    from lettr_cli.tracking.app import create_app
    from lettr_cli.workspace import Workspace

    workspace = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    try:
        with serving(create_app(workspace)) as base:
            page = httpx.get(base + links[ANN].preferences)
    finally:
        workspace.close()
    assert "<title>Vos préférences</title>" in page.text
    assert "Enregistrer</button>" in page.text and "Me désabonner de tout</button>" in page.text


def test_a_save_while_the_store_stays_busy_answers_503_and_later_succeeds(
    lettr, sent, isolated_home: Path
) -> None:
    _, links = sent
    ids = topic_ids(lettr)
    assert lettr("config", "set", "store.busy_timeout", "1").exit_code == 0
    choice = {"shown": ids["News"], "topic": ids["News"]}
    from lettr_cli.tracking.app import create_app
    from lettr_cli.workspace import Workspace

    workspace = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    try:
        with serving(create_app(workspace)) as base, httpx.Client(base_url=base) as http:
            before = snapshot(isolated_home)
            blocker = sqlite3.connect(isolated_home / "lettr.db", isolation_level=None)
            try:
                blocker.execute("BEGIN IMMEDIATE")
                busy = http.post(links[ANN].preferences, data=choice)
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()
            assert busy.status_code == 503
            assert busy.headers["retry-after"] == "1"
            assert snapshot(isolated_home) == before
            done = http.post(links[ANN].preferences, data=choice)
    finally:
        workspace.close()
    assert done.status_code == 200
    assert topics_of(lettr, ANN) == ["News", "Offers", "VIP"]
