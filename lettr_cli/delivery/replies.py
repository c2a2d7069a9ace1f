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
    """The class of ``reply`` to ``stage`` (greeting, mail, rcpt or data)."""
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
