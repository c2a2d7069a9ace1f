"""The sending-domain endpoints driven by Lettr's official SDK, unmodified, over real HTTP: a
domain created, its DNS records read, verified against the loopback DNS responder that `lettr
serve --nameserver` names (right records: verified, can_send; wrong ones: per-record reasons),
deleted; each refusal raises the SDK's exception and changes nothing the CLI shows."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import lettr as sdk
import pytest

from lettr_cli.domains.responder import DnsResponder
from tests.api_helpers import api_server, client, make_key
from tests.send_cases import finish, spawn, stop
from tests.test_track_serve import _free_port, _wait_for

RELAY = "192.0.2.10"


def _cli(lettr: Any, *args: str) -> Any:
    result = lettr(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


@pytest.fixture
def relay_set(lettr: Any) -> None:
    assert lettr("config", "set", "smtp.host", RELAY).exit_code == 0


def _publish(responder: DnsResponder, domain: sdk.Domain) -> None:
    """Publish the records the API's ``dns`` says to publish."""
    assert domain.dns is not None
    names = {
        "dkim": f"{domain.dkim.selector if domain.dkim else 'lettr'}._domainkey.{domain.domain}",
        "spf": domain.domain,
        "dmarc": f"_dmarc.{domain.domain}",
    }
    for kind, name in names.items():
        responder.publish(name, domain.dns[f"{kind}_record"])


def test_create_get_verify_list_and_delete(lettr, isolated_home: Path, relay_set: None) -> None:
    with DnsResponder() as dns, client(lettr, isolated_home, nameserver=dns.nameserver) as api:
        made = api.domains.create("Example.COM")
        got = api.domains.get("example.com")
        before = api.domains.list()
        _publish(dns, got)
        checked = api.domains.verify("example.com")
        after = api.domains.get("example.com")
        listed = api.domains.list()
        shown = _cli(lettr, "domain", "show", "example.com")
        api.domains.delete("example.com")
        with pytest.raises(sdk.NotFoundError) as gone:
            api.domains.get("example.com")
    assert (made.domain, made.status, made.status_label) == (
        "example.com",
        "pending",
        "Pending Review",
    )
    assert made.dkim is not None and made.dkim.selector == "lettr"
    assert made.dkim.signing_domain == "example.com" and "from" in str(made.dkim.headers)
    assert got.dns is not None and got.dns["dkim_record"].endswith(made.dkim.public or "?")
    assert got.dns["spf_record"] == f"v=spf1 ip4:{RELAY} ~all"
    assert got.dns["dmarc_record"] == "v=DMARC1; p=none"
    assert got.can_send is False and got.cname_status == "not_applicable"
    assert [(d.domain, d.can_send) for d in before] == [("example.com", False)]
    assert (checked.dkim_status, checked.spf_status, checked.dmarc_status) == ("valid",) * 3
    assert checked.cname_status == "not_applicable" and checked.is_primary_domain is False
    assert checked.spf is not None and checked.spf.is_valid is True
    assert checked.dns is not None and checked.dns.spf_error is None
    assert (after.status, after.status_label, after.can_send) == ("approved", "Approved", True)
    assert [(d.domain, d.status, d.can_send) for d in listed] == [("example.com", "approved", True)]
    assert shown["status"] == "verified" and shown["verified_at"] is not None
    assert [r["status"] for r in shown["records"]] == ["valid"] * 3
    assert (gone.value.message, gone.value.error_code) == ("Domain not found.", "not_found")
    assert _cli(lettr, "domain", "list") == []


def test_wrong_records_are_not_verified_and_say_why(
    lettr, isolated_home: Path, relay_set: None
) -> None:
    with DnsResponder() as dns, client(lettr, isolated_home, nameserver=dns.nameserver) as api:
        made = api.domains.create("example.com")
        assert made.dkim is not None
        dns.publish("lettr._domainkey.example.com", f"v=DKIM1; k=rsa; p={made.dkim.public}")
        dns.publish("example.com", "v=spf1 include:elsewhere.example ~all")
        checked = api.domains.verify("example.com")
        after = api.domains.get("example.com")
    assert (checked.dkim_status, checked.spf_status, checked.dmarc_status) == (
        "valid",
        "invalid",
        "missing",
    )
    assert checked.dns is not None and checked.dns.dkim_error is None
    assert f"does not contain ip4:{RELAY}" in str(checked.dns.spf_error)
    assert "no DMARC record" in str(checked.dns.dmarc_error)
    assert checked.dmarc is not None and checked.dmarc.is_valid is False
    assert (after.status, after.status_label, after.can_send) == (
        "pending",
        "Pending Review",
        False,
    )
    shown = _cli(lettr, "domain", "show", "example.com")
    assert shown["status"] == "failed"
    assert {r["type"]: r["status"] for r in shown["records"]} == {
        "DKIM": "valid",
        "SPF": "invalid",
        "DMARC": "missing",
    }


def test_refusals_raise_the_sdk_exceptions_and_change_nothing(
    lettr, isolated_home: Path, tmp_path: Path, relay_set: None
) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>Hi {{ unsubscribe_link }}</p>", encoding="utf-8")
    with client(lettr, isolated_home) as api:
        api.domains.create("example.com")
        with pytest.raises(sdk.ConflictError) as twice:
            api.domains.create("EXAMPLE.com")
        with pytest.raises(sdk.ValidationError) as bad:
            api.domains.create("not a domain")
        with pytest.raises(sdk.NotFoundError) as unknown:
            api.domains.get("example.org")
        with pytest.raises(sdk.NotFoundError):
            api.domains.verify("example.org")
        with pytest.raises(sdk.NotFoundError):
            api.domains.delete("no_such..name")
        made = lettr(
            "campaign", "create", "Sale", "--subject", "Hi", "--from-email",
            "news@example.com", "--html", str(page),
        )  # fmt: skip
        assert made.exit_code == 0, made.stderr
        with pytest.raises(sdk.ConflictError) as in_use:
            api.domains.delete("example.com")
    assert twice.value.error_code == "resource_already_exists"
    assert "domain" in bad.value.errors
    assert (unknown.value.message, unknown.value.error_code) == ("Domain not found.", "not_found")
    assert in_use.value.error_code == "resource_in_use" and "Sale" in in_use.value.message
    assert [d["domain"] for d in _cli(lettr, "domain", "list")] == ["example.com"]


def test_domain_scopes(lettr, isolated_home: Path, relay_set: None) -> None:
    reader = make_key(lettr, "reader", "domains:read")
    other = make_key(lettr, "other", "audience:read,audience:write")
    with api_server(isolated_home) as base:
        with sdk.Lettr(reader, base_url=base) as api:
            assert api.domains.list() == []
            with pytest.raises(sdk.ForbiddenError):
                api.domains.create("example.com")
        with sdk.Lettr(other, base_url=base) as api, pytest.raises(sdk.ForbiddenError):
            api.domains.list()
    assert _cli(lettr, "domain", "list") == []


def test_serve_verifies_at_its_nameserver(
    lettr, isolated_home: Path, responder: DnsResponder, relay_set: None
) -> None:
    key = make_key(lettr)
    assert lettr("domain", "add", "example.com").exit_code == 0
    for record in _cli(lettr, "domain", "records", "example.com"):
        responder.publish(record["name"], record["value"])
    port = _free_port()
    process = spawn(
        isolated_home, "serve", "--port", str(port), "--nameserver", responder.nameserver
    )
    try:
        _wait_for(port)
        with sdk.Lettr(key, base_url=f"http://127.0.0.1:{port}/api") as api:
            checked = api.domains.verify("example.com")
        process.send_signal(signal.SIGTERM)
        code, _, stderr = finish(process)
    finally:
        stop(process)
    assert (checked.dkim_status, checked.spf_status, checked.dmarc_status) == ("valid",) * 3
    assert ("lettr._domainkey.example.com.", "TXT") in responder.queries
    assert code == 143, stderr


def test_serve_refuses_a_malformed_nameserver(lettr) -> None:
    refused = lettr("serve", "--nameserver", "[::1", "--port", "1")
    assert refused.exit_code == 1
    assert "Error [validation_error]" in refused.stderr and "HOST[:PORT]" in refused.stderr
