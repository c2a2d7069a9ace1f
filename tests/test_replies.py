"""The reply-class table of DESIGN "Sending engine"."""

from __future__ import annotations

import pytest

from lettr_cli.delivery.replies import BOUNCE_CLASSES, Reply, ReplyClass, classify


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
