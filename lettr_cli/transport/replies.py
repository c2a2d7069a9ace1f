"""What an SMTP reply means for a recipient (DESIGN "Sending engine", the reply-class table)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


class ReplyClass(StrEnum):
    DELIVERED = "delivered"  # 2xx to DATA
    SOFT = "soft"  # 4xx, 552 / x.2.2 mailbox full, connection lost before 354: retry later
    HARD = "hard"  # 5xx with x.1.x: a bad address
    BLOCK = "block"  # 5xx with x.7.x: policy or block
    PERMANENT = "permanent"  # any other 5xx
    UNKNOWN = "unknown"  # connection lost after 354: the message may have arrived
    RELAY = "relay"  # the relay itself failed: nothing is counted against the recipient


# SparkPost/Lettr bounce classes for the ``bounce`` events (CONTRACT "Objects").
BOUNCE_CLASSES = {
    ReplyClass.HARD: "10",
    ReplyClass.SOFT: "22",
    ReplyClass.BLOCK: "50",
    ReplyClass.PERMANENT: "30",
}


@dataclass(frozen=True)
class Reply:
    code: int
    message: str

    @property
    def enhanced(self) -> str | None:
        found = _ENHANCED.match(self.message)
        return ".".join(found.groups()) if found else None

    def __str__(self) -> str:
        return f"{self.code} {self.message}".strip()


def classify(reply: Reply, *, stage: str) -> ReplyClass:
    """The class of ``reply`` to ``stage`` (greeting, mail, rcpt or data), as DESIGN's table
    has it: 2xx is delivered; any other reply at the greeting or to MAIL FROM, and throttling
    (421 4.7.x, 451 4.7.x, 454), is a relay failure; other 4xx, and 552 or x.2.2 (mailbox
    full), are soft; 5xx with x.1.x is hard, with x.7.x a block, any other 5xx permanent.

    Which soft replies count against the contact is ``counts_against_contact``'s answer."""
    code, enhanced = reply.code, reply.enhanced or ""
    if 200 <= code < 300:
        return ReplyClass.DELIVERED
    throttling = code == 454 or (code in (421, 451) and enhanced.startswith("4.7."))
    if stage in ("greeting", "mail") or throttling:
        return ReplyClass.RELAY
    mailbox_full = code == 552 or enhanced.endswith(".2.2")
    if mailbox_full or 400 <= code < 500:
        return ReplyClass.SOFT
    subject = enhanced.split(".")[1] if enhanced.startswith("5.") else ""
    return {"1": ReplyClass.HARD, "7": ReplyClass.BLOCK}.get(subject, ReplyClass.PERMANENT)


def counts_against_contact(reply: Reply, *, stage: str) -> bool:
    """Whether ``reply`` to ``stage`` counts towards the contact's three soft failures in a
    row (DESIGN "Sending engine"): soft replies to RCPT or DATA whose enhanced code is
    x.1.x or x.2.x (mailbox full among them), or 450/452 at RCPT without one. 421, 4.3.x,
    4.4.x, 4.5.x and 4.7.x are retried but never count, nor do relay-level failures or a
    connection dropped before the server answered the transaction."""
    if stage not in ("rcpt", "data") or reply.code == 421:
        return False
    if classify(reply, stage=stage) is not ReplyClass.SOFT:
        return False
    enhanced = reply.enhanced
    if enhanced is None:
        return reply.code == 552 or (stage == "rcpt" and reply.code in (450, 452))
    return enhanced.split(".")[1] in ("1", "2")
