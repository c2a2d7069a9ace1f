"""`contact import --double-opt-in` (issue 19): new contacts are created unverified and their
confirmation mails queued; `daemon tick` sends them through the relay, not the import."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.optin_helpers import REDIRECT, confirmation_path, make_template, setup, store_snapshot
from tests.tracking_helpers import app_client, contact_status, serving

MAIL = [
    "--double-opt-in", "--template", "Confirm", "--from", "news@example.com",
    "--subject", "Please confirm", "--redirect", REDIRECT,
]  # fmt: skip


def _csv(tmp_path: Path) -> Path:
    audience = tmp_path / "audience.csv"
    audience.write_text(
        "email,first_name\nann@example.com,Ann\nbob@example.org,Bob\ncarol@example.net,\n"
        "gone@example.net,Gone\n",
        encoding="utf-8",
    )
    return audience


def _prepare(lettr, tmp_path: Path) -> None:
    setup(lettr, tmp_path)
    assert lettr("contact", "add", "bob@example.org").exit_code == 0
    assert lettr("contact", "add", "gone@example.net", "--status", "unsubscribed").exit_code == 0
    assert lettr("contact", "delete", "gone@example.net", "--yes").exit_code == 0  # suppressed


def test_an_import_queues_confirmations_that_the_daemon_sends(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    _prepare(lettr, tmp_path)
    result = lettr("contact", "import", str(_csv(tmp_path)), "--list", "Customers", *MAIL, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["created"] == 3
    assert "2 confirmation mail(s) queued" in result.stderr
    assert relay.messages == []  # the import itself sends nothing
    unverified = lettr("contact", "list", "--status", "unverified", "--json").json()
    assert [item["email"] for item in unverified] == ["ann@example.com", "carol@example.net"]
    assert contact_status(isolated_home, "bob@example.org") == "subscribed"
    assert contact_status(isolated_home, "gone@example.net") == "unsubscribed"

    tick = lettr("daemon", "tick", "--json")
    assert tick.exit_code == 0, tick.stderr
    assert tick.json()["confirmations"] == {"sent": 2, "refused": [], "queued": 0}
    arrived = {rcpts[0]: message for _, rcpts, message in relay.arrived()}
    assert sorted(arrived) == ["ann@example.com", "carol@example.net"]
    assert "Hello Ann," in arrived["ann@example.com"].get_body(("html",)).get_content()  # type: ignore[union-attr]
    # Nothing more to send: the next pass says nothing of confirmations.
    assert "confirmations" not in lettr("daemon", "tick", "--json").json()
    assert len(relay.messages) == 2

    path = confirmation_path(arrived["carol@example.net"])
    with serving(app_client(isolated_home).app) as url, httpx.Client(base_url=url) as http:
        answer = http.post(path, data={"confirm": "1"})
        assert answer.status_code == 303 and answer.headers["location"] == REDIRECT
    assert lettr("contact", "show", "carol@example.net", "--json").json()["status"] == "subscribed"
    assert contact_status(isolated_home, "ann@example.com") == "unverified"


def test_a_relay_failure_keeps_the_queue_for_the_next_pass(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    _prepare(lettr, tmp_path)
    assert lettr("contact", "import", str(_csv(tmp_path)), *MAIL).exit_code == 0
    port = lettr("config", "get", "smtp.port").stdout.strip()
    lettr("config", "set", "smtp.port", "1")
    down = lettr("daemon", "tick", "--json")
    assert down.exit_code == 1
    assert json.loads(down.stderr.splitlines()[-1])["error_code"] == "transmission_failed"
    assert "2 still queued" in down.stderr
    assert down.json()["confirmations"]["queued"] == 2
    lettr("config", "set", "smtp.port", port)
    # A resend meanwhile sends that contact its mail once; the daemon does not send it again.
    assert lettr("contact", "resend-confirmation", "ann@example.com").exit_code == 0
    tick = lettr("daemon", "tick", "--json")
    assert tick.exit_code == 0, tick.stderr
    assert tick.json()["confirmations"] == {"sent": 1, "refused": [], "queued": 0}
    assert sorted(relay.delivered_to()) == ["ann@example.com", "carol@example.net"]


def test_an_import_with_a_bad_confirmation_mail_imports_nothing(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    setup(lettr, tmp_path)
    make_template(lettr, tmp_path, "Plain", "<p>Hello</p>")
    audience = _csv(tmp_path)
    before = store_snapshot(isolated_home)
    plain = [*MAIL]
    plain[plain.index("Confirm")] = "Plain"
    refused = lettr("contact", "import", str(audience), *plain, "--json")
    assert refused.error()["error_code"] == "validation_error"
    other = [*MAIL]
    other[other.index("news@example.com")] = "news@example.org"
    unverified = lettr("contact", "import", str(audience), *other, "--json")
    assert unverified.error()["error_code"] == "unconfigured_domain"
    missing = lettr("contact", "import", str(audience), *MAIL[:-2], "--json")
    assert missing.error()["error_code"] == "validation_error"
    assert store_snapshot(isolated_home) == before
    assert smtp_server.messages == []
