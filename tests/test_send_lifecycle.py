"""`campaign send` and the lifecycle (DESIGN "Lifecycle"): every refusal has its code and leaves
the campaign exactly as it was (a draft, no outbox row, nothing at the server); `--detach` hands
the work to `daemon tick`; an empty audience fails the campaign; approve, reject and retry refuse
campaigns in the wrong state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.send_cases import (
    audience_campaign,
    campaign_row,
    error_of,
    execute,
    import_audience,
    outbox_count,
)

pytestmark = pytest.mark.usefixtures("each_engine")

EMAILS = [f"reader{n}@example.org" for n in range(3)]


def _sent(lettr: Any, home: Path, tmp_path: Path, ref: str) -> None:
    execute(home, "UPDATE campaigns SET status = 'sent' WHERE id = ?", ref)


def _scheduled(lettr: Any, home: Path, tmp_path: Path, ref: str) -> None:
    execute(
        home,
        "UPDATE campaigns SET status = 'scheduled', scheduled_at = '2099-01-01 09:00:00.000000'"
        " WHERE id = ?",
        ref,
    )


def _no_subject(lettr: Any, home: Path, tmp_path: Path, ref: str) -> None:
    execute(home, "UPDATE campaigns SET subject = NULL WHERE id = ?", ref)


def _no_audience(lettr: Any, home: Path, tmp_path: Path, ref: str) -> None:
    execute(
        home,
        """UPDATE campaigns SET audience = '{"all": false, "lists": [], "segments": []}'"""
        " WHERE id = ?",
        ref,
    )


def _unverified_domain(lettr: Any, home: Path, tmp_path: Path, ref: str) -> None:
    assert lettr("domain", "add", "example.net").exit_code == 0
    edited = lettr("campaign", "edit", ref, "--from-email", "news@example.net")
    assert edited.exit_code == 0, edited.stderr


def _over_the_plan(lettr: Any, home: Path, tmp_path: Path, ref: str) -> None:
    # The free plan allows 500 contacts; every contact counts, in the audience or not.
    extra = [f"extra{n}@example.net" for n in range(501 - len(EMAILS))]
    import_audience(lettr, tmp_path, extra, "Others")


def _content_error(lettr: Any, home: Path, tmp_path: Path, ref: str) -> None:
    edited = lettr("campaign", "edit", ref, "--subject", "Hi {{ first_nmae }}")
    assert edited.exit_code == 0, edited.stderr


def _nothing(lettr: Any, home: Path, tmp_path: Path, ref: str) -> None:
    return None


Spoil = Callable[[Any, Path, Path, str], None]
REFUSALS: list[tuple[str, Spoil, str, tuple[str, ...]]] = [
    ("sent", _sent, "campaign_not_sendable", ("--yes",)),
    ("scheduled", _scheduled, "campaign_has_pending_schedule", ("--yes",)),
    ("no subject", _no_subject, "campaign_not_sendable", ("--yes",)),
    ("no audience", _no_audience, "campaign_not_sendable", ("--yes",)),
    ("unverified domain", _unverified_domain, "unconfigured_domain", ("--yes",)),
    ("over the plan", _over_the_plan, "quota_exceeded", ("--yes",)),
    ("content error", _content_error, "validation_error", ("--yes",)),
    ("no --yes without a terminal", _nothing, "confirmation_required", ()),
]


@pytest.mark.parametrize(
    ("spoil", "code", "flags"),
    [pytest.param(spoil, code, flags, id=name) for name, spoil, code, flags in REFUSALS],
)
def test_a_refused_send_changes_nothing(
    lettr,
    smtp_server,
    verified_domain,
    tmp_path: Path,
    isolated_home: Path,
    spoil: Spoil,
    code: str,
    flags: tuple[str, ...],
) -> None:
    verified_domain()
    ref = audience_campaign(lettr, tmp_path, EMAILS)
    spoil(lettr, isolated_home, tmp_path, ref)
    before = campaign_row(isolated_home, ref)

    result = lettr("campaign", "send", ref, *flags, "--json")

    assert result.exit_code == 1, result.stdout
    assert result.error()["error_code"] == code, result.stderr
    assert result.stdout == ""
    assert campaign_row(isolated_home, ref) == before
    assert outbox_count(isolated_home) == 0
    assert smtp_server.messages == []
    plain = lettr("campaign", "send", ref, *flags)
    assert plain.exit_code == 1
    assert plain.stderr.startswith(f"Error [{code}]: "), plain.stderr
    assert campaign_row(isolated_home, ref) == before


def test_detach_leaves_the_campaign_preparing_for_daemon_tick(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    ref = audience_campaign(lettr, tmp_path, EMAILS)

    detached = lettr("campaign", "send", ref, "--detach", "--yes", "--json")

    assert detached.exit_code == 0, detached.stderr
    assert detached.json()["status"] == "preparing"
    assert "daemon tick" in detached.stderr
    assert campaign_row(isolated_home, ref)["status"] == "preparing"
    assert outbox_count(isolated_home) == 0  # the daemon prepares it
    assert smtp_server.messages == []

    tick = lettr("daemon", "tick", "--json")

    assert tick.exit_code == 0, tick.stderr
    [run] = tick.json()["campaigns"]
    assert (run["id"], run["status"], run["sent"], run["in_doubt"]) == (ref, "sent", 3, 0)
    shown = lettr("campaign", "show", ref, "--json").json()
    assert shown["status"] == "sent"
    assert shown["stats"]["deliveries"] == len(EMAILS)
    delivered = sorted(r for _, rcpts, _ in smtp_server.messages for r in rcpts)
    assert delivered == sorted(EMAILS)
    again = lettr("daemon", "tick", "--json")
    assert again.exit_code == 0 and again.json()["campaigns"] == []
    assert len(smtp_server.messages) == len(EMAILS)


def test_an_empty_audience_fails_the_campaign(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    ref = audience_campaign(lettr, tmp_path, EMAILS)
    for address in EMAILS:
        edited = lettr("contact", "edit", address, "--status", "unsubscribed")
        assert edited.exit_code == 0, edited.stderr

    result = lettr("campaign", "send", ref, "--yes", "--json")

    assert result.exit_code == 1
    error = error_of(result)
    assert "empty" in error["message"], error
    row = campaign_row(isolated_home, ref)
    assert row["status"] == "failed"
    assert "empty" in row["failure_reason"]
    assert result.json()["failure_reason"] == row["failure_reason"]
    assert outbox_count(isolated_home) == 0
    assert smtp_server.messages == []
    # A failed campaign is not retried, it is duplicated.
    retried = lettr("campaign", "retry", ref, "--failed-rows", "--yes", "--json")
    assert error_of(retried)["error_code"] == "campaign_not_sendable"


@pytest.mark.parametrize("status", ["draft", "sent", "failed", "sending"])
def test_approve_reject_and_retry_refuse_the_wrong_state(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path, status: str
) -> None:
    verified_domain()
    ref = audience_campaign(lettr, tmp_path, EMAILS)
    execute(isolated_home, "UPDATE campaigns SET status = ? WHERE id = ?", status, ref)
    before = campaign_row(isolated_home, ref)
    commands = [
        ("approve", ref, "--json"),
        ("reject", ref, "--reason", "not now", "--yes", "--json"),
    ]
    if status != "sent":
        commands += [
            ("retry", ref, "--in-doubt", "--yes", "--json"),
            ("retry", ref, "--failed-rows", "--yes", "--json"),
        ]
    for command in commands:
        result = lettr("campaign", *command)
        assert result.exit_code == 1, (command, result.stdout)
        assert result.error()["error_code"] == "campaign_not_sendable", (command, result.stderr)
        assert campaign_row(isolated_home, ref) == before, command
    assert outbox_count(isolated_home) == 0
    assert smtp_server.messages == []
