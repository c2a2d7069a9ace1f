"""The reply-class table of DESIGN "Sending engine"."""

from __future__ import annotations

import pytest

from lettr_cli.transport.replies import (
    BOUNCE_CLASSES,
    Reply,
    ReplyClass,
    classify,
    counts_against_contact,
)


@pytest.mark.parametrize(
    ("code", "message", "stage", "expected"),
    [
        (250, "2.0.0 Ok: queued", "data", ReplyClass.DELIVERED),
        (451, "4.3.0 Try again later", "rcpt", ReplyClass.SOFT),
        (452, "4.2.2 Mailbox full", "data", ReplyClass.SOFT),
        (552, "5.2.2 Mailbox full", "data", ReplyClass.SOFT),
        (550, "5.2.2 Over quota", "rcpt", ReplyClass.SOFT),
        (550, "5.1.1 No such user", "rcpt", ReplyClass.HARD),
        (553, "5.1.3 Bad address syntax", "rcpt", ReplyClass.HARD),
        (554, "5.7.1 Blocked by policy", "data", ReplyClass.BLOCK),
        (550, "5.7.26 DMARC failure", "data", ReplyClass.BLOCK),
        (554, "5.6.0 Content rejected", "data", ReplyClass.PERMANENT),
        (550, "Mailbox unavailable", "rcpt", ReplyClass.PERMANENT),
        (421, "4.7.0 Too many connections, slow down", "rcpt", ReplyClass.RELAY),
        (451, "4.7.1 Rate limited", "data", ReplyClass.RELAY),
        (454, "4.7.0 TLS not available", "rcpt", ReplyClass.RELAY),
        (421, "Service shutting down", "greeting", ReplyClass.RELAY),
        (553, "5.7.1 Sender not allowed", "mail", ReplyClass.RELAY),
        (421, "4.4.2 Timeout", "data", ReplyClass.SOFT),
    ],
)
def test_each_reply_lands_in_its_class(
    code: int, message: str, stage: str, expected: ReplyClass
) -> None:
    assert classify(Reply(code, message), stage=stage) is expected


def test_bounce_classes_are_lettrs_codes() -> None:
    assert BOUNCE_CLASSES == {
        ReplyClass.HARD: "10",
        ReplyClass.SOFT: "22",
        ReplyClass.BLOCK: "50",
        ReplyClass.PERMANENT: "30",
    }
    assert Reply(550, "5.1.1 No such user").enhanced == "5.1.1"
    assert Reply(550, "No such user").enhanced is None


@pytest.mark.parametrize(
    ("code", "message", "stage", "counts"),
    [
        # x.1.x and x.2.x count (mailbox full among them), at RCPT or at the final dot
        (452, "4.2.2 Mailbox full", "rcpt", True),
        (452, "4.2.2 Mailbox full", "data", True),
        (450, "4.2.0 Mailbox busy", "data", True),
        (450, "4.1.1 Mailbox unavailable", "rcpt", True),
        (552, "5.2.2 Mailbox full", "data", True),
        (550, "5.2.2 Over quota", "rcpt", True),
        (552, "Mailbox full", "data", True),
        # 450/452 at RCPT without an enhanced code count; at the final dot they do not
        (450, "Mailbox unavailable", "rcpt", True),
        (452, "Insufficient storage", "rcpt", True),
        (452, "Insufficient storage", "data", False),
        (451, "Local error", "rcpt", False),
        # retried, never counted
        (421, "4.2.2 Mailbox full, closing", "rcpt", False),
        (421, "Service not available", "data", False),
        (451, "4.3.0 Try again later", "rcpt", False),
        (451, "4.3.0 Try again later", "data", False),
        (421, "4.4.2 Timeout", "data", False),
        (451, "4.4.1 No answer from host", "rcpt", False),
        (452, "4.5.3 Too many recipients", "rcpt", False),
        (450, "4.7.1 Greylisted, try later", "rcpt", False),
        (451, "4.7.1 Rate limited", "data", False),  # throttling: a relay failure
        # not soft at all
        (550, "5.1.1 No such user", "rcpt", False),
        (250, "2.0.0 Ok: queued", "data", False),
    ],
)
def test_only_mailbox_and_address_4xx_count_against_the_contact(
    code: int, message: str, stage: str, counts: bool
) -> None:
    assert counts_against_contact(Reply(code, message), stage=stage) is counts


def test_the_classifier_states_designs_counting_rule() -> None:
    """DESIGN's reply-class text, in the classifier's own words."""
    words = " ".join((counts_against_contact.__doc__ or "").split())
    assert "x.1.x or x.2.x" in words
    assert "450/452 at RCPT without one" in words
    assert "421, 4.3.x, 4.4.x, 4.5.x and 4.7.x are retried but never count" in words
