"""Feedback messages: reading them from `.eml` files, mbox files and Maildirs, and telling what
each one is (DESIGN "Tracking, feedback, analytics").

- a DSN (RFC 3464, ``multipart/report; report-type=delivery-status``), or a plain bounce that
  names its failed recipients in ``X-Failed-Recipients`` (Exim), classified with the reply-class
  table of DESIGN "Sending engine";
- a complaint (ARF, RFC 5965, ``multipart/report; report-type=feedback-report``);
- an auto-reply (RFC 3834), which lettr ignores;
- anything else, which is listed and never guessed at.

Nothing here touches the store: matching and recording are in ``feedback_import``; reading
files, mboxes and Maildirs within bounds is in ``feedback_sources``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from email import policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses
from typing import Any

from lettr_cli.tracking.feedback_sources import Incoming, headers_of, parse
from lettr_cli.transport.replies import BOUNCE_CLASSES, Reply, ReplyClass

BOUNCE = "bounce"
COMPLAINT = "complaint"
AUTO_REPLY = "auto_reply"
DELAY = "delay"  # a DSN that says delivery is still being tried: not a failure
OTHER = "other"

UNCLASSIFIED = "1"
COMPLAINT_TYPES = frozenset({"abuse", "fraud"})

# RFC 3463: class "." subject "." detail, the class 2, 4 or 5, the others 1 to 3 digits (ASCII).
_STATUS = re.compile(r"([245])\.([0-9]{1,3})\.([0-9]{1,3})")
_STATUS_END = re.compile(r"[\s(]")  # a Status field may go on with a comment: 5.1.1 (unknown)
_REPLY = re.compile(r"\b([245][0-9][0-9])[ -]+(?:([245]\.[0-9]{1,3}\.[0-9]{1,3})\b)?")
_MAX_SHOWN = 60
_EXIM_COPY = re.compile(r"^-+ This is a copy of the message, including all the headers\. -+$", re.M)
_MAX_REASON = 1000


@dataclass(frozen=True)
class Feedback:
    """What one message says, before it is matched to an outbox row."""

    kind: str
    key: str  # for de-duplication: ``message-id:<id>``, else ``sha256:<hex>``
    source: str
    message_id: str | None = None
    recipient: str | None = None  # the address the report is about
    bounce_class: str | None = None
    reason: str | None = None
    note: str | None = None  # why a message of kind OTHER is not used
    # Addresses that may carry the envelope token (the bounce address the report went to).
    envelope_addresses: tuple[str, ...] = ()
    # The original message's Feedback-ID and List-Id, and its To.
    original: dict[str, str] = field(default_factory=dict)


# -- classifying --------------------------------------------------------------------------------


def dedup_key(message: Message, data: bytes) -> tuple[str, str | None]:
    raw = message.get("Message-ID")
    message_id = str(raw).strip() if raw else ""
    if message_id:
        return f"message-id:{message_id[:280]}", message_id
    return f"sha256:{hashlib.sha256(data).hexdigest()}", None


def classify_message(incoming: Incoming) -> Feedback:
    """What ``incoming`` says; one that cannot be read (too large, nested too deep, not an
    email message) is OTHER, with the reason in ``note``."""
    message = parse(incoming)
    if isinstance(message, str):
        key, message_id = dedup_key(headers_of(incoming), incoming.data)
        return Feedback(OTHER, key=key, source=incoming.source, message_id=message_id, note=message)
    key, message_id = dedup_key(message, incoming.data)
    base = Feedback(OTHER, key=key, source=incoming.source, message_id=message_id)
    try:
        return _classify(message, base)
    except Undecodable as exc:
        return replace(base, note=str(exc))


class Undecodable(Exception):
    """A part whose content cannot be decoded (its charset or transfer encoding)."""


def _payload(part: Message, *, decode: bool = False) -> Any:
    """``part.get_payload()``. The email package decodes a part's 8-bit text with the part's
    charset parameter, which a hostile message may set to anything (a tuple, a NUL, idna)."""
    try:
        return part.get_payload(decode=True) if decode else part.get_payload()
    except (LookupError, UnicodeError, ValueError, TypeError) as exc:
        why = f"a {part.get_content_type()} part cannot be decoded ({exc})"
        raise Undecodable(why[:_MAX_REASON]) from None


def _decoded(part: Message) -> bytes | None:
    """The part's content without its transfer encoding."""
    raw = _payload(part, decode=True)
    return raw if isinstance(raw, bytes) else None


def _classify(message: Message, base: Feedback) -> Feedback:
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type", "") or "").lower()
    if content_type == "multipart/report" and report_type == "delivery-status":
        return _dsn(message, base)
    if content_type == "multipart/report" and report_type == "feedback-report":
        return _arf(message, base)
    if message.get("X-Failed-Recipients"):
        return _plain_bounce(message, base)
    if is_auto_reply(message):
        return replace(base, kind=AUTO_REPLY)
    return replace(base, note="not a delivery report, complaint or auto-reply")


def is_auto_reply(message: Message) -> bool:
    """RFC 3834: ``Auto-Submitted`` other than ``no``, and the headers responders commonly
    set; the subject only by the ``Auto:`` prefix RFC 3834 (3.1.5) suggests."""
    submitted = str(message.get("Auto-Submitted", "")).split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    if str(message.get("Precedence", "")).strip().lower() == "auto_reply":
        return True
    return str(message.get("Subject", "")).lstrip().lower().startswith("auto:")


def bounce_class(status: str | None, diagnostic: str | None) -> str:
    """Lettr's bounce class for a DSN status (``5.1.1``) or, failing that, the SMTP reply in
    its diagnostic (``smtp; 550 5.1.1 ...``), by DESIGN's reply-class table."""
    reply = _reply_of(status, diagnostic)
    if reply is None:
        return UNCLASSIFIED
    code, enhanced = reply
    if 200 <= code < 300:
        return UNCLASSIFIED
    mailbox_full = code == 552 or enhanced.endswith(".2.2")
    if mailbox_full or 400 <= code < 500:
        return BOUNCE_CLASSES[ReplyClass.SOFT]
    subject = enhanced.split(".")[1] if enhanced.startswith("5.") else ""
    kind = {"1": ReplyClass.HARD, "7": ReplyClass.BLOCK}.get(subject, ReplyClass.PERMANENT)
    return BOUNCE_CLASSES[kind]


def status_code(status: str) -> str | None:
    """The RFC 3463 code a DSN's Status field starts with (``5.1.1``), or None."""
    first = _STATUS_END.split(status.strip(), maxsplit=1)[0]
    return first if _STATUS.fullmatch(first) else None


def _reply_of(status: str | None, diagnostic: str | None) -> tuple[int, str] | None:
    found = _STATUS.fullmatch(status_code(status or "") or "")
    if found is not None:
        enhanced = ".".join(found.groups())
        return int(found.group(1)) * 100 + 50, enhanced
    match = _REPLY.search(diagnostic or "")
    if match is None:
        return None
    code = int(match.group(1))
    enhanced = match.group(2) or Reply(code, "").enhanced or ""
    if code == 552 and not enhanced:
        enhanced = "5.2.2"
    return code, enhanced


def _addresses(message: Message | None, *names: str) -> list[str]:
    if message is None:
        return []
    values = [str(v) for name in names for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(values) if address]


def _typed_address(value: str | None) -> str | None:
    """``rfc822; ann@example.org`` → ``ann@example.org``."""
    if not value:
        return None
    text = str(value).split(";", 1)[-1].strip().strip("<>").strip()
    return text or None


def _original_headers(message: Message) -> Message | None:
    """The original message's headers, from a ``message/rfc822`` or ``text/rfc822-headers``
    part of a report."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = _payload(part)
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if kind == "text/rfc822-headers":
            raw = _decoded(part)
            if raw is not None:
                return HeaderParser(policy=policy.compat32).parsestr(raw.decode("utf-8", "replace"))
    return None


def _original_fields(original: Message | None) -> dict[str, str]:
    if original is None:
        return {}
    out = {}
    for name in ("Feedback-ID", "List-Id"):
        value = original.get(name)
        if value:
            out[name.lower()] = " ".join(str(value).split())
    to = _addresses(original, "To")
    if len(to) == 1:
        out["to"] = to[0]
    return out


def _envelope(message: Message, original: Message | None) -> tuple[str, ...]:
    """Where the report went (our envelope sender, with its token), and the original's
    Return-Path, which the receiving server wrote from that envelope sender."""
    own = _addresses(message, "To", "Delivered-To", "X-Original-To", "Envelope-To")
    theirs = _addresses(original, "Return-Path")
    return tuple(dict.fromkeys([*own, *theirs]))


def _status_blocks(message: Message) -> list[Message]:
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = _payload(part)
            if isinstance(payload, list):
                return [block for block in payload if isinstance(block, Message)]
            if isinstance(payload, str):  # some parsers leave it as text: read the blocks
                return [
                    HeaderParser(policy=policy.compat32).parsestr(chunk.strip() + "\n")
                    for chunk in re.split(r"\r?\n\s*\r?\n", payload)
                    if chunk.strip()
                ]
    return []


def _dsn(message: Message, base: Feedback) -> Feedback:
    original = _original_headers(message)
    blocks = [block for block in _status_blocks(message) if block.get("Action")]
    failed = [b for b in blocks if str(b.get("Action", "")).strip().lower() == "failed"]
    if not failed:
        actions = sorted({str(b.get("Action", "")).strip().lower() for b in blocks})
        if "delayed" in actions:
            return replace(base, kind=DELAY)
        note = f"a delivery report without a failure (action {', '.join(actions) or 'none'})"
        return replace(base, note=note)
    recipients = {
        _typed_address(str(b.get("Original-Recipient") or b.get("Final-Recipient") or ""))
        for b in failed
    }
    recipients.discard(None)
    recipient = recipients.pop() if len(recipients) == 1 else None
    block = failed[0]
    status = " ".join(str(block.get("Status", "")).split()) or None
    if status is not None and status_code(status) is None:
        shown = status if len(status) <= _MAX_SHOWN else status[:_MAX_SHOWN] + "…"
        note = f"a delivery report whose Status {shown!r} is not an RFC 3463 status code"
        return replace(base, recipient=recipient, note=note)
    diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split()) or None
    reason = "; ".join(part for part in (status, diagnostic) if part)
    return replace(
        base,
        kind=BOUNCE,
        recipient=recipient,
        bounce_class=bounce_class(status, diagnostic),
        reason=reason[:_MAX_REASON] or None,
        envelope_addresses=_envelope(message, original),
        original=_original_fields(original),
    )


def _plain_bounce(message: Message, base: Feedback) -> Feedback:
    """A bounce that is not a DSN (Exim's "Mail delivery failed: returning message to
    sender"): the failed recipients in ``X-Failed-Recipients``, the reply in the text, the
    original headers after Exim's "This is a copy of the message" line."""
    recipients = _addresses(message, "X-Failed-Recipients")
    text = _text_of(message)
    original: Message | None = None
    copy = _EXIM_COPY.search(text)
    if copy is not None:
        original = HeaderParser(policy=policy.compat32).parsestr(text[copy.end() :].lstrip("\n"))
        text = text[: copy.start()]
    else:
        original = _original_headers(message)
    found = _REPLY.search(text)
    diagnostic = " ".join(found.string[found.start() :].split("\n")[0].split()) if found else None
    return replace(
        base,
        kind=BOUNCE,
        recipient=recipients[0] if len(set(recipients)) == 1 else None,
        bounce_class=bounce_class(None, diagnostic),
        reason=(diagnostic or "")[:_MAX_REASON] or None,
        envelope_addresses=_envelope(message, original),
        original=_original_fields(original),
    )


def _text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            raw = _decoded(part)
            if raw is not None:
                charset = part.get_content_charset() or "utf-8"
                try:
                    return raw.decode(charset, "replace")
                except (LookupError, UnicodeError, ValueError):  # not a usable charset
                    return raw.decode("utf-8", "replace")
    return ""


def _arf(message: Message, base: Feedback) -> Feedback:
    report: Message | None = None
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = _payload(part)
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                report = payload[0]
            elif isinstance(payload, str):
                report = HeaderParser(policy=policy.compat32).parsestr(payload.strip() + "\n")
            break
    if report is None:
        note = "a feedback report without its message/feedback-report part"
        return replace(base, note=note)
    feedback_type = str(report.get("Feedback-Type", "")).strip().lower()
    if feedback_type not in COMPLAINT_TYPES:
        note = f"a feedback report of type {feedback_type or 'none'}, not a complaint"
        return replace(base, note=note)
    original = _original_headers(message)
    recipients = _addresses(report, "Original-Rcpt-To")
    envelope = _addresses(report, "Original-Mail-From")
    return replace(
        base,
        kind=COMPLAINT,
        recipient=recipients[0] if len(set(recipients)) == 1 else None,
        reason=f"feedback type {feedback_type}",
        envelope_addresses=tuple(dict.fromkeys([*envelope, *_envelope(message, original)])),
        original=_original_fields(original),
    )


def classify_all(messages: Sequence[Incoming]) -> Iterator[Feedback]:
    for incoming in messages:
        yield classify_message(incoming)
