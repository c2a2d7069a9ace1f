"""Double opt-in refused before anything is sent or created: bad options, a template without
``{{ confirmation_url }}``, an unverified sending domain, a relay that does not take the mail."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from tests.optin_helpers import add_args, make_template, rows, setup, store_snapshot

ANN = "ann@example.com"


def _refused(lettr, home: Path, relay, args: list[str], code: str) -> dict[str, object]:
    before = store_snapshot(home)
    result = lettr(*args, "--json")
    assert result.exit_code == 1, result.stdout
    body = result.error()
    assert body["error_code"] == code, body
    assert store_snapshot(home) == before
    assert relay.messages == []
    return dict(body)


def test_a_template_without_the_confirmation_url(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    make_template(lettr, tmp_path, "Plain", "<html><body><p>Hello</p></body></html>")
    body = _refused(
        lettr, isolated_home, relay, add_args(ANN, template="Plain"), "validation_error"
    )
    assert "confirmation_url" in str(body["message"])
    make_template(lettr, tmp_path, "Odd", "<p>{{ confirmation_url }} {{ shoe_size }}</p>")
    odd = _refused(lettr, isolated_home, relay, add_args(ANN, template="Odd"), "validation_error")
    assert "shoe_size" in str(odd["message"])
    _refused(lettr, isolated_home, relay, add_args(ANN, template="Nothing"), "not_found")


def test_a_sender_on_an_unverified_domain(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    setup(lettr, tmp_path)
    args = add_args(ANN)
    args[args.index("news@example.com")] = "news@example.org"
    body = _refused(lettr, isolated_home, smtp_server, args, "unconfigured_domain")
    assert "example.org" in str(body["message"])
    assert lettr("domain", "add", "example.org").exit_code == 0  # added, not verified
    _refused(lettr, isolated_home, smtp_server, args, "unconfigured_domain")


def test_a_relay_that_refuses_the_mail_leaves_no_contact(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    setup(lettr, tmp_path)
    relay.rcpt[ANN] = "550 5.1.1 no such user"
    before = store_snapshot(isolated_home)
    result = lettr(*add_args(ANN, "--list", "Customers"), "--json")
    assert result.exit_code == 1
    body = result.error()
    assert body["error_code"] == "transmission_failed", body
    assert "550 5.1.1 no such user" in body["message"]
    assert store_snapshot(isolated_home) == before
    assert lettr("contact", "show", ANN).exit_code == 1
    # The relay down: the same, and the address can be added once the relay is back.
    relay.heal()
    relay.rcpt.clear()
    port = lettr("config", "get", "smtp.port").stdout.strip()
    lettr("config", "set", "smtp.port", "1")
    down = lettr(*add_args(ANN, "--list", "Customers"), "--json")
    assert down.error()["error_code"] == "transmission_failed"
    assert store_snapshot(isolated_home) == before
    lettr("config", "set", "smtp.port", port)
    again = lettr(*add_args(ANN, "--list", "Customers"), "--json")
    assert again.exit_code == 0, again.stderr
    assert again.json()["status"] == "unverified"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (lambda a: [*a, "bob@example.com"], "validation_error", "email"),  # two addresses
        (lambda a: [*a, "--status", "unsubscribed"], "validation_error", "status"),
        (lambda a: a[: a.index("--redirect")], "validation_error", "double_opt_in"),
        (lambda a: _swap(a, "--redirect", "javascript:x"), "validation_error", "redirect_url"),
        (lambda a: _swap(a, "--redirect", "https://"), "validation_error", "redirect_url"),
        (lambda a: _swap(a, "--subject", "Hi\nBcc: x@example.com"), "validation_error", "subject"),
        (lambda a: _swap(a, "--from", "not-an-address"), "validation_error", "from"),
        (lambda a: [*a, "--prop", "nope=1"], "validation_error", "properties"),
        (lambda a: [*a, "--list", "Nowhere"], "not_found", None),
    ],
)
def test_bad_options_are_refused(
    lettr, relay, tmp_path: Path, isolated_home: Path, change, code, field
) -> None:
    setup(lettr, tmp_path)
    body = _refused(lettr, isolated_home, relay, change(add_args(ANN)), code)
    if field is not None:
        assert field in body["errors"], body


def _swap(args: list[str], option: str, value: str) -> list[str]:
    changed = list(args)
    changed[changed.index(option) + 1] = value
    return changed


def test_mail_options_without_double_opt_in(lettr, relay, isolated_home: Path) -> None:
    args = ["contact", "add", ANN, "--template", "Confirm"]
    body = _refused(lettr, isolated_home, relay, args, "validation_error")
    assert "--double-opt-in" in str(body["message"])


def test_an_existing_or_suppressed_address(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    setup(lettr, tmp_path)
    assert lettr("contact", "add", ANN).exit_code == 0
    _refused(lettr, isolated_home, relay, add_args(ANN), "resource_already_exists")
    assert lettr("contact", "edit", ANN, "--status", "unsubscribed").exit_code == 0
    assert lettr("contact", "delete", ANN, "--yes").exit_code == 0
    body = _refused(lettr, isolated_home, relay, add_args(ANN), "validation_error")
    assert "opted out" in str(body["message"])


def test_the_same_address_added_while_the_mail_is_on_its_way(
    lettr, relay, tmp_path: Path, isolated_home: Path
) -> None:
    setup(lettr, tmp_path)

    def meanwhile() -> None:  # another process adds the address before the relay answers
        with sqlite3.connect(isolated_home / "lettr.db") as conn:
            conn.execute(
                "INSERT INTO contacts (id, email, email_key, status, properties,"
                " properties_folded, created_at, updated_at) VALUES (?, ?, ?, 'subscribed',"
                " '{}', '{}', '2026-12-01 00:00:00', '2026-12-01 00:00:00')",
                (str(uuid.uuid4()), ANN, ANN),
            )

    relay.at("data", meanwhile)
    result = lettr(*add_args(ANN), "--json")
    assert result.exit_code == 1
    body = result.error()
    assert body["error_code"] == "resource_already_exists"
    assert "had already gone" in body["message"]
    assert rows(isolated_home, "SELECT status FROM contacts") == [("subscribed",)]
    assert rows(isolated_home, "SELECT * FROM confirmations") == []
