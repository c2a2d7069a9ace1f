"""The tracking server (CONTRACT "Tracking"): real HTTP to the app, tokens from real sends."""

from __future__ import annotations

from pathlib import Path

import pytest

from lettr_cli.store.server import WRITE_LOCK_KEY
from tests.store_access import on_server, store_connect
from tests.tracking_helpers import (
    BROWSER,
    app_client,
    contact_status,
    counters,
    events,
    links_in,
    sent_campaign,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("each_engine")

ANN = "ann@example.com"
BOB = "bob@example.org"


def test_the_open_pixel_is_an_uncacheable_gif_and_a_repeat_counts_again(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    client = app_client(isolated_home)

    first = client.get(links[ANN].pixel, headers={"User-Agent": BROWSER})
    again = client.get(links[ANN].pixel, headers={"User-Agent": BROWSER})

    for response in (first, again):
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/gif"
        assert response.content.startswith(b"GIF89a") and len(response.content) == 43
        assert "no-store" in response.headers["cache-control"]
        assert response.headers["pragma"] == "no-cache"
    stats = counters(isolated_home, campaign)
    assert (stats["opens"], stats["unique_opens"]) == (2, 1)
    assert (stats["machine_opens"], stats["unique_machine_opens"]) == (0, 0)
    assert events(isolated_home, "open") == [("open", ANN, None, BROWSER, 0)] * 2


def test_a_click_redirects_to_the_link_of_the_sent_message_and_counts(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    client = app_client(isolated_home)
    assert [c.rsplit("/", 1)[1] for c in links[BOB].clicks] == ["1", "2"]

    first = client.get(links[BOB].clicks[0], headers={"User-Agent": BROWSER})
    second = client.get(links[BOB].clicks[1], headers={"User-Agent": BROWSER})
    repeat = client.get(links[BOB].clicks[0], headers={"User-Agent": BROWSER})

    assert first.status_code == 302
    assert first.headers["location"] == "https://example.com/offer?id=1"
    assert second.headers["location"] == "https://example.org/shop"
    assert repeat.headers["location"] == "https://example.com/offer?id=1"
    stats = counters(isolated_home, campaign)
    assert (stats["clicks"], stats["unique_clicks"]) == (3, 1)
    assert events(isolated_home, "click") == [
        ("click", BOB, "https://example.com/offer?id=1", BROWSER, 0),
        ("click", BOB, "https://example.org/shop", BROWSER, 0),
        ("click", BOB, "https://example.com/offer?id=1", BROWSER, 0),
    ]


def test_a_link_number_out_of_range_is_not_found(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    client = app_client(isolated_home)
    before = snapshot(isolated_home)
    base = links[ANN].clicks[0].rsplit("/", 1)[0]

    for path in (f"{base}/3", f"{base}/0", f"{base}/-1", f"{base}/x", f"{base}/1/more"):
        assert client.get(path).status_code == 404, path

    assert snapshot(isolated_home) == before


def _altered(path: str) -> list[str]:
    head, _, token = path.rpartition("/")
    purpose_kid, ident, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    other_row = "1" if ident != "1" else "2"
    return [
        f"{head}/{purpose_kid}.{ident}.{flipped}",  # signature altered
        f"{head}/{purpose_kid}.{other_row}.{signature}",  # another row, same signature
        f"{head}/{purpose_kid[0]}9.{ident}.{signature}",  # an unknown key id
        f"{head}/{purpose_kid}.{ident}.AAAAAAAAAAAAAAAA",  # forged
        f"{head}/garbage",
    ]


def test_forged_or_altered_tokens_get_404_and_record_nothing(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    client = app_client(isolated_home)
    mine = links[ANN]
    before = snapshot(isolated_home)

    pixel = mine.pixel.removesuffix(".gif")
    for path in _altered(pixel):
        assert client.get(f"{path}.gif").status_code == 404, path
    click_base, _, number = mine.clicks[0].rpartition("/")
    for path in _altered(click_base):
        assert client.get(f"{path}/{number}").status_code == 404, path
    for path in _altered(mine.unsubscribe):
        assert client.get(path).status_code == 404, path
        assert client.post(path, data={"confirm": "1"}).status_code == 404, path
    for path in _altered(mine.view):
        assert client.get(path).status_code == 404, path
    # a real token used for another purpose is no token there
    unsubscribe_token = mine.unsubscribe.rpartition("/")[2]
    assert client.get(f"/o/{unsubscribe_token}.gif").status_code == 404
    assert client.get(f"/c/{pixel.rpartition('/')[2]}/1").status_code == 404
    assert client.post(f"/u/{pixel.rpartition('/')[2]}", data={"confirm": "1"}).status_code == 404

    assert snapshot(isolated_home) == before
    assert contact_status(isolated_home, ANN) == "subscribed"


def test_get_on_the_unsubscribe_link_changes_nothing(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    client = app_client(isolated_home)
    before = snapshot(isolated_home)

    page = client.get(links[ANN].unsubscribe)
    client.head(links[ANN].unsubscribe)

    assert page.status_code == 200
    assert 'method="post"' in page.text and 'name="confirm" value="1"' in page.text
    assert ANN in page.text
    assert snapshot(isolated_home) == before


def test_the_confirm_form_unsubscribes_once_however_often_it_is_posted(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    client = app_client(isolated_home)

    first = client.post(links[ANN].unsubscribe, data={"confirm": "1"})
    second = client.post(links[ANN].unsubscribe, data={"confirm": "1"})

    assert (first.status_code, second.status_code) == (200, 200)
    assert "unsubscribed" in first.text
    assert contact_status(isolated_home, ANN) == "unsubscribed"
    assert contact_status(isolated_home, BOB) == "subscribed"
    assert counters(isolated_home, campaign)["unsubscribes"] == 1
    assert events(isolated_home, "link_unsubscribe", "list_unsubscribe") == [
        ("link_unsubscribe", ANN, None, "testclient", 0)
    ]
    shown = lettr("contact", "show", ANN, "--json").json()
    assert [a["kind"] for a in shown["activity"]][-1] == "unsubscribed"
    assert "link_unsubscribe" in shown["activity"][-1]["detail"]
    # the confirm page now says so, still without changing anything
    assert "is unsubscribed" in client.get(links[ANN].unsubscribe).text


@pytest.mark.parametrize("form", ["urlencoded", "multipart"])
def test_one_click_unsubscribes_with_the_list_unsubscribe_method(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path, form: str
) -> None:
    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    client = app_client(isolated_home)

    if form == "urlencoded":
        response = client.post(
            links[BOB].unsubscribe,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    else:
        response = client.post(
            links[BOB].unsubscribe, files={"List-Unsubscribe": (None, "One-Click")}
        )

    assert response.status_code == 200
    assert contact_status(isolated_home, BOB) == "unsubscribed"
    assert counters(isolated_home, campaign)["unsubscribes"] == 1
    assert [e[:2] for e in events(isolated_home, "link_unsubscribe", "list_unsubscribe")] == [
        ("list_unsubscribe", BOB)
    ]


def test_a_post_that_asks_nothing_is_refused_and_changes_nothing(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    client = app_client(isolated_home)
    before = snapshot(isolated_home)

    assert client.post(links[ANN].unsubscribe, data={"confirm": "0"}).status_code == 400
    assert client.post(links[ANN].unsubscribe).status_code == 400
    assert client.post(links[ANN].unsubscribe, content=b"x" * 70_000).status_code == 413

    assert snapshot(isolated_home) == before


def test_an_unsubscribe_while_the_store_stays_busy_answers_503_and_later_succeeds(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    assert lettr("config", "set", "store.busy_timeout", "1").exit_code == 0
    client = app_client(isolated_home)
    before = snapshot(isolated_home)
    with store_connect(isolated_home) as blocker:
        blocker.execute("BEGIN IMMEDIATE" if not on_server() else "SELECT 1")
        if on_server():  # the lock every writer of a PostgreSQL store takes first
            blocker.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        try:
            busy = client.post(links[ANN].unsubscribe, data={"confirm": "1"})
        finally:
            blocker.execute("ROLLBACK")

    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert snapshot(isolated_home) == before

    done = client.post(links[ANN].unsubscribe, data={"confirm": "1"})
    assert done.status_code == 200
    assert contact_status(isolated_home, ANN) == "unsubscribed"
    assert counters(isolated_home, campaign)["unsubscribes"] == 1


def test_the_web_version_is_the_message_the_recipient_got(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    client = app_client(isolated_home)
    before = snapshot(isolated_home)

    page = client.get(links[ANN].view)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "no-store" in page.headers["cache-control"]
    sent = next(m for _, rcpts, m in smtp_server.arrived() if rcpts == [ANN])
    html_part = sent.get_body(("html",))
    assert html_part is not None
    # the same document; MIME carries it with CRLF line ends
    assert page.text.strip() == html_part.get_content().replace("\r\n", "\n").strip()
    assert "Hi Ann," in page.text
    assert snapshot(isolated_home) == before


def test_test_tokens_say_this_was_a_test_record_nothing_and_clicks_still_redirect(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    import email
    from email import policy

    campaign, _ = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    raw = lettr("campaign", "preview", campaign, "--raw").stdout.encode()
    message = email.message_from_bytes(raw, policy=policy.default)
    links = links_in(message)  # type: ignore[arg-type]
    assert links.pixel.startswith("/o/t")
    client = app_client(isolated_home)
    before = snapshot(isolated_home)

    pixel = client.get(links.pixel, headers={"User-Agent": BROWSER})
    click = client.get(links.clicks[1])
    page = client.get(links.unsubscribe)
    post = client.post(links.unsubscribe, data={"confirm": "1"})
    one_click = client.post(links.unsubscribe, data={"List-Unsubscribe": "One-Click"})
    view = client.get(links.view)

    assert pixel.status_code == 200 and pixel.content.startswith(b"GIF89a")
    assert click.status_code == 302
    assert click.headers["location"] == "https://example.org/shop"
    for response in (page, post, one_click, view):
        assert response.status_code == 200
        assert "This was a test" in response.text
    assert client.get(links.clicks[0].rsplit("/", 1)[0] + "/3").status_code == 404
    assert snapshot(isolated_home) == before


def test_rotating_the_secret_keeps_old_links_working_and_new_links_use_the_new_key(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    from tests.tracking_helpers import create_campaign

    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    assert links[ANN].pixel.startswith("/o/o1.")
    client = app_client(isolated_home)  # started before the rotation

    rotated = lettr("config", "rotate-secret", "--json")
    assert rotated.exit_code == 0, rotated.stderr
    assert rotated.json() == {"kid": 2}
    second = create_campaign(lettr, tmp_path, name="Second")
    assert lettr("campaign", "send", second, "--yes").exit_code == 0
    new = links_in(smtp_server.arrived()[-1][2])

    assert new.pixel.startswith("/o/o2.")
    assert client.get(links[ANN].clicks[0]).status_code == 302
    assert client.get(new.clicks[0]).headers["location"] == "https://example.com/offer?id=1"
    assert app_client(isolated_home).get(links[ANN].pixel).status_code == 200
    assert counters(isolated_home, campaign)["clicks"] == 1


FALLBACK_HTML = (
    "<html><body><p>Hi {{ first_name }},</p>"
    "<a href='https://example.com/hello?name={{ first_name }}'>Hello</a>"
    "<p>Web version: {{ webversion_link }}</p></body></html>"
)


def test_web_version_and_click_targets_keep_the_fallbacks_snapshotted_at_preparing(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    """Over real HTTP (`lettr track serve`): Bob has no first_name, so he got the fallback in
    force when the campaign was prepared; changing it afterwards changes neither the web
    version nor where his click goes."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    from tests.conftest import REPO

    _, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain, html=FALLBACK_HTML)
    edited = lettr("property", "update", "first_name", "--fallback", "friend")
    assert edited.exit_code == 0, edited.stderr
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "lettr_cli", "track", "serve", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the tracking server did not start"
                time.sleep(0.1)
        with opener.open(base + links[BOB].view, timeout=10) as response:
            assert response.status == 200
            page = response.read().decode("utf-8")
        with pytest.raises(urllib.error.HTTPError) as redirect:  # not followed
            opener.open(base + links[BOB].clicks[0], timeout=10)
        assert redirect.value.code == 302
        location = redirect.value.headers["Location"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Hi there," in page and "friend" not in page
    assert location == "https://example.com/hello?name=there"
