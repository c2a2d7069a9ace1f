"""`lettr campaign audience` and the `resource_in_use` refusals that campaigns cause."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_campaigns import html_file, set_status


@pytest.fixture
def audience(lettr: Any) -> None:
    lettr("property", "create", "city")
    lettr("list", "create", "VIP")
    lettr("list", "create", "Press")
    lettr("contact", "add", "a@example.com", "b@example.com", "--list", "VIP")
    lettr("contact", "add", "c@example.com", "--list", "VIP", "--list", "Press")
    lettr("contact", "add", "d@example.com", "--prop", "city=Oslo")
    lettr("contact", "add", "e@example.com", "--prop", "city=Oslo", "--status", "unsubscribed")
    lettr("contact", "add", "f@example.com", "--list", "Press", "--status", "bounced")
    lettr("segment", "create", "Oslo", "--where", "city equals oslo")


def test_union_deduplicated_subscribed_only(lettr, audience: None) -> None:
    ref = lettr("campaign", "create", "C", "--json").json()["id"]
    body = lettr(
        "campaign",
        "audience",
        ref,
        "--list",
        "VIP",
        "--list",
        "Press",
        "--segment",
        "Oslo",
        "--json",
    ).json()
    # a, b, c (VIP) + c (Press, counted once) + d (Oslo); e unsubscribed and f bounced are out
    assert body == {
        "all": False,
        "lists": ["VIP", "Press"],
        "segments": ["Oslo"],
        "estimated_recipients": 4,
    }
    everyone = lettr("campaign", "audience", ref, "--all", "--json").json()
    assert everyone == {"all": True, "lists": [], "segments": [], "estimated_recipients": 4}
    press = lettr("campaign", "audience", ref, "--list", "Press", "--json").json()
    assert press["estimated_recipients"] == 1
    shown = lettr("campaign", "show", ref, "--json").json()["audience"]
    assert shown == {"all": False, "lists": ["Press"], "segments": []}
    words = lettr("campaign", "audience", ref, "--segment", "Oslo").stdout
    assert (
        "segment Oslo" in words and "Estimated recipients (subscribed, de-duplicated): 1" in words
    )


def test_audience_refusals_leave_it_unchanged(lettr, audience: None, isolated_home: Path) -> None:
    ref = lettr("campaign", "create", "C", "--json").json()["id"]
    lettr("campaign", "audience", ref, "--list", "VIP")
    for args, code in (
        (["--all", "--list", "VIP"], "validation_error"),
        ([], "validation_error"),
        (["--list", "Nope"], "not_found"),
        (["--segment", "Nope"], "not_found"),
    ):
        result = lettr("campaign", "audience", ref, *args, "--json")
        assert result.exit_code == 1, args
        assert result.error()["error_code"] == code
    set_status(isolated_home, ref, "scheduled")
    late = lettr("campaign", "audience", ref, "--all", "--json")
    assert late.error()["error_code"] == "campaign_not_editable"
    assert lettr("campaign", "show", ref, "--json").json()["audience"]["lists"] == ["VIP"]


def test_what_a_draft_uses_cannot_be_deleted(
    lettr, audience: None, tmp_path: Path, isolated_home: Path
) -> None:
    lettr("template", "create", "T", "--html", html_file(tmp_path, "<p>{{ city }}</p>"))
    lettr("config", "set", "smtp.host", "relay.example.com")
    lettr("domain", "add", "example.com")
    draft = lettr(
        "campaign",
        "create",
        "Spring",
        "--template",
        "T",
        "--from-email",
        "news@example.com",
        "--json",
    ).json()["id"]
    lettr("campaign", "audience", draft, "--list", "Press", "--segment", "Oslo")
    for args in (
        ["list", "delete", "Press", "--yes"],
        ["segment", "delete", "Oslo", "--yes"],
        ["template", "delete", "T", "--yes"],
        ["domain", "remove", "example.com", "--yes"],
        ["property", "delete", "city", "--yes"],
    ):
        result = lettr(*args, "--json")
        assert result.exit_code == 1, args
        assert result.error()["error_code"] == "resource_in_use"
        assert "campaign 'Spring'" in result.error()["message"], args
    # Once the campaign has left draft and scheduled, nothing holds them any more.
    set_status(isolated_home, draft, "sent")
    for args in (
        ["segment", "delete", "Oslo", "--yes"],
        ["list", "delete", "Press", "--yes"],
        ["template", "delete", "T", "--yes"],
        ["domain", "remove", "example.com", "--yes"],
        ["property", "delete", "city", "--yes"],
    ):
        assert lettr(*args).exit_code == 0, args
