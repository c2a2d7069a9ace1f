"""`lettr campaign schedule` / `unschedule`, and the daemon's promotion of due campaigns.

Everything runs against the real store, a real SMTP server and a loopback DNS responder; the
times are far ahead so the real clock never catches up with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.campaigns.scheduling import Promotion, due_campaigns, promote_due
from lettr_cli.domains.responder import DnsResponder
from lettr_cli.workspace import Workspace
from tests.conftest import run_process
from tests.test_campaigns import html_file, set_status

AT = "2099-12-01T09:00"
AT_UTC = "2099-12-01T08:00:00+00:00"  # AT in Europe/Berlin


@pytest.fixture
def ready(lettr: Any, tmp_path: Path, verified_domain: Any) -> str:
    """A campaign that passes every check, on a relay that answers; the zone is Berlin."""
    verified_domain()
    lettr("config", "set", "sender.postal_address", "1 Example Street")
    lettr("config", "set", "timezone", "Europe/Berlin")
    lettr("list", "create", "VIP")
    lettr("contact", "add", "a@example.com", "b@example.com", "--list", "VIP")
    return new_campaign(lettr, tmp_path, "Spring")


def new_campaign(lettr: Any, tmp_path: Path, name: str, *extra: str) -> str:
    body = lettr(
        "campaign",
        "create",
        name,
        "--subject",
        f"{name} letter",
        "--from-email",
        "news@example.com",
        *(extra or ("--html", html_file(tmp_path, "<p>Hello {{ unsubscribe_link }}</p>"))),
        "--json",
    ).json()
    assert lettr("campaign", "audience", body["id"], "--list", "VIP").exit_code == 0
    return str(body["id"])


@pytest.fixture
def store(isolated_home: Path) -> Iterator[Workspace]:
    ws = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    yield ws
    ws.close()


def row(home: Path, ref: str) -> dict[str, Any]:
    """Every column of the campaign, as stored."""
    ws = Workspace.open(home / "lettr.db", home=home, environ={})
    try:
        with ws.store.read() as session:
            return find_campaign(session, ref).model_dump()
    finally:
        ws.close()


def show(lettr: Any, ref: str) -> dict[str, Any]:
    body = lettr("campaign", "show", ref, "--json").json()
    assert isinstance(body, dict)
    return body


# -- schedule ---------------------------------------------------------------------------------


def test_schedule_a_ready_campaign(lettr, ready: str, isolated_home: Path) -> None:
    before = row(isolated_home, ready)
    result = lettr("campaign", "schedule", ready, "--at", AT, "--json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["id"] == ready and body["status"] == "scheduled"
    assert body["scheduled_at"] == AT_UTC
    assert f"Scheduled for 2099-12-01 09:00 CET in Europe/Berlin ({AT_UTC})" in result.stderr
    shown = show(lettr, ready)
    assert shown["status"] == "scheduled" and shown["scheduled_at"] == AT_UTC
    after = row(isolated_home, ready)
    assert after["scheduled_at"] == datetime.fromisoformat(AT_UTC)
    assert after["updated_at"] > before["updated_at"]


def test_schedule_in_words_prints_a_short_line(lettr, ready: str) -> None:
    result = lettr("campaign", "schedule", "Spring", "--at", "Dec 1 2099 9am")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Campaign 'Spring' ({ready[:8]}) is scheduled.\n"
    assert "Scheduled for 2099-12-01 09:00 CET" in result.stderr
    assert show(lettr, ready)["scheduled_at"] == AT_UTC


def test_reschedule(lettr, ready: str) -> None:
    assert lettr("campaign", "schedule", ready, "--at", AT).exit_code == 0
    result = lettr("campaign", "schedule", ready, "--at", "2099-12-02T10:30", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["status"] == "scheduled"
    assert result.json()["scheduled_at"] == "2099-12-02T09:30:00+00:00"
    # A refused reschedule keeps the time it had.
    past = lettr("campaign", "schedule", ready, "--at", "2020-12-02T10:30")
    assert past.exit_code == 1 and "is in the past" in past.stderr
    shown = show(lettr, ready)
    assert shown["status"] == "scheduled"
    assert shown["scheduled_at"] == "2099-12-02T09:30:00+00:00"


def test_relative_time(lettr, ready: str) -> None:
    result = lettr("campaign", "schedule", ready, "--at", "+2h", "--json")
    assert result.exit_code == 0, result.stderr
    at = datetime.fromisoformat(result.json()["scheduled_at"])
    assert 7100 < (at - datetime.now(UTC)).total_seconds() <= 7200


def test_tz_beats_config_timezone(lettr, ready: str) -> None:
    result = lettr("campaign", "schedule", ready, "--at", AT, "--tz", "Asia/Tokyo", "--json")
    assert result.json()["scheduled_at"] == "2099-12-01T00:00:00+00:00"
    assert "2099-12-01 09:00 JST in Asia/Tokyo" in result.stderr
    lettr("config", "set", "timezone", "America/New_York")
    result = lettr("campaign", "schedule", ready, "--at", AT, "--json")
    assert result.json()["scheduled_at"] == "2099-12-01T14:00:00+00:00"
    # An offset in the text wins over both.
    result = lettr("campaign", "schedule", ready, "--at", f"{AT}+00:00", "--tz", "Asia/Tokyo")
    assert show(lettr, ready)["scheduled_at"] == "2099-12-01T09:00:00+00:00"
    assert "2099-12-01 18:00 JST in Asia/Tokyo (2099-12-01T09:00:00+00:00)" in result.stderr


def test_config_timezone_beats_the_system_zone(lettr, ready: str) -> None:
    lettr("config", "unset", "timezone")
    # A fresh process, so that the system zone is read from TZ.
    system = run_process(
        ["campaign", "schedule", ready, "--at", AT, "--json"], env={"TZ": "America/New_York"}
    )
    assert system.returncode == 0, system.stderr
    assert '"scheduled_at": "2099-12-01T14:00:00+00:00"' in system.stdout
    assert "EST in America/New_York" in system.stderr
    lettr("config", "set", "timezone", "Asia/Tokyo")
    configured = run_process(
        ["campaign", "schedule", ready, "--at", AT, "--json"], env={"TZ": "America/New_York"}
    )
    assert '"scheduled_at": "2099-12-01T00:00:00+00:00"' in configured.stdout


def test_a_repeated_local_time_is_noted(lettr, ready: str) -> None:
    result = lettr("campaign", "schedule", ready, "--at", "2099-10-25 02:30", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["scheduled_at"] == "2099-10-25T00:30:00+00:00"
    assert "Note: 2099-10-25 02:30 happens twice in Europe/Berlin" in result.stderr


def test_a_linked_template_is_pinned_while_scheduled(lettr, ready: str, tmp_path: Path) -> None:
    lettr("template", "create", "News", "--html", html_file(tmp_path, "<p>v1</p>", "v1.html"))
    ref = new_campaign(lettr, tmp_path, "Linked", "--template", "News")
    assert lettr("campaign", "schedule", ref, "--at", AT).exit_code == 0
    lettr("template", "update", "News", "--html", html_file(tmp_path, "<p>v2</p>", "v2.html"))
    assert show(lettr, ref)["template"] == {"name": "News", "version": 1}
    assert "v1" in show(lettr, ref)["html_content"]
    # A reschedule keeps the pinned version.
    assert lettr("campaign", "schedule", ref, "--at", "2099-12-02T09:00").exit_code == 0
    assert show(lettr, ref)["template"] == {"name": "News", "version": 1}
    # Back to draft, it follows the template's active version again.
    assert lettr("campaign", "unschedule", ref).exit_code == 0
    assert show(lettr, ref)["template"] == {"name": "News", "version": 2}
    assert "v2" in show(lettr, ref)["html_content"]


# -- unschedule -------------------------------------------------------------------------------


def test_unschedule(lettr, ready: str, isolated_home: Path) -> None:
    assert lettr("campaign", "schedule", ready, "--at", AT).exit_code == 0
    result = lettr("campaign", "unschedule", ready, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["status"] == "draft" and result.json()["scheduled_at"] is None
    assert row(isolated_home, ready)["scheduled_at"] is None
    # A draft again: editable.
    assert lettr("campaign", "edit", ready, "--subject", "New").exit_code == 0
    assert lettr("campaign", "schedule", ready, "--at", AT).exit_code == 0
    words = lettr("campaign", "unschedule", ready)
    assert words.exit_code == 0
    assert words.stdout == f"Campaign 'Spring' ({ready[:8]}) is a draft again.\n"


def test_unschedule_of_a_draft_is_refused(lettr, ready: str, isolated_home: Path) -> None:
    before = row(isolated_home, ready)
    result = lettr("campaign", "unschedule", ready, "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "campaign_not_scheduled"
    assert "is draft, not scheduled" in result.error()["message"]
    assert row(isolated_home, ready) == before


@pytest.mark.parametrize("status", ["sent", "failed", "preparing"])
def test_unschedule_after_the_schedule_is_refused(
    lettr, ready: str, isolated_home: Path, status: str
) -> None:
    set_status(isolated_home, ready, status)
    before = row(isolated_home, ready)
    result = lettr("campaign", "unschedule", ready)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error [campaign_not_scheduled]")
    assert row(isolated_home, ready) == before


# -- refusals: the campaign stays as it was ----------------------------------------------------


def test_a_scheduled_campaign_cannot_be_edited(lettr, ready: str, isolated_home: Path) -> None:
    assert lettr("campaign", "schedule", ready, "--at", AT).exit_code == 0
    before = row(isolated_home, ready)
    for args in (
        ("edit", ready, "--subject", "Changed"),
        ("audience", ready, "--all"),
        ("delete", ready, "--yes"),
    ):
        result = lettr("campaign", *args, "--json")
        assert result.exit_code == 1
        assert result.error()["error_code"] == "campaign_not_editable"
    assert row(isolated_home, ready) == before


@pytest.mark.parametrize("status", ["sent", "failed", "in_review", "sending", "preparing"])
def test_schedule_after_draft_is_refused(
    lettr, ready: str, isolated_home: Path, status: str
) -> None:
    set_status(isolated_home, ready, status)
    before = row(isolated_home, ready)
    result = lettr("campaign", "schedule", ready, "--at", AT, "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "campaign_not_sendable"
    assert (
        f"is {status}; only a draft or scheduled campaign can be scheduled"
        in (result.error()["message"])
    )
    assert result.stdout == ""
    assert row(isolated_home, ready) == before


def refused(lettr: Any, home: Path, ref: str, *args: str) -> dict[str, Any]:
    """Schedule ``ref`` expecting a refusal; the stored campaign must not change."""
    before = row(home, ref)
    result = lettr("campaign", "schedule", ref, *args, "--json")
    assert result.exit_code == 1, result.stdout
    assert result.stdout == ""
    assert row(home, ref) == before
    error = result.error()
    assert isinstance(error, dict)
    return error


def test_a_campaign_without_subject_or_audience(lettr, ready: str, isolated_home: Path) -> None:
    bare = lettr("campaign", "create", "Bare", "--json").json()["id"]
    error = refused(lettr, isolated_home, bare, "--at", AT)
    assert error["error_code"] == "campaign_not_sendable"
    assert error["message"].startswith(
        "campaign 'Bare' still needs a subject, a sender (--from-email), content and an audience"
    )
    assert "also: [" in error["message"]  # every refusal is named, the first one's code wins


def test_an_unverified_domain(lettr, ready: str, isolated_home: Path) -> None:
    lettr("campaign", "edit", ready, "--from-email", "news@example.org")
    error = refused(lettr, isolated_home, ready, "--at", AT)
    assert error["error_code"] == "unconfigured_domain"
    assert "example.org" in error["message"]


def test_a_content_error(lettr, ready: str, isolated_home: Path, tmp_path: Path) -> None:
    lettr("campaign", "edit", ready, "--html", html_file(tmp_path, "<p>{{ nope }}</p>", "x.html"))
    error = refused(lettr, isolated_home, ready, "--at", AT)
    assert error["error_code"] == "validation_error"
    assert "unknown merge tag {{ nope }}" in error["message"]


def test_a_relay_that_is_down(lettr, ready: str, isolated_home: Path) -> None:
    lettr("config", "set", "smtp.port", "1")
    error = refused(lettr, isolated_home, ready, "--at", AT)
    assert error["error_code"] == "transmission_failed"
    assert row(isolated_home, ready)["status"] == "draft"


def test_a_relay_that_is_down_stops_a_reschedule_too(
    lettr, ready: str, isolated_home: Path
) -> None:
    assert lettr("campaign", "schedule", ready, "--at", AT).exit_code == 0
    lettr("config", "set", "smtp.port", "1")
    error = refused(lettr, isolated_home, ready, "--at", "2099-12-05T09:00")
    assert error["error_code"] == "transmission_failed"
    assert show(lettr, ready)["scheduled_at"] == AT_UTC


@pytest.mark.parametrize(
    ("args", "field", "words"),
    [
        (("--at", "2020-01-01T09:00"), "at", "is in the past"),
        (("--at", "+0m"), "at", "is in the past"),
        (("--at", "friday 9am"), "at", "a weekday name is not a date"),
        (("--at", "9am"), "at", "has no full date"),
        (("--at", "5"), "at", "bare number"),
        (("--at", "2099-03-29 02:30"), "at", "does not exist in Europe/Berlin"),
        (("--at", AT, "--tz", "Mars/Olympus"), "tz", "is not an IANA time zone"),
        (("--at", AT, "--tz", "Europe"), "tz", "is not an IANA time zone"),
    ],
)
def test_a_bad_time_or_zone(
    lettr, ready: str, isolated_home: Path, args: tuple[str, ...], field: str, words: str
) -> None:
    error = refused(lettr, isolated_home, ready, *args)
    assert error["error_code"] == "validation_error"
    assert words in error["message"]
    assert field in error["errors"]


def test_a_bad_time_in_plain_text(lettr, ready: str) -> None:
    result = lettr("campaign", "schedule", ready, "--at", "tomorrow")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error [validation_error]: 'tomorrow' is not a time")


def test_an_unknown_campaign(lettr, ready: str) -> None:
    result = lettr("campaign", "schedule", "nope", "--at", AT, "--json")
    assert result.exit_code == 1 and result.error()["error_code"] == "not_found"


def test_a_missing_at_is_the_parsers(lettr, ready: str) -> None:
    assert lettr("campaign", "schedule", ready).exit_code == 2


# -- the daemon's promotion of due campaigns -----------------------------------------------------


def test_due_campaigns_go_to_preparing_oldest_first(
    lettr, ready: str, tmp_path: Path, store: Workspace
) -> None:
    later = new_campaign(lettr, tmp_path, "Later")
    future = new_campaign(lettr, tmp_path, "Future")
    assert lettr("campaign", "schedule", later, "--at", "2099-12-01T09:30").exit_code == 0
    assert lettr("campaign", "schedule", ready, "--at", AT).exit_code == 0
    assert lettr("campaign", "schedule", future, "--at", "2099-12-02T09:00").exit_code == 0
    now = datetime(2099, 12, 1, 9, 0, tzinfo=UTC)
    with store.store.read() as session:
        assert [c.id for c in due_campaigns(session, now)] == [ready, later]
    assert promote_due(store, now) == [
        Promotion(ready, "Spring", "preparing", None),
        Promotion(later, "Later", "preparing", None),
    ]
    assert show(lettr, ready)["status"] == "preparing"
    assert show(lettr, later)["status"] == "preparing"
    assert show(lettr, future)["status"] == "scheduled"
    # Promoted once: a second pass (another daemon) finds nothing to do.
    assert promote_due(store, now) == []


def test_nothing_is_due_before_its_time(lettr, ready: str, store: Workspace) -> None:
    assert lettr("campaign", "schedule", ready, "--at", AT).exit_code == 0
    assert promote_due(store, datetime(2099, 12, 1, 7, 59, 59, tzinfo=UTC)) == []
    assert promote_due(store) == []  # the real clock
    assert show(lettr, ready)["status"] == "scheduled"
    exactly = promote_due(store, datetime(2099, 12, 1, 8, 0, tzinfo=UTC))
    assert [p.status for p in exactly] == ["preparing"]


def test_a_due_campaign_whose_domain_failed_fails(lettr, ready: str, store: Workspace) -> None:
    assert lettr("campaign", "schedule", ready, "--at", AT).exit_code == 0
    with DnsResponder() as dns:  # the records are gone
        verify = lettr("domain", "verify", "example.com", "--nameserver", dns.nameserver)
    assert verify.exit_code == 1
    (promotion,) = promote_due(store, datetime(2099, 12, 1, 8, 0, tzinfo=UTC))
    assert promotion.id == ready and promotion.status == "failed"
    assert promotion.reason is not None and "example.com" in promotion.reason
    body = show(lettr, ready)
    assert body["status"] == "failed" and body["failure_reason"] == promotion.reason


def test_a_relay_that_is_down_at_due_time_does_not_fail_it(
    lettr, ready: str, store: Workspace
) -> None:
    assert lettr("campaign", "schedule", ready, "--at", AT).exit_code == 0
    lettr("config", "set", "smtp.port", "1")
    (promotion,) = promote_due(store, datetime(2099, 12, 1, 8, 0, tzinfo=UTC))
    assert promotion == Promotion(ready, "Spring", "preparing", None)
    assert show(lettr, ready)["failure_reason"] is None


def test_an_unscheduled_campaign_is_not_promoted(lettr, ready: str, store: Workspace) -> None:
    assert lettr("campaign", "schedule", ready, "--at", AT).exit_code == 0
    assert lettr("campaign", "unschedule", ready).exit_code == 0
    assert promote_due(store, datetime(2099, 12, 1, 8, 0, tzinfo=UTC)) == []
    assert show(lettr, ready)["status"] == "draft"
