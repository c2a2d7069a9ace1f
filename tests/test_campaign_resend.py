"""`lettr campaign resend CAMPAIGN --to non-openers`: a real send through the test relay, opens
and clicks recorded by the real tracking app over HTTP, then the resend prepared and sent."""

from __future__ import annotations

import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.sending_helpers import new_campaign
from tests.tracking_helpers import BROWSER, HTML, links_in, serving

PEOPLE = [
    "ann@example.com",
    "bob@example.org",
    "cy@example.net",
    "dee@example.com",
    "eve@example.org",
]
PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"


def hit(base: str, path: str, agent: str) -> int:
    request = urllib.request.Request(base + path, headers={"User-Agent": agent})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=20) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:  # the click's redirect
        return exc.code


@pytest.fixture
def sent(lettr, tmp_path: Path, smtp_server, verified_domain, isolated_home: Path) -> Any:
    """'Sale' sent to five: Cy's address bounces; Ann opens in a browser, Bob's opens come only
    from Google's image proxy, Eve clicks without loading images, Dee does nothing (yet)."""
    from lettr_cli.tracking.app import create_app
    from lettr_cli.workspace import Workspace

    verified_domain()
    lettr("config", "set", "tracking.machine_open_seconds", "0")
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("list", "create", "Customers")
    audience = tmp_path / "audience.csv"
    audience.write_text("email\n" + "\n".join(PEOPLE) + "\n", encoding="utf-8")
    assert lettr("contact", "import", str(audience), "--list", "Customers").exit_code == 0
    smtp_server.rcpt["cy@example.net"] = "550 5.1.1 no such mailbox"
    campaign = new_campaign(lettr, tmp_path, "Sale", html=HTML)
    result = lettr("campaign", "send", campaign, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    links = {rcpts[0]: links_in(message) for _, rcpts, message in smtp_server.arrived()}
    assert sorted(links) == sorted(set(PEOPLE) - {"cy@example.net"})
    workspace = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    with serving(create_app(workspace)) as base:
        assert hit(base, links["ann@example.com"].pixel, BROWSER) == 200
        assert hit(base, links["bob@example.org"].pixel, PROXY) == 200
        assert hit(base, links["bob@example.org"].pixel, PROXY) == 200
        assert hit(base, links["eve@example.org"].clicks[0], BROWSER) in (302, 303, 307)
        yield campaign, links, base


def resent_to(smtp_server: Any, subject: str) -> list[str]:
    return [r for _, rcpts, m in smtp_server.arrived() if m["Subject"] == subject for r in rcpts]


def test_only_delivered_non_openers_get_the_resend_and_a_late_opener_is_left_out(
    lettr, sent, smtp_server
) -> None:
    _campaign, links, base = sent
    made = lettr(
        "campaign", "resend", "Sale", "--to", "non-openers", "--subject", "Did you miss it?",
        "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    draft = made.json()
    assert draft["status"] == "draft" and draft["name"] == "Sale (resend)"
    assert draft["subject"] == "Did you miss it?"
    assert draft["audience"]["where"] == "received Sale and not opened Sale"
    assert "goes to 2 non-openers" in made.stderr  # Bob (machine opens only) and Dee
    # Dee opens the original after the resend was made, before it is prepared
    assert hit(base, links["dee@example.com"].pixel, BROWSER) == 200
    review = lettr("campaign", "review", draft["id"], "--json")
    assert review.exit_code == 0, review.stderr
    result = lettr("campaign", "send", draft["id"], "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["total_recipients"] == 1
    assert resent_to(smtp_server, "Did you miss it?") == ["bob@example.org"]  # once, nobody else

    report = lettr("campaign", "report", "Sale", "--json").json()
    assert [(r["name"], r["status"], r["deliveries"]) for r in report["resends"]] == [
        ("Sale (resend)", "sent", 1)
    ]
    # delivered: Ann, Bob, Dee, Eve; opened: Ann, Dee, Eve (Bob's proxy opens are machines')
    assert report["combined_reach"] == {"campaigns": 2, "delivered": 4, "opened": 3}
    assert report["stats"]["unique_opens"] == 2  # Ann and Dee: Eve's click is not an open there
    text = lettr("campaign", "report", "Sale")
    assert "Together with its resends: 4 contacts delivered, 3 opened" in text.stdout


def test_only_a_sent_campaign_is_resent(lettr, tmp_path: Path) -> None:
    lettr("campaign", "create", "Draft one")
    refused = lettr("campaign", "resend", "Draft one", "--to", "non-openers", "--json")
    assert refused.exit_code == 1
    assert refused.error()["error_code"] == "campaign_not_sendable"
    assert "only a sent campaign can be resent" in refused.error()["message"]
    missing = lettr("campaign", "resend", "Nope", "--to", "non-openers", "--json")
    assert missing.error()["error_code"] == "not_found"
    assert [c["name"] for c in lettr("campaign", "list", "--json").json()] == ["Draft one"]


def test_bad_resend_options_are_refused_and_nothing_is_made(lettr, sent) -> None:
    for args, field in (
        (["--to", "everyone"], "to"),
        (["--to", "non-openers", "--after", "soon"], "after"),
        (["--to", "non-openers", "--after", "0d"], "after"),
    ):
        refused = lettr("campaign", "resend", "Sale", *args, "--json")
        assert refused.exit_code == 1, args
        assert refused.error()["error_code"] == "validation_error"
        assert field in refused.error()["errors"], refused.error()
    assert [c["name"] for c in lettr("campaign", "list", "--json").json()] == ["Sale"]


def test_after_schedules_the_resend_after_the_original(lettr, sent) -> None:
    made = lettr("campaign", "resend", "Sale", "--to", "non-openers", "--after", "3d", "--json")
    assert made.exit_code == 0, made.stderr
    body = made.json()
    original = lettr("campaign", "show", "Sale", "--json").json()
    sent_at = datetime.fromisoformat(original["sent_at"])
    assert body["status"] == "scheduled"
    assert datetime.fromisoformat(body["scheduled_at"]) == sent_at + timedelta(days=3)
    assert lettr("campaign", "report", "Sale", "--json").json()["resends"][0]["status"] == (
        "scheduled"
    )
