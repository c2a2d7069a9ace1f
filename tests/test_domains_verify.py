"""`lettr domain verify` against records served by the loopback DNS responder."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from lettr_cli.domains.keys import generate_key_pair
from lettr_cli.domains.responder import DnsResponder
from lettr_cli.domains.service import signing_key
from lettr_cli.workspace import Workspace

RELAY = "192.0.2.10"


@pytest.fixture
def relay(lettr) -> str:
    assert lettr("config", "set", "smtp.host", RELAY).exit_code == 0
    return RELAY


def add(lettr, *args: str) -> dict[str, Any]:
    result = lettr("domain", "add", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def publish_printed(lettr, responder: DnsResponder, domain: str) -> list[dict[str, Any]]:
    """Publish exactly what `lettr domain records --json` prints."""
    printed = lettr("domain", "records", domain, "--json").json()
    for record in printed:
        responder.publish(record["name"], record["value"])
    return printed


def verify(lettr, responder: DnsResponder, domain: str = "example.com", *extra: str):
    return lettr(
        "domain", "verify", domain, "--nameserver", responder.nameserver, "--timeout", "5",
        "--json", *extra,
    )  # fmt: skip


def by_type(domain: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {record["type"]: record for record in domain["records"]}


def test_publishing_exactly_what_records_prints_verifies(lettr, responder, relay) -> None:
    add(lettr, "example.com")
    publish_printed(lettr, responder, "example.com")
    result = verify(lettr, responder)
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["status"] == "verified"
    assert {r["type"]: r["status"] for r in body["records"]} == {
        "DKIM": "valid",
        "SPF": "valid",
        "DMARC": "valid",
    }
    assert all(r["detail"] is None for r in body["records"])
    assert body["checked_at"] and body["verified_at"]
    assert ("lettr._domainkey.example.com.", "TXT") in responder.queries
    shown = lettr("domain", "show", "example.com", "--json").json()
    assert shown["status"] == "verified" and shown["verified_at"] == body["verified_at"]
    assert [r["status"] for r in lettr("domain", "records", "example.com", "--json").json()] == [
        "valid"
    ] * 3


def test_verify_in_words(lettr, responder, relay) -> None:
    add(lettr, "example.com")
    publish_printed(lettr, responder, "example.com")
    result = lettr("domain", "verify", "example.com", "--nameserver", responder.nameserver)
    assert result.exit_code == 0
    assert "status: valid" in result.stdout
    assert result.stdout.endswith("example.com is verified.\n")


OTHER_KEY = generate_key_pair().public_key


def _replace(kind: str, *values: str):
    def change(responder: DnsResponder, printed: dict[str, dict[str, Any]]) -> None:
        responder.replace(printed[kind]["name"], *values)

    return change


@pytest.mark.parametrize(
    ("change", "kind", "status", "why"),
    [
        (_replace("DKIM"), "DKIM", "missing", "no TXT record at lettr._domainkey.example.com"),
        (
            _replace("DKIM", f"v=DKIM1; k=rsa; p={OTHER_KEY}"),
            "DKIM",
            "invalid",
            "different key from lettr's",
        ),
        (_replace("DKIM", "v=DKIM1; k=rsa; p="), "DKIM", "invalid", "revokes the key"),
        (_replace("DKIM", "v=DKIM1; k=ed25519; p=abc"), "DKIM", "invalid", "k=ed25519"),
        (_replace("DKIM", "hello world"), "DKIM", "invalid", "not a DKIM key record"),
        (
            lambda responder, printed: responder.publish("example.com", "v=spf1 a ~all"),
            "SPF",
            "invalid",
            "2 SPF records",
        ),
        (
            _replace("SPF", "v=spf1 include:_spf.example.net ~all"),
            "SPF",
            "invalid",
            f"does not contain ip4:{RELAY}",
        ),
        (_replace("SPF", f"v=spf1 -ip4:{RELAY} ~all"), "SPF", "invalid", "does not contain"),
        (_replace("SPF", f"v=spf1 ip4:{RELAY}5 ~all"), "SPF", "invalid", "does not contain"),
        (_replace("SPF"), "SPF", "missing", "no SPF record (v=spf1) at example.com"),
        (_replace("SPF", "google-site-verification=abc"), "SPF", "missing", "1 other TXT"),
        (_replace("DMARC"), "DMARC", "missing", "no DMARC record"),
        (
            _replace("DMARC", "v=DMARC1; rua=mailto:dmarc@example.com"),
            "DMARC",
            "invalid",
            "has no policy",
        ),
        (_replace("DMARC", "v=DMARC1; p=monitor"), "DMARC", "invalid", "p=monitor is not"),
        (
            lambda responder, printed: responder.publish(
                "_dmarc.example.com", "v=DMARC1; p=reject"
            ),
            "DMARC",
            "invalid",
            "2 DMARC records",
        ),
    ],
    ids=[
        "dkim-missing",
        "dkim-stale-key",
        "dkim-revoked",
        "dkim-not-rsa",
        "dkim-garbage",
        "spf-two-records",
        "spf-without-the-mechanism",
        "spf-fail-qualifier",
        "spf-other-address",
        "spf-missing",
        "spf-only-other-txt",
        "dmarc-missing",
        "dmarc-without-policy",
        "dmarc-bad-policy",
        "dmarc-two-records",
    ],
)
def test_each_wrong_record_leaves_the_domain_unverified(
    lettr, responder, relay, change, kind: str, status: str, why: str
) -> None:
    add(lettr, "example.com")
    printed = {r["type"]: r for r in publish_printed(lettr, responder, "example.com")}
    change(responder, printed)
    result = verify(lettr, responder)
    assert result.exit_code == 1
    error = result.error()
    assert error["error_code"] == "unconfigured_domain"
    assert f"{kind} {printed[kind]['name']}: {status}" in error["message"]
    assert why in error["message"]
    body = result.json()  # the Domain object as checked, on stdout
    assert body["status"] == "failed" and body["verified_at"] is None
    records = by_type(body)
    assert records[kind]["status"] == status and why in records[kind]["detail"]
    assert [r["status"] for t, r in records.items() if t != kind] == ["valid", "valid"]
    shown = lettr("domain", "show", "example.com", "--json").json()
    assert shown["status"] == "failed"
    assert by_type(shown)[kind]["status"] == status


def test_records_that_differ_only_in_form_still_verify(lettr, responder, relay) -> None:
    add(lettr, "example.com")
    printed = {r["type"]: r for r in publish_printed(lettr, responder, "example.com")}
    key = printed["DKIM"]["value"].split("p=")[1]
    responder.replace(printed["DKIM"]["name"], f"v=DKIM1;k=rsa; t=y;p={key[:100]} {key[100:]}")
    responder.replace(
        "example.com",
        f"V=SPF1 mx +IP4:{RELAY} include:_spf.example.net -all",
        "google-site-verification=abc",
    )
    responder.replace("_dmarc.example.com", "v=DMARC1;p=Quarantine; pct=100")
    result = verify(lettr, responder)
    assert result.exit_code == 0, result.stderr


def test_a_verified_domain_whose_record_disappears_fails_again(lettr, responder, relay) -> None:
    add(lettr, "example.com")
    publish_printed(lettr, responder, "example.com")
    assert verify(lettr, responder).exit_code == 0
    responder.replace("_dmarc.example.com")
    result = verify(lettr, responder)
    assert result.exit_code == 1
    assert result.json()["status"] == "failed"
    assert by_type(result.json())["DMARC"]["status"] == "missing"
    assert lettr("domain", "show", "example.com", "--json").json()["verified_at"] is None


def test_a_new_relay_makes_a_verified_domain_pending_again(lettr, responder, relay) -> None:
    add(lettr, "example.com")
    publish_printed(lettr, responder, "example.com")
    assert verify(lettr, responder).exit_code == 0
    lettr("config", "set", "smtp.host", "mail.example.net")
    shown = lettr("domain", "show", "example.com", "--json").json()
    assert shown["status"] == "pending"
    spf = by_type(shown)["SPF"]
    assert spf["value"] == "v=spf1 a:mail.example.net ~all"
    assert spf["status"] == "missing" and "changed since the last check" in spf["detail"]
    assert by_type(shown)["DKIM"]["status"] == "valid"
    assert verify(lettr, responder).exit_code == 1
    responder.replace("example.com", spf["value"])
    assert verify(lettr, responder).exit_code == 0


def test_no_relay_at_all_cannot_verify(lettr, responder, relay) -> None:
    add(lettr, "example.com")
    publish_printed(lettr, responder, "example.com")
    lettr("config", "unset", "smtp.host")
    spf = by_type(lettr("domain", "show", "example.com", "--json").json())["SPF"]
    assert spf["value"] is None and spf["status"] == "invalid"
    result = verify(lettr, responder)
    assert result.exit_code == 1
    assert "SPF example.com: invalid (no relay to authorise" in result.error()["message"]


def test_a_no_dkim_domain_verifies_without_dkim(lettr, responder, isolated_home) -> None:
    add(lettr, "example.com", "--no-dkim", "--spf-include", "_spf.example.net")
    printed = publish_printed(lettr, responder, "example.com")
    assert [r["type"] for r in printed] == ["SPF", "DMARC"]
    assert printed[0]["value"] == "v=spf1 include:_spf.example.net ~all"
    result = verify(lettr, responder)
    assert result.exit_code == 0, result.stderr
    assert not any("_domainkey" in name for name, _ in responder.queries)
    ws = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    try:
        assert signing_key(ws, "example.com") is None
    finally:
        ws.close()


def closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_nameserver_is_a_clear_error_quickly(lettr, relay) -> None:
    add(lettr, "example.com")
    started = time.monotonic()
    result = lettr(
        "domain", "verify", "example.com", "--nameserver", f"127.0.0.1:{closed_udp_port()}",
        "--timeout", "0.5", "--json",
    )  # fmt: skip
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    error = result.error()
    assert error["error_code"] == "unconfigured_domain"
    assert "did not answer within 0.5 s" in error["message"]
    assert "nothing was changed" in error["message"]
    assert lettr("domain", "show", "example.com", "--json").json()["status"] == "pending"


def test_a_failed_lookup_keeps_a_verified_domain_verified(lettr, responder, relay) -> None:
    add(lettr, "example.com")
    publish_printed(lettr, responder, "example.com")
    before = verify(lettr, responder).json()
    down = f"127.0.0.1:{closed_udp_port()}"
    result = lettr("domain", "verify", "example.com", "--nameserver", down, "--timeout", "0.3")
    assert result.exit_code == 1 and "did not answer" in result.stderr
    assert lettr("domain", "show", "example.com", "--json").json() == before


@pytest.mark.parametrize("nameserver", ["127.0.0.1:0", "127.0.0.1:99999", "[::1", ":53", "a:b"])
def test_a_malformed_nameserver_is_refused(lettr, relay, nameserver: str) -> None:
    add(lettr, "example.com")
    result = lettr("domain", "verify", "example.com", "--nameserver", nameserver, "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "validation_error"
    assert "nameserver" in result.error()["errors"]


def test_a_nameserver_named_by_host_name(lettr, responder, relay) -> None:
    add(lettr, "example.com")
    publish_printed(lettr, responder, "example.com")
    result = lettr(
        "domain", "verify", "example.com", "--nameserver", f"localhost:{responder.port}",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr


def test_verifying_an_unknown_domain(lettr, responder) -> None:
    result = verify(lettr, responder, "example.org")
    assert result.exit_code == 1 and result.error()["error_code"] == "not_found"
    assert responder.queries == []
