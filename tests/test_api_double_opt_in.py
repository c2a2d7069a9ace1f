"""`POST /api/audience/contacts` with Lettr's ``double_opt_in`` block, through the official SDK:
the contact is added unverified after its confirmation mail went out, exactly as `lettr contact
add --double-opt-in` adds it; a bad block or a relay that refuses the mail adds nobody."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lettr as sdk
import pytest

from tests.api_helpers import client
from tests.optin_helpers import REDIRECT, confirmation_path, setup

OPT_IN = {
    "from": "news@example.com",
    "from_name": "Example News",
    "subject": "Please confirm your subscription",
    "template_slug": "Confirm",
    "redirect_url": REDIRECT,
}


def _contact(lettr: Any, email: str) -> Any:
    return lettr("contact", "show", email, "--json")


def test_a_contact_created_with_double_opt_in_is_unverified_and_gets_its_mail(
    lettr, relay, isolated_home: Path, tmp_path: Path
) -> None:
    setup(lettr, tmp_path)
    customers = lettr("list", "show", "Customers", "--json").json()["id"]
    with client(lettr, isolated_home) as api:
        made = api.audience.contacts.create(
            email="ann@example.com",
            list_id=customers,
            properties={"first_name": "Ann"},
            double_opt_in=OPT_IN,
        )
    assert made.status == "unverified"
    [(sender, rcpts, message)] = relay.arrived()
    assert (sender, rcpts) == ("news@example.com", ["ann@example.com"])
    assert message["Subject"] == OPT_IN["subject"]
    assert "Hello Ann," in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert confirmation_path(message).startswith("/confirm/")
    shown = _contact(lettr, "ann@example.com").json()
    assert shown["id"] == made.id and shown["status"] == "unverified"
    assert [group["name"] for group in shown["lists"]] == ["Customers"]


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ({**OPT_IN, "template_slug": None}, "template_slug"),
        ({**OPT_IN, "redirect_url": "ftp://example.com/"}, "redirect_url"),
        ({**OPT_IN, "subject": "Hi\r\nBcc: x@example.net"}, "subject"),
        ("yes", "double_opt_in"),
    ],
)
def test_a_bad_double_opt_in_block_is_refused_and_adds_nobody(
    lettr, relay, isolated_home: Path, tmp_path: Path, block: Any, field: str
) -> None:
    setup(lettr, tmp_path)
    with client(lettr, isolated_home) as api, pytest.raises(sdk.ValidationError) as refused:
        api.audience.contacts.create(email="bob@example.com", double_opt_in=block)
    assert field in refused.value.errors
    assert relay.arrived() == []
    assert _contact(lettr, "bob@example.com").exit_code != 0


def test_a_relay_that_refuses_the_mail_adds_nobody(
    lettr, relay, isolated_home: Path, tmp_path: Path
) -> None:
    setup(lettr, tmp_path)
    relay.rcpt_all = "550 5.1.1 No such user"
    with client(lettr, isolated_home) as api, pytest.raises(sdk.LettrError) as refused:
        api.audience.contacts.create(email="cy@example.com", double_opt_in=OPT_IN)
    assert refused.value.error_code == "transmission_failed"
    assert _contact(lettr, "cy@example.com").exit_code != 0
