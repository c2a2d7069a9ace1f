"""`contact resend-confirmation` (at most one per contact per 10 minutes), and unverified
contacts never receiving campaigns (issue 19)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import httpx

from lettr_cli.store.types import utcnow
from tests.optin_helpers import REDIRECT, add_args, confirmation_path, rows, setup, store_snapshot
from tests.sending_helpers import new_campaign
from tests.tracking_helpers import app_client, contact_status, serving

ANN = "ann@example.com"


def _age_last_mail(home: Path, minutes: int) -> None:
    """As if the last confirmation mail went out ``minutes`` ago."""
    with sqlite3.connect(home / "lettr.db") as conn:
        (sent_at,) = conn.execute("SELECT sent_at FROM confirmations").fetchone()
        earlier = utcnow() - timedelta(minutes=minutes)
        assert sent_at is not None
        stamp = earlier.strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.execute("UPDATE confirmations SET sent_at = ?", (stamp,))


def test_resend_at_most_once_per_ten_minutes(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    setup(lettr, tmp_path)
    assert lettr(*add_args(ANN, "--prop", "first_name=Ann")).exit_code == 0
    before = store_snapshot(isolated_home)
    soon = lettr("contact", "resend-confirmation", ANN, "--json")
    assert soon.exit_code == 1
    assert soon.error()["error_code"] == "rate_limit_exceeded"
    assert "10 minutes" in soon.error()["message"]
    assert store_snapshot(isolated_home) == before
    assert len(relay.messages) == 1

    _age_last_mail(isolated_home, 11)
    again = lettr("contact", "resend-confirmation", ANN, "--json")
    assert again.exit_code == 0, again.stderr
    assert again.json()["status"] == "unverified"
    first, second = (message for _, _, message in relay.arrived())
    assert second["Subject"] == first["Subject"] == "Please confirm your subscription"
    assert "Hello Ann," in second.get_body(("html",)).get_content()  # type: ignore[union-attr]
    old, new = confirmation_path(first), confirmation_path(second)
    # Right after a resend, another is refused again.
    assert lettr("contact", "resend-confirmation", ANN).exit_code == 1
    # Either link confirms, once.
    with serving(app_client(isolated_home).app) as url, httpx.Client(base_url=url) as http:
        answer = http.post(new, data={"confirm": "1"})
        assert answer.status_code == 303 and answer.headers["location"] == REDIRECT
        assert http.post(old, data={"confirm": "1"}).status_code == 404
    assert contact_status(isolated_home, ANN) == "subscribed"
    # A subscribed contact is sent nothing.
    done = lettr("contact", "resend-confirmation", ANN, "--json")
    assert done.error()["error_code"] == "validation_error"
    assert len(relay.messages) == 2


def test_a_failed_resend_does_not_use_up_the_ten_minutes(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    setup(lettr, tmp_path)
    assert lettr(*add_args(ANN)).exit_code == 0
    _age_last_mail(isolated_home, 11)
    kept = rows(isolated_home, "SELECT sent_at FROM confirmations")
    relay.rcpt[ANN] = "451 4.3.0 try later"
    failed = lettr("contact", "resend-confirmation", ANN, "--json")
    assert failed.exit_code == 1
    assert failed.error()["error_code"] == "transmission_failed"
    assert rows(isolated_home, "SELECT sent_at FROM confirmations") == kept
    relay.rcpt.clear()
    assert lettr("contact", "resend-confirmation", ANN).exit_code == 0
    assert len(relay.messages) == 2


def test_resend_needs_a_contact_added_with_double_opt_in(lettr, relay) -> None:
    missing = lettr("contact", "resend-confirmation", ANN, "--json")
    assert missing.error()["error_code"] == "not_found"
    assert lettr("contact", "add", ANN, "--status", "unverified").exit_code == 0
    plain = lettr("contact", "resend-confirmation", ANN, "--json")
    assert plain.exit_code == 1
    assert plain.error()["error_code"] == "validation_error"
    assert "--double-opt-in" in plain.error()["message"]
    assert relay.messages == []


def test_unverified_contacts_never_receive_campaigns(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    setup(lettr, tmp_path)
    assert lettr(*add_args(ANN, "--list", "Customers")).exit_code == 0
    assert lettr("contact", "add", "bob@example.org", "--list", "Customers").exit_code == 0
    relay.forget()
    campaign = new_campaign(lettr, tmp_path, "Sale")
    sent = lettr("campaign", "send", campaign, "--yes", "--json")
    assert sent.exit_code == 0, sent.stderr
    assert sent.json()["total_recipients"] == 1
    assert relay.delivered_to() == ["bob@example.org"]
    assert contact_status(isolated_home, ANN) == "unverified"
