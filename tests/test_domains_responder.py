"""The loopback DNS responder, TXT lookups against it, and signatures checked against it.

Nothing here asks public DNS.
"""

from __future__ import annotations

import dkim
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from lettr_cli.domains.dkim import sign_message
from lettr_cli.domains.lookup import DnsUnavailable, txt_lookup
from lettr_cli.domains.responder import DnsResponder
from lettr_cli.domains.service import signing_key
from lettr_cli.workspace import Workspace


def test_the_responder_answers_nxdomain_nodata_and_tcp(responder) -> None:
    responder.publish("lettr._domainkey.example.com", "v=DKIM1; p=" + "A" * 600)
    address = "127.0.0.1"
    unknown = dns.query.udp(
        dns.message.make_query("example.org", "TXT"), address, 2, responder.port
    )
    assert unknown.rcode() == dns.rcode.NXDOMAIN
    parent = dns.query.udp(
        dns.message.make_query("_domainkey.example.com", "TXT"), address, 2, responder.port
    )
    assert parent.rcode() == dns.rcode.NOERROR and not parent.answer
    other_type = dns.query.udp(
        dns.message.make_query("lettr._domainkey.example.com", "A"), address, 2, responder.port
    )
    assert other_type.rcode() == dns.rcode.NOERROR and not other_type.answer
    over_tcp = dns.query.tcp(
        dns.message.make_query("lettr._domainkey.example.com", "TXT"), address, 2, responder.port
    )
    strings = over_tcp.answer[0][0].strings
    assert [len(s) for s in strings] == [255, 255, 101]
    assert b"".join(strings) == b"v=DKIM1; p=" + b"A" * 600


def test_large_answers_are_truncated_on_udp_and_fetched_over_tcp(responder) -> None:
    values = [f"record {n} " + "x" * 300 for n in range(5)]
    responder.publish("example.com", *values)
    plain = dns.query.udp(
        dns.message.make_query("example.com", "TXT", use_edns=False), "127.0.0.1", 2, responder.port
    )
    assert plain.flags & dns.flags.TC and not plain.answer
    assert sorted(txt_lookup(responder.nameserver, timeout=2)("example.com")) == values


def test_lookups_join_the_strings_of_each_record(responder) -> None:
    responder.publish("example.com", "v=spf1 " + "ip4:192.0.2.1 " * 30 + "~all", "other")
    found = txt_lookup(responder.nameserver, timeout=2)("EXAMPLE.com.")
    assert sorted(found) == sorted(["v=spf1 " + "ip4:192.0.2.1 " * 30 + "~all", "other"])
    assert txt_lookup(responder.nameserver, timeout=2)("example.org") == []


def test_records_change_while_the_responder_runs(responder) -> None:
    lookup = txt_lookup(responder.nameserver, timeout=2)
    responder.publish("_dmarc.example.com", "v=DMARC1; p=none")
    assert lookup("_dmarc.example.com") == ["v=DMARC1; p=none"]
    responder.replace("_dmarc.example.com", "v=DMARC1; p=reject")
    assert lookup("_dmarc.example.com") == ["v=DMARC1; p=reject"]
    responder.replace("_dmarc.example.com")
    assert lookup("_dmarc.example.com") == []


def test_a_stopped_responder_times_out_cleanly() -> None:
    server = DnsResponder({"example.com": ["v=spf1 -all"]}).start()
    nameserver = server.nameserver
    server.stop()
    with pytest.raises(DnsUnavailable, match=r"did not answer within 0\.3 s"):
        txt_lookup(nameserver, timeout=0.3)("example.com")


def test_the_responder_serves_ipv6_loopback_when_there_is_one() -> None:
    try:
        server = DnsResponder({"example.com": ["hello"]}, host="::1").start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server:
        assert server.nameserver.startswith("[::1]:")
        assert txt_lookup(server.nameserver, timeout=2)("example.com") == ["hello"]


@pytest.fixture
def relay(lettr) -> None:
    assert lettr("config", "set", "smtp.host", "192.0.2.10").exit_code == 0


def test_messages_signed_by_lettr_verify_against_the_served_record(
    lettr, responder, relay, isolated_home
) -> None:
    assert lettr("domain", "add", "example.com").exit_code == 0
    for record in lettr("domain", "records", "example.com", "--json").json():
        responder.publish(record["name"], record["value"])
    lookup = txt_lookup(responder.nameserver, timeout=2)

    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        found = lookup(name.decode())
        return found[0].encode() if found else None

    ws = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    try:
        key = signing_key(ws, "EXAMPLE.com")
    finally:
        ws.close()
    assert key is not None and (key.domain, key.selector) == ("example.com", "lettr")
    message = (
        b"From: News <news@example.com>\r\nTo: ann@example.org\r\nSubject: Hello\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHi Ann!\r\n"
    )
    signed = sign_message(message, key)
    assert dkim.verify(signed, dnsfunc=dnsfunc)
    assert not dkim.verify(signed.replace(b"Hi Ann!", b"Hi Bob!"), dnsfunc=dnsfunc)
