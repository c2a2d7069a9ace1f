"""Refusals whose command-line message names a flag or a command (``needs --force``, ``pass
--spf-include``, ``lettr domain add``) are worded over the API with Lettr's fields, while the
CLI keeps its own words; each refusal changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lettr as sdk
import pytest

from lettr_cli.api.envelopes import refused
from lettr_cli.domains.lookup import DnsUnavailable
from tests.api_helpers import client
from tests.test_api_double_opt_in import OPT_IN


def _status(lettr: Any, email: str) -> str:
    return str(lettr("contact", "show", email, "--json").json()["status"])


def _no_flags(text: str) -> None:
    assert "--" not in text and "lettr " not in text, text


def test_re_subscribing_a_bounced_or_opted_out_contact(lettr, isolated_home: Path) -> None:
    assert lettr("contact", "add", "bo@example.com", "--status", "bounced").exit_code == 0
    assert lettr("contact", "add", "un@example.com", "--status", "unsubscribed").exit_code == 0
    assert lettr("contact", "delete", "un@example.com", "--yes").exit_code == 0
    with client(lettr, isolated_home) as api:
        bounced = api.audience.contacts.list(status="bounced").contacts[0]
        with pytest.raises(sdk.ValidationError) as first:
            api.audience.contacts.update(bounced.id, status="subscribed")
        back = api.audience.contacts.create(email="un@example.com")  # keeps its opt-out
        with pytest.raises(sdk.ValidationError) as second:
            api.audience.contacts.update(back.id, status="subscribed")
    cli = lettr("contact", "edit", "bo@example.com", "--status", "subscribed")
    assert first.value.errors == {
        "status": [
            "The contact bo@example.com is bounced and cannot be re-subscribed through the API."
        ]
    }
    assert back.status == "unsubscribed"
    [message] = second.value.errors["status"]
    assert message.startswith("The contact un@example.com is unsubscribed and cannot")
    _no_flags(str(first.value) + str(second.value))
    assert cli.exit_code == 1 and "needs --force" in cli.stderr  # the CLI keeps its words
    assert (_status(lettr, "bo@example.com"), _status(lettr, "un@example.com")) == (
        "bounced",
        "unsubscribed",
    )


def test_double_opt_in_of_an_address_that_opted_out(lettr, relay, isolated_home: Path) -> None:
    assert lettr("contact", "add", "gone@example.com", "--status", "unsubscribed").exit_code == 0
    assert lettr("contact", "delete", "gone@example.com", "--yes").exit_code == 0
    with client(lettr, isolated_home) as api, pytest.raises(sdk.ValidationError) as raised:
        api.audience.contacts.create(email="gone@example.com", double_opt_in=OPT_IN)
    [message] = raised.value.errors["email"]
    assert message.startswith("The email gone@example.com opted out (unsubscribed)")
    _no_flags(message)
    assert relay.arrived() == []
    assert lettr("contact", "list", "--json").json() == []


def test_sending_a_campaign_with_parts_or_a_sender_domain_missing(
    lettr, isolated_home: Path, tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>Hi {{ unsubscribe_link }}</p>", encoding="utf-8")
    bare = lettr("campaign", "create", "Bare", "--json").json()["id"]
    sale = lettr(
        "campaign", "create", "Sale", "--subject", "Hi", "--from-email", "news@example.com",
        "--html", str(page), "--json",
    ).json()["id"]  # fmt: skip
    assert lettr("campaign", "audience", "Sale", "--all").exit_code == 0
    with client(lettr, isolated_home) as api:
        with pytest.raises(sdk.LettrError) as incomplete:
            api.campaigns.send(bare)
        with pytest.raises(sdk.LettrError) as unknown:
            api.campaigns.send(sale)
        assert lettr("config", "set", "smtp.host", "192.0.2.10").exit_code == 0
        assert lettr("domain", "add", "example.com").exit_code == 0
        with pytest.raises(sdk.LettrError) as unverified:
            api.campaigns.send(sale)
    cli = lettr("campaign", "send", "Bare", "--yes")
    assert incomplete.value.message == (
        "The campaign cannot be sent yet; missing: subject, from_email, html_content, "
        "audience (lists or segments)."
    )
    assert unknown.value.message == (
        "The from_email domain example.com is not a sending domain of this account."
    )
    assert unverified.value.message == (
        "The from_email domain example.com is not verified (DKIM missing, SPF missing, "
        "DMARC missing)."
    )
    for raised in (incomplete, unknown, unverified):
        _no_flags(raised.value.message)
    assert "--from-email" in cli.stderr  # the CLI keeps its words
    shown = [c["status"] for c in lettr("campaign", "list", "--json").json()]
    assert shown == ["draft", "draft"]


def test_adding_a_domain_with_no_relay_to_authorise(lettr, isolated_home: Path) -> None:
    with client(lettr, isolated_home) as api, pytest.raises(sdk.ValidationError) as raised:
        api.domains.create("example.com")
    assert raised.value.errors == {
        "spf_include": [
            "The spf_include field is required: this server has no SMTP relay for the SPF "
            "record to authorise."
        ]
    }
    cli = lettr("domain", "add", "example.com")
    assert cli.exit_code == 1 and "--spf-include" in cli.stderr
    assert lettr("domain", "list", "--json").json() == []


def test_no_resolver_is_worded_for_the_api() -> None:
    error = DnsUnavailable(
        "no DNS resolver is configured on this system; name one with --nameserver",
        reason="no_resolver",
    )
    body = json.loads(bytes(refused(error).body))
    assert body == {
        "message": "The domain cannot be verified: this server has no DNS resolver configured.",
        "error_code": "unconfigured_domain",
    }
    assert refused(error).status_code == 422


def test_unknown_property_and_no_relay(lettr, isolated_home: Path) -> None:
    with client(lettr, isolated_home) as api:
        with pytest.raises(sdk.ValidationError) as unknown:
            api.audience.contacts.create(email="ann@example.com", properties={"colour": "red"})
        with pytest.raises(sdk.ValidationError) as no_relay:
            api.audience.contacts.create(email="bob@example.com", double_opt_in=OPT_IN)
    assert unknown.value.errors == {
        "properties": [
            "The property colour does not exist; create it first (POST /audience/properties)."
        ]
    }
    assert no_relay.value.errors == {
        "smtp.host": [
            "This server has no SMTP relay configured, so it cannot send the confirmation email."
        ]
    }
    cli = lettr("contact", "add", "ann@example.com", "--prop", "colour=red")
    assert cli.exit_code == 1 and "lettr property create colour" in cli.stderr
    assert lettr("contact", "list", "--json").json() == []


def test_record_details_in_the_api_s_words(lettr, isolated_home: Path, responder) -> None:
    from lettr_cli.domains.keys import generate_key_pair

    assert lettr("config", "set", "smtp.host", "192.0.2.10").exit_code == 0
    with client(lettr, isolated_home, nameserver=responder.nameserver) as api:
        api.domains.create("example.com")
        made = api.domains.get("example.com")
        other = generate_key_pair().public_key
        responder.publish("lettr._domainkey.example.com", f"v=DKIM1; k=rsa; p={other}")
        checked = api.domains.verify("example.com")
    assert made.dns is not None
    assert made.dns["spf_error"] == "Not checked yet: publish the record, then verify the domain."
    assert checked.dns is not None and checked.dns.dkim_error == (
        "p= holds a different key from this domain's (a stale key?); publish the dkim_record value."
    )
    _no_flags(str(made.dns) + str(checked.dns))
    printed = lettr("domain", "records", "example.com", "--json").json()
    assert "lettr domain records prints" in printed[0]["detail"]  # the CLI keeps its words
