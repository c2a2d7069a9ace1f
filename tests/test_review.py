"""`lettr campaign review`: the Review step, and exit 1 with the contract's code when a send
would be refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_campaigns import html_file, set_status


@pytest.fixture
def ready(lettr: Any, tmp_path: Path, verified_domain: Any) -> str:
    verified_domain()
    lettr("config", "set", "sender.postal_address", "1 Example Street")
    lettr("list", "create", "VIP")
    lettr("contact", "add", "a@example.com", "b@example.com", "--list", "VIP")
    body = lettr(
        "campaign",
        "create",
        "Spring",
        "--subject",
        "Spring letter",
        "--from-email",
        "news@example.com",
        "--from-name",
        "News",
        "--html",
        html_file(tmp_path, "<p>Hello {{ unsubscribe_link }} {{ preferences_link }}</p>"),
        "--json",
    ).json()
    lettr("campaign", "audience", body["id"], "--list", "VIP")
    return str(body["id"])


def test_a_ready_campaign(lettr, ready: str) -> None:
    result = lettr("campaign", "review", ready, "--json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["errors"] == [] and body["warnings"] == []
    assert body["estimated_recipients"] == 2
    assert body["subject"] == "Spring letter" and body["from_email"] == "news@example.com"
    assert body["audience"] == {"all": False, "lists": ["VIP"], "segments": []}
    words = lettr("campaign", "review", ready)
    assert "about 2 (subscribed, de-duplicated)" in words.stdout
    assert "Ready to send." in words.stderr


def test_refusals_carry_the_contract_codes(
    lettr, ready: str, smtp_server: Any, isolated_home: Path
) -> None:
    plain = lettr("campaign", "create", "Bare", "--json").json()["id"]
    bare = lettr("campaign", "review", plain, "--json")
    assert bare.exit_code == 1
    codes = [e["code"] for e in bare.json()["errors"]]
    assert codes[0] == "campaign_not_sendable"
    assert bare.error()["error_code"] == "campaign_not_sendable"
    # A relay that is down is a transmission failure; nothing else changes.
    lettr("config", "set", "smtp.port", "1")
    down = lettr("campaign", "review", ready, "--json")
    assert [e["code"] for e in down.json()["errors"]] == ["transmission_failed"]
    lettr("config", "set", "smtp.port", str(smtp_server.port))
    set_status(isolated_home, ready, "scheduled")
    scheduled = lettr("campaign", "review", ready, "--json")
    assert scheduled.error()["error_code"] == "campaign_has_pending_schedule"


def test_an_unverified_sender_and_an_unknown_tag(lettr, ready: str, tmp_path: Path) -> None:
    lettr(
        "campaign",
        "edit",
        ready,
        "--from-email",
        "news@example.org",
        "--html",
        html_file(tmp_path, "<p>{{ nope }}</p>", "bad.html"),
    )
    result = lettr("campaign", "review", ready, "--json")
    assert [e["code"] for e in result.json()["errors"]] == [
        "unconfigured_domain",
        "validation_error",
    ]
    assert "unknown merge tag {{ nope }}" in result.json()["errors"][1]["message"]


def test_over_the_plan_limit(lettr, ready: str) -> None:
    many = [f"c{i}@example.net" for i in range(499)]
    assert lettr("contact", "add", *many).exit_code == 0  # 501 contacts on the free plan
    result = lettr("campaign", "review", ready, "--json")
    assert [e["code"] for e in result.json()["errors"]] == ["quota_exceeded"]
    lettr("config", "set", "plan.tier", "2000")
    assert lettr("campaign", "review", ready).exit_code == 0
