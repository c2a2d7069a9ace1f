"""lettr's DKIM signer: dkimpy verifies what it signs, and catches every change that matters."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache

import dkim
import pytest
from dkim.canonicalization import Relaxed
from dkim.util import parse_tag_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lettr_cli.domains.dkim import (
    UnsignableMessage,
    canonical_body,
    canonical_header,
    sign_message,
)
from lettr_cli.domains.keys import DkimKey, KeyPair, generate_key_pair, load_private_key
from lettr_cli.domains.records import dkim_value


@cache
def key_pair(which: str = "lettr") -> KeyPair:
    return generate_key_pair()


def dkim_key(domain: str = "example.com", selector: str = "lettr") -> DkimKey:
    return DkimKey(domain=domain, selector=selector, private_pem=key_pair().private_pem)


def published(public_key: str | None = None):
    """A dkimpy ``dnsfunc`` that serves the DKIM record lettr prints, at its name only."""
    record = dkim_value(public_key or key_pair().public_key).encode()

    def dnsfunc(name: bytes | str, timeout: float = 5) -> bytes | None:
        name = name.decode() if isinstance(name, bytes) else name
        return record if name.rstrip(".") == "lettr._domainkey.example.com" else None

    return dnsfunc


def verifies(message: bytes, public_key: str | None = None) -> bool:
    return dkim.verify(message, dnsfunc=published(public_key))


def campaign_message(*, unsubscribe: bool = True) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "Ünïcode News <news@example.com>"
    msg["To"] = "ann@example.org"
    msg["Subject"] = "Größere Rabatte für Sie – nur heute! " * 3  # RFC 2047, folded
    msg["Date"] = format_datetime(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg["Reply-To"] = "help@example.com"
    if unsubscribe:
        msg["List-Unsubscribe"] = "<https://t.example.com/u/abc>, <mailto:unsub@example.com>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["List-Id"] = "Weekly news <weekly.example.com>"
    msg["Feedback-ID"] = "c1:weekly:lettr"
    msg.set_content("Hello Ann,\n\nthis   week:\t prices  \n" + "x" * 2000 + "\n\n\n")
    msg.add_alternative("<html><body><p>Hello Ann</p></body></html>\n", subtype="html")
    return msg.as_bytes()


def signature_tags(signed: bytes) -> dict[bytes, bytes]:
    header = signed.split(b"\r\n\r\n")[0].split(b"\r\nFrom:")[0]
    assert header.startswith(b"DKIM-Signature:")
    return parse_tag_value(header.split(b":", 1)[1])


def test_a_campaign_message_verifies_with_dkimpy() -> None:
    signed = sign_message(campaign_message(), dkim_key())
    assert verifies(signed)
    tags = signature_tags(signed)
    assert tags[b"a"] == b"rsa-sha256"
    assert tags[b"c"] == b"relaxed/relaxed"
    assert (tags[b"d"], tags[b"s"]) == (b"example.com", b"lettr")
    assert b"l" not in tags


def test_it_fails_against_another_key() -> None:
    signed = sign_message(campaign_message(), dkim_key())
    assert not verifies(signed, public_key=key_pair("another").public_key)


def test_signed_headers_and_over_signing() -> None:
    tags = signature_tags(sign_message(campaign_message(), dkim_key()))
    names = [name.strip() for name in tags[b"h"].decode().split(":")]
    counts = {name: names.count(name) for name in names}
    assert counts == {
        "from": 2,
        "to": 1,
        "subject": 2,
        "date": 1,
        "message-id": 1,
        "mime-version": 1,
        "content-type": 1,
        "list-unsubscribe": 2,
        "list-unsubscribe-post": 2,
        "list-id": 1,
        "feedback-id": 1,
        "reply-to": 1,
    }


def test_absent_list_unsubscribe_is_still_over_signed() -> None:
    signed = sign_message(campaign_message(unsubscribe=False), dkim_key())
    names = signature_tags(signed)[b"h"].decode().replace(" ", "").split(":")
    assert names.count("list-unsubscribe") == 1 and names.count("list-unsubscribe-post") == 1
    assert verifies(signed)
    head, body = signed.split(b"\r\n\r\n", 1)
    added = head + b"\r\nList-Unsubscribe: <https://evil.example.net/>\r\n\r\n" + body
    assert not verifies(added)


def test_one_changed_body_byte_breaks_the_signature() -> None:
    signed = sign_message(campaign_message(), dkim_key())
    index = signed.index(b"Hello Ann,")
    assert not verifies(signed[:index] + b"J" + signed[index + 1 :])


@pytest.mark.parametrize(
    "added",
    [
        b"From: Mallory <mallory@example.net>\r\n",
        b"Subject: Something else\r\n",
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
    ],
)
def test_an_added_over_signed_header_breaks_the_signature(added: bytes) -> None:
    signed = sign_message(campaign_message(), dkim_key())
    signature_end = signed.index(b"\r\nFrom:") + 2
    # Anywhere: at the top (after the signature) or at the bottom of the header.
    assert not verifies(signed[:signature_end] + added + signed[signature_end:])
    head, body = signed.split(b"\r\n\r\n", 1)
    assert not verifies(head + b"\r\n" + added + b"\r\n" + body)


def test_a_changed_subject_breaks_the_signature() -> None:
    signed = sign_message(campaign_message(), dkim_key())
    assert not verifies(signed.replace(b"Subject: =?utf-8?", b"Subject: =?UTF-8?", 1))


def test_relaxed_canonicalisation_tolerates_what_relays_do() -> None:
    signed = sign_message(campaign_message(), dkim_key())
    head, body = signed.split(b"\r\n\r\n", 1)
    refolded = head.replace(b"To: ann@example.org", b"to:    ann@example.org  ")
    assert verifies(refolded + b"\r\n\r\n" + body + b"\r\n\r\n")


def test_line_feeds_become_crlf_and_what_is_returned_is_what_was_signed() -> None:
    message = b"From: news@example.com\nTo: ann@example.org\nSubject: hi\n\nline one  \nline two"
    signed = sign_message(message, dkim_key())
    assert b"\n" not in signed.replace(b"\r\n", b"")
    assert b"\r" not in signed.replace(b"\r\n", b"")
    assert signed.endswith(b"line two\r\n")
    assert verifies(signed)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\r\n",
        b"\r\n\r\n\r\n",
        b"one\r\n\r\n\r\n",
        b"  \t \r\n",
        b"\xc3\xa9t\xc3\xa9 8-bit\r\n",
    ],
)
def test_awkward_bodies(body: bytes) -> None:
    message = b"From: news@example.com\r\nSubject: awkward\r\n\r\n" + body
    assert verifies(sign_message(message, dkim_key()))


def test_a_message_without_a_body_separator() -> None:
    assert verifies(sign_message(b"From: news@example.com\r\nSubject: only headers", dkim_key()))


def test_the_signature_header_is_folded_and_short() -> None:
    signed = sign_message(campaign_message(), dkim_key())
    header = signed.split(b"\r\nFrom:")[0]
    lines = header.split(b"\r\n")
    assert len(lines) > 3
    assert all(len(line) <= 78 for line in lines)
    assert all(line[:1] == b" " for line in lines[1:])
    assert all(len(line) <= 998 for line in signed.split(b"\r\n"))


def test_the_timestamp_is_given_or_now() -> None:
    signed = sign_message(campaign_message(), dkim_key(), timestamp=1_700_000_000)
    assert signature_tags(signed)[b"t"] == b"1700000000"
    assert verifies(signed)
    now = int(signature_tags(sign_message(campaign_message(), dkim_key()))[b"t"])
    assert abs(now - time.time()) < 60
    # dkimpy refuses a signature from more than 10 hours ahead: the tag is really read.
    assert not verifies(
        sign_message(campaign_message(), dkim_key(), timestamp=int(time.time()) + 86400)
    )


@pytest.mark.parametrize(
    "message",
    [b"Subject: no sender\r\n\r\nbody\r\n", b"From news@example.com\r\n\r\nbody\r\n", b" x\r\n"],
)
def test_what_cannot_be_signed_is_refused(message: bytes) -> None:
    with pytest.raises(UnsignableMessage):
        sign_message(message, dkim_key())


def test_rfc_6376_relaxed_example() -> None:
    # RFC 6376 §3.4.5
    assert canonical_header(b"A: X\r\n") + canonical_header(b"B : Y\t\r\n\tZ  \r\n") == (
        b"a:X\r\nb:Y Z\r\n"
    )
    assert canonical_body(b" C \r\nD \t E\r\n\r\n\r\n") == b" C\r\nD E\r\n"


def test_the_loaded_key_is_reused() -> None:
    pem = key_pair().private_pem
    assert load_private_key(pem) is load_private_key(pem)


def test_the_key_never_shows_in_its_repr() -> None:
    assert "PRIVATE" not in repr(dkim_key())


# -- property-based: any reasonable message verifies ------------------------------------------

_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from(" \t"),
    max_size=120,
)
_header_value = st.lists(_text.filter(lambda s: s.strip()), min_size=1, max_size=3).map(
    "\r\n\t".join  # folded when there is more than one part
)
_body_line = st.binary(max_size=200).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"")
) | st.sampled_from([b"", b"   ", b"\t", b"a  b\t\tc  ", b"x" * 1200])
_body = st.lists(_body_line, max_size=15).map(b"\r\n".join) | st.sampled_from(
    [b"", b"\r\n", b"end\r\n\r\n\r\n  \r\n"]
)
_name = st.sampled_from(
    ["To", "Subject", "Reply-To", "List-Id", "X-Campaign", "subject", "LIST-UNSUBSCRIBE", "Date"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(st.tuples(_name, _header_value), max_size=6),
    from_value=_header_value,
    body=_body,
)
def test_any_message_verifies_and_breaks_on_a_body_change(
    headers: list[tuple[str, str]], from_value: str, body: bytes
) -> None:
    head = f"From: {from_value}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
    signed = sign_message(head.encode() + b"\r\n" + body, dkim_key())
    assert verifies(signed)
    start = signed.index(b"\r\n\r\n") + 4
    tampered = signed[:start] + b"!" + signed[start:]
    assert not verifies(tampered)


@given(body=_body)
def test_body_canonicalisation_matches_dkimpy(body: bytes) -> None:
    if body and not body.endswith(b"\r\n"):
        body += b"\r\n"  # the signer adds it before canonicalising (see sign_message)
    assert canonical_body(body) == Relaxed.canonicalize_body(body)


def test_a_message_from_lettrs_builder_verifies() -> None:
    from lettr_cli.content.message import Headers, build_message, to_bytes

    headers = Headers(
        subject="Größere Rabatte – „nur heute“ für alle Leserinnen und Leser unseres Newsletters",
        from_email="news@example.com",
        from_name="Zoë’s Shop",
        to_email="ann@example.org",
        reply_to="help@example.com",
        list_unsubscribe=("https://t.example.com/u/" + "a" * 120, "mailto:unsub@example.com"),
        list_id="Weekly <c1.example.com>",
        feedback_id="c1:weekly:lettr",
    )
    wire = to_bytes(build_message(headers, "<p>Hallo Zoë</p>\n", "Hallo Zoë\n"))
    signed = sign_message(wire, dkim_key())
    assert signed.endswith(wire)  # the builder's bytes are sent as they are
    assert verifies(signed)
    names = signature_tags(signed)[b"h"].decode().replace(" ", "").split(":")
    assert names.count("list-unsubscribe") == 2 and names.count("feedback-id") == 1
    assert not verifies(signed.replace(b"Hallo", b"Hello", 1))
