"""Deleting a template that sent campaigns used: they keep the content they were sent with, so
their web version, click links and report go on working (it used to be lost: ON DELETE SET NULL)."""

from __future__ import annotations

from pathlib import Path

from tests.tracking_helpers import BROWSER, HTML, app_client, counters, links_in, sent_campaign

ANN = "ann@example.com"


def test_a_sent_campaign_keeps_its_content_when_its_template_is_deleted(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    page = tmp_path / "v1.html"
    page.write_text(HTML, encoding="utf-8")
    assert lettr("template", "create", "Welcome", "--html", str(page)).exit_code == 0
    # a second version that the campaign does NOT use (it froze v1 when it left draft)
    later = tmp_path / "v2.html"
    later.write_text("<html><body><p>Other {{ first_name }}</p></body></html>", encoding="utf-8")

    # sets up Ann, Bob and the list Customers (and sends a first campaign of its own)
    sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    created = lettr(
        "campaign", "create", "From template",
        "--subject", "Hello", "--from-email", "news@example.com", "--template", "Welcome",
        "--json",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    templated = created.json()["id"]
    assert lettr("campaign", "audience", templated, "--list", "Customers").exit_code == 0
    assert lettr("campaign", "send", templated, "--yes").exit_code == 0
    assert lettr("template", "update", "Welcome", "--html", str(later)).exit_code == 0
    sent = links_in([m for _, rcpts, m in smtp_server.arrived() if rcpts == [ANN]][-1])
    client = app_client(isolated_home)
    view, click = sent.view, sent.clicks[0]
    before = client.get(view).text

    deleted = lettr("template", "delete", "Welcome", "--yes", "--json")
    assert deleted.exit_code == 0, deleted.stderr

    shown = lettr("campaign", "show", templated, "--json").json()
    assert shown["template"] is None
    assert shown["html_content"] == HTML  # v1, the version it was sent with, not v2
    after = client.get(view)
    assert after.status_code == 200 and after.text == before
    followed = client.get(click, headers={"User-Agent": BROWSER})
    assert followed.status_code == 302
    assert followed.headers["location"] == "https://example.com/offer?id=1"
    assert counters(isolated_home, templated)["clicks"] == 1
    report = lettr("campaign", "report", templated, "--json")
    assert report.exit_code == 0, report.stderr


def test_a_draft_on_the_template_still_refuses_the_delete(lettr, tmp_path: Path) -> None:
    page = tmp_path / "t.html"
    page.write_text("<p>Hi</p>", encoding="utf-8")
    assert lettr("template", "create", "T", "--html", str(page)).exit_code == 0
    assert lettr("campaign", "create", "Draft", "--template", "T").exit_code == 0
    refused = lettr("template", "delete", "T", "--yes", "--json")
    assert refused.exit_code != 0
    assert refused.error()["error_code"] == "resource_in_use"
    assert lettr("campaign", "show", "Draft", "--json").json()["template"]["name"] == "T"
