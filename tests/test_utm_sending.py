"""UTM tagging in a real send (issue "Engagement"): every rewritten link of the HTML and text
parts leads, through the tracking server over real HTTP, to its tagged target; the excluded
kinds of link are left alone; the preview lists the tagged targets."""

from __future__ import annotations

import re
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.tracking_helpers import app_client, create_campaign, serving

HTML = (
    "<html><body><p>Hi {{ first_name }},</p>"
    "<a href='https://example.com/offer?id=1&amp;q=%C3%A9t%C3%A9#top'>Offer</a> "
    "<a href='https://example.org/shop'>Shop</a> "
    "<a href='https://example.net/?utm_source=partner'>Partner</a> "
    "<a href='https://example.com/quiet' data-lettr-track='off'>Quiet</a> "
    "<a href='mailto:help@example.com?subject=hi'>Mail us</a> "
    "<a href='tel:+441234'>Call</a> "
    "<a href='{{ unsubscribe_link }}'>Leave</a> "
    "<a href='{{ webversion_link }}'>View online</a>"
    "</body></html>"
)
TAGS = "utm_source=lettr&utm_medium=email&utm_campaign=sale"
TARGETS = [
    f"https://example.com/offer?id=1&q=%C3%A9t%C3%A9&{TAGS}#top",
    f"https://example.org/shop?{TAGS}",
    "https://example.net/?utm_source=partner",
]
OWN = ("http://127.0.0.1:8025/u/", "http://127.0.0.1:8025/v/")  # never tracked, never tagged
_CLICK = re.compile(r"http://127\.0\.0\.1:8025(/c/[A-Za-z0-9_.\-]+/[0-9]+)")
_ANY_LINK = re.compile(r"""(?:href=["']|\b)((?:https?|mailto|tel):[^\s"'<>\]]+)""")


def _send(lettr, tmp_path: Path, verified_domain, *, utm: bool = True) -> str:
    """Ann and Bob in Customers, the campaign Sale (tagged with ``utm``) sent to both."""
    verified_domain()
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("list", "create", "Customers")
    audience = tmp_path / "audience.csv"
    audience.write_text("email,first_name\nann@example.com,Ann\nbob@example.org,\n")
    assert lettr("contact", "import", str(audience), "--list", "Customers").exit_code == 0
    campaign = create_campaign(lettr, tmp_path, html=HTML)
    if utm:
        assert lettr("campaign", "edit", campaign, "--utm").exit_code == 0
    result = lettr("campaign", "send", campaign, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    return campaign


def _redirect(base: str, path: str) -> str:
    class NoFollow(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(NoFollow)
    with pytest.raises(urllib.error.HTTPError) as raised:
        opener.open(base + path, timeout=20)
    assert raised.value.code == 302
    return str(raised.value.headers["Location"])


@pytest.mark.slow
def test_every_rewritten_link_redirects_over_http_to_its_tagged_target(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    from lettr_cli.tracking.app import create_app
    from lettr_cli.workspace import Workspace

    campaign = _send(lettr, tmp_path, verified_domain)
    messages = smtp_server.arrived()
    assert len(messages) == 2
    workspace = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    with serving(create_app(workspace)) as base:
        for _, _, message in messages:
            html_part = message.get_body(("html",))
            text_part = message.get_body(("plain",))
            assert html_part is not None and text_part is not None
            html, text = html_part.get_content(), text_part.get_content()
            in_html = list(dict.fromkeys(_CLICK.findall(html)))
            in_text = list(dict.fromkeys(_CLICK.findall(text)))
            assert [p.rsplit("/", 1)[1] for p in in_html] == ["1", "2", "3"]
            assert in_text == in_html  # the text part names the same tracked links
            targets = [_redirect(base, path) for path in in_html]
            assert targets == TARGETS
            # the body's unsubscribe and web-version links go straight to lettr's pages:
            # neither tracked (following them is no click) nor tagged
            for own in OWN:
                assert f'href="{own}' in html
            # nothing the recipient sees carries tags except through a redirect
            for part in (html, text):
                for url in _ANY_LINK.findall(part.replace("&amp;", "&")):
                    assert "utm_" not in url or url == "https://example.net/?utm_source=partner"
            assert 'href="mailto:help@example.com?subject=hi"' in html
            assert 'href="tel:+441234"' in html
            assert 'href="https://example.com/quiet"' in html
    workspace.close()
    # the report counts links as the content has them
    with sqlite3.connect(isolated_home / "lettr.db") as conn:
        rows = conn.execute("SELECT url FROM link_clicks")
        urls = {url for (url,) in rows if not url.startswith(OWN)}
    assert urls == {
        "https://example.com/offer?id=1&q=%C3%A9t%C3%A9#top",
        "https://example.org/shop",
        "https://example.net/?utm_source=partner",
    }
    report = lettr("campaign", "report", campaign, "--json").json()
    assert all("utm_campaign" not in link["url"] for link in report["top_links"])


def test_a_campaign_without_utm_redirects_to_the_links_as_written(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    _send(lettr, tmp_path, verified_domain, utm=False)
    [(_, _, message), *_] = smtp_server.arrived()
    body = message.get_body(("html",))
    assert body is not None
    paths = list(dict.fromkeys(_CLICK.findall(body.get_content())))
    client = app_client(isolated_home)
    locations = [client.get(path).headers["location"] for path in paths]
    assert locations[:3] == [
        "https://example.com/offer?id=1&q=%C3%A9t%C3%A9#top",
        "https://example.org/shop",
        "https://example.net/?utm_source=partner",
    ]
    assert not any("utm_" in location for location in locations[3:])


def test_preview_lists_the_tagged_targets(lettr, tmp_path: Path, isolated_home: Path) -> None:
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("list", "create", "Customers")
    campaign = create_campaign(lettr, tmp_path, html=HTML)
    assert lettr("campaign", "edit", campaign, "--utm").exit_code == 0
    shown = lettr("campaign", "preview", campaign, "--json")
    assert shown.exit_code == 0, shown.stderr
    links = shown.json()["links"]
    assert [link["url"] for link in links][:3] == TARGETS
    assert [link["number"] for link in links] == [1, 2, 3]  # lettr's own pages are no clicks
    listed = lettr("campaign", "preview", campaign, "--links")
    assert listed.exit_code == 0, listed.stderr
    for target in TARGETS:
        assert target in listed.stdout
    # a click on the preview's link 1 goes to the tagged target (test token, nothing recorded)
    client = app_client(isolated_home)
    path = re.findall(r"http://127\.0\.0\.1:8025(/c/[^\"]+)", shown.json()["html"])[0]
    assert client.get(path.replace("&amp;", "&")).headers["location"] == TARGETS[0]
    both = lettr("campaign", "preview", campaign, "--links", "--html", "--json")
    assert both.exit_code == 1
    assert both.error()["error_code"] == "validation_error"
