"""`lettr campaign` create/edit/show/list/duplicate/delete, lookups, templates, --prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.workspace import Workspace

CAMPAIGN_KEYS = {
    "id", "name", "subject", "from_email", "from_name", "reply_to", "status", "scheduled_at",
    "total_recipients", "sent_count", "sent_at", "created_at", "stats", "preview_text",
    "track_opens", "track_clicks", "audience", "template", "failure_reason", "outbox",
    "utm",  # issue "Engagement"
}  # fmt: skip


def html_file(
    tmp_path: Path, text: str = "<p>Hi {{ first_name }}</p>", name: str = "c.html"
) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def set_status(home: Path, ref: str, status: str) -> None:
    """Move a campaign out of draft the way the lifecycle does (sending comes later)."""
    ws = Workspace.open(home / "lettr.db", home=home, environ={})
    with ws.store.write() as session:
        campaign = find_campaign(session, ref)
        lifecycle.freeze_content(session, campaign)
        campaign.status = status
        session.add(campaign)
    ws.close()


def test_create_with_every_flag(lettr, tmp_path: Path) -> None:
    result = lettr(
        "campaign",
        "create",
        "Spring sale",
        "--subject",
        "Spring is here",
        "--from-email",
        "news@example.com",
        "--from-name",
        "Zoë at Example",
        "--reply-to",
        "help@example.com",
        "--preview-text",
        "Up to 30% off",
        "--html",
        html_file(tmp_path),
        "--no-track-clicks",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert set(body) == CAMPAIGN_KEYS
    assert body["status"] == "draft"
    assert body["from_name"] == "Zoë at Example"
    assert body["track_opens"] is True and body["track_clicks"] is False
    assert body["template"] is None
    assert body["audience"] == {"all": False, "lists": [], "segments": []}
    assert body["stats"] == dict.fromkeys(body["stats"], 0) and len(body["stats"]) == 11
    assert sum(body["outbox"].values()) == body["total_recipients"] == 0
    shown = lettr("campaign", "show", body["id"], "--json").json()
    assert shown["html_content"] == "<p>Hi {{ first_name }}</p>"
    assert shown["text_content"] is None and shown["in_doubt_recipients"] == []


def test_tracking_defaults_come_from_config(lettr) -> None:
    lettr("config", "set", "tracking.opens", "false")
    body = lettr("campaign", "create", "Quiet", "--json").json()
    assert body["track_opens"] is False and body["track_clicks"] is True


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--subject", "Hi\r\nBcc: everyone@example.com"], "subject"),
        (["--from-name", "Ann\nX-Injected: 1"], "from_name"),
        (["--subject", "x" * 999], "subject"),
        (["--from-email", "not an address"], "from_email"),
        (["--reply-to", "a@example.com\r\n"], "reply_to"),
        (["--preview-text", "two\nlines"], "preview_text"),
    ],
)
def test_bad_values_are_refused_and_nothing_changes(lettr, args: list[str], field: str) -> None:
    created = lettr("campaign", "create", "C", "--subject", "Fine", "--json").json()
    result = lettr("campaign", "edit", created["id"], *args, "--json")
    assert result.exit_code == 1
    assert field in result.error()["errors"]
    assert lettr("campaign", "show", created["id"], "--json").json()["subject"] == "Fine"
    refused = lettr("campaign", "create", "D", *args)
    assert refused.exit_code == 1
    assert len(lettr("campaign", "list", "--json").json()) == 1


def test_a_runaway_template_is_refused(lettr, tmp_path: Path) -> None:
    bad = html_file(tmp_path, "{% for x in %}", "bad.html")
    result = lettr("campaign", "create", "C", "--html", bad, "--json")
    assert result.exit_code == 1
    assert "html_content" in result.error()["errors"]


def test_lookup_by_id_name_and_prefix(lettr) -> None:
    first = lettr("campaign", "create", "Weekly", "--json").json()
    second = lettr("campaign", "create", "Monthly", "--json").json()
    assert lettr("campaign", "show", "Weekly", "--json").json()["id"] == first["id"]
    assert lettr("campaign", "show", second["id"][:6], "--json").json()["id"] == second["id"]
    assert lettr("campaign", "show", first["id"][:5]).stderr.startswith("Error [not_found]")
    lettr("campaign", "create", "Weekly")
    ambiguous = lettr("campaign", "show", "Weekly", "--json")
    assert ambiguous.exit_code == 1
    assert ambiguous.error()["error_code"] == "validation_error"
    assert first["id"] in ambiguous.error()["message"]
    assert lettr("campaign", "show", "nothing-like-it").stderr.startswith("Error [not_found]")


def test_an_ambiguous_id_prefix_lists_the_candidates(lettr, isolated_home: Path) -> None:
    from lettr_cli.store.tables import Campaign

    ws = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    with ws.store.write() as session:
        for suffix in ("1111", "2222"):
            session.add(Campaign(id=f"abcdef12-0000-4000-8000-00000000{suffix}", name=suffix))
    ws.close()
    result = lettr("campaign", "show", "abcdef12", "--json")
    assert result.exit_code == 1
    message = result.error()["message"]
    assert "abcdef12-0000-4000-8000-000000001111" in message
    assert "abcdef12-0000-4000-8000-000000002222" in message
    assert lettr("campaign", "show", "abcdef12-0000-4000-8000-00000000222", "--json").exit_code == 0


def test_list_duplicate_delete(lettr, isolated_home: Path, tmp_path: Path) -> None:
    original = lettr("campaign", "create", "Launch", "--subject", "Hello", "--html",
                     html_file(tmp_path), "--json").json()  # fmt: skip
    copy = lettr("campaign", "duplicate", "Launch", "--json").json()
    assert copy["name"] == "Launch (copy)" and copy["id"] != original["id"]
    assert copy["subject"] == "Hello" and copy["status"] == "draft"
    set_status(isolated_home, original["id"], "sent")
    assert [c["name"] for c in lettr("campaign", "list", "--status", "sent", "--json").json()] == [
        "Launch"
    ]
    assert lettr("campaign", "list", "--status", "bogus").exit_code == 1
    again = lettr(
        "campaign", "duplicate", original["id"], "--name", "Launch again", "--json"
    ).json()
    assert again["status"] == "draft"
    assert lettr("campaign", "show", again["id"], "--json").json()["html_content"] == (
        "<p>Hi {{ first_name }}</p>"
    )
    refused = lettr("campaign", "delete", original["id"], "--yes", "--json")
    assert refused.exit_code == 1
    assert refused.error()["error_code"] == "campaign_not_editable"
    assert lettr("campaign", "delete", copy["id"], "--yes", "--json").json() == {
        "deleted": [copy["id"]]
    }
    set_status(isolated_home, again["id"], "failed")
    assert lettr("campaign", "delete", again["id"], "--yes").exit_code == 0


@pytest.mark.parametrize("status", ["scheduled", "sending", "sent", "in_review", "failed"])
def test_only_drafts_can_be_edited(lettr, isolated_home: Path, status: str) -> None:
    body = lettr("campaign", "create", "C", "--subject", "Before", "--json").json()
    set_status(isolated_home, body["id"], status)
    result = lettr("campaign", "edit", body["id"], "--subject", "After", "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "campaign_not_editable"
    assert lettr("campaign", "show", body["id"], "--json").json()["subject"] == "Before"


def test_a_linked_template_is_followed_while_draft_and_frozen_after(
    lettr, isolated_home: Path, tmp_path: Path
) -> None:
    lettr("template", "create", "News", "--html", html_file(tmp_path, "<p>v1</p>", "v1.html"))
    body = lettr("campaign", "create", "C", "--template", "News", "--json").json()
    other = lettr("campaign", "create", "D", "--template", "News", "--json").json()
    assert body["template"] == {"name": "News", "version": 1}
    lettr("template", "update", "News", "--html", html_file(tmp_path, "<p>v2</p>", "v2.html"))
    shown = lettr("campaign", "show", body["id"], "--json").json()
    assert shown["template"] == {"name": "News", "version": 2}
    assert shown["html_content"] == "<p>v2</p>"
    set_status(isolated_home, body["id"], "scheduled")
    lettr("template", "update", "News", "--html", html_file(tmp_path, "<p>v3</p>", "v3.html"))
    frozen = lettr("campaign", "show", body["id"], "--json").json()
    assert frozen["template"] == {"name": "News", "version": 2}
    assert frozen["html_content"] == "<p>v2</p>"
    assert lettr("campaign", "show", other["id"], "--json").json()["html_content"] == "<p>v3</p>"
    own = lettr("campaign", "edit", other["id"], "--html",
                html_file(tmp_path, "<p>own</p>", "own.html"), "--json").json()  # fmt: skip
    assert own["template"] is None
    assert lettr("campaign", "create", "E", "--template", "Nope").stderr.startswith(
        "Error [not_found]"
    )


def test_prompt_starts_from_the_closest_earlier_campaign(lettr) -> None:
    def earlier(name: str, subject: str, sender: str, preview: str) -> Any:
        local = sender.partition("@")[0]
        return lettr("campaign", "create", name, "--subject", subject, "--from-email", sender,
                     "--from-name", local, "--preview-text", preview, "--json")  # fmt: skip

    earlier("Spring shoe sale", "Shoes for spring: 30% off", "shoes@example.com", "Sneakers, boots")
    earlier("Monthly newsletter", "What happened in May", "news@example.com", "Our stories")
    earlier("Webinar invite", "Join our product webinar", "events@example.org", "Live demo")
    result = lettr("campaign", "create", "--prompt", "autumn shoe sale with boots discounts",
                   "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["from_email"] == "shoes@example.com"
    assert body["from_name"] == "shoes"
    assert body["name"] == "autumn shoe sale with boots discounts"
    assert body["subject"] == "Autumn shoe sale boots discounts"
    assert "Closest earlier campaign: 'Spring shoe sale'" in result.stderr
    explicit = lettr("campaign", "create", "--prompt", "newsletter stories for June",
                     "--from-email", "me@example.net", "--json").json()  # fmt: skip
    assert explicit["from_email"] == "me@example.net"  # given values win
    assert explicit["from_name"] == "news"


def _as_sent(home: Path, ref: str, **stats: int) -> None:
    from datetime import UTC, datetime

    ws = Workspace.open(home / "lettr.db", home=home, environ={})
    with ws.store.write() as session:
        campaign = find_campaign(session, ref)
        campaign.status = "sent"
        campaign.sent_at = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
        campaign.total_recipients = stats.get("injections", 0)
        for key, value in stats.items():
            setattr(campaign, key, value)
        session.add(campaign)
    ws.close()


def test_campaign_list_takes_limit_and_shows_rates(lettr, isolated_home: Path) -> None:
    for name in ("First", "Second", "Third"):
        lettr("campaign", "create", name)
    _as_sent(isolated_home, "First", injections=20, deliveries=20, unique_opens=6,
             opens=9, unique_clicks=1, clicks=2)  # fmt: skip
    cut = lettr("campaign", "list", "--limit", "2", "--json")
    assert [c["name"] for c in cut.json()] == ["Third", "Second"]
    assert "2 of 3 shown" in cut.stderr
    assert len(lettr("campaign", "list", "--limit", "0", "--json").json()) == 3
    whole = lettr("campaign", "list")
    assert "of 3 shown" not in whole.stderr
    header, *rows = whole.stdout.splitlines()
    assert header.split() == [
        "id", "name", "status", "recipients", "when", "open_rate", "click_rate"
    ]  # fmt: skip
    sent = next(row for row in rows if "First" in row)
    assert "sent 2026-05-01" in sent
    assert sent.split()[-2:] == ["30.0%", "5.0%"]  # unique over deliveries, as the report
    draft = next(row for row in rows if "Second" in row)
    assert "%" not in draft
    assert lettr("campaign", "list", "--limit", "-1").exit_code == 2


def test_a_scheduled_campaign_points_to_unschedule(lettr, isolated_home: Path) -> None:
    body = lettr("campaign", "create", "Later", "--json").json()
    set_status(isolated_home, body["id"], "scheduled")
    message = lettr("campaign", "edit", "Later", "--subject", "x", "--json").error()["message"]
    assert f"lettr campaign unschedule {body['id'][:8]}" in message
    assert "duplicate" not in message


def test_duplicate_keeps_the_template_link(lettr, isolated_home: Path, tmp_path: Path) -> None:
    lettr("template", "create", "News", "--html", html_file(tmp_path, "<p>v1</p>", "v1.html"))
    lettr("campaign", "create", "Draft", "--template", "News")
    lettr("campaign", "create", "Gone", "--template", "News")
    set_status(isolated_home, "Gone", "sent")  # frozen at version 1
    lettr("template", "update", "News", "--html", html_file(tmp_path, "<p>v2</p>", "v2.html"))
    copy = lettr("campaign", "duplicate", "Gone", "--json").json()
    assert copy["template"] == {"name": "News", "version": 1}
    assert lettr("campaign", "show", copy["id"], "--json").json()["html_content"] == "<p>v1</p>"
    follows = lettr("campaign", "duplicate", "Draft", "--json").json()
    assert follows["template"] == {"name": "News", "version": 2}
