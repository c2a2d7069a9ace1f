"""The MIME message: headers checked by our own rules, both parts, bytes ready for SMTP.

Any value that reaches a header is refused if it holds CR, LF or another control character
(DESIGN "Messages"), whatever the Python version's own checks. Bodies are quoted-printable
UTF-8, so no line exceeds 998 characters; long headers are folded (RFC 2047 where needed).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.charset import Charset
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from lettr_cli.errors import ValidationError

_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
MAX_LINE = 998
# Headers lettr folds itself (List-Unsubscribe) are written as given: the email package would
# otherwise turn a long URL into RFC 2047 encoded words, which receivers cannot use.
SMTP_POLICY = policy.SMTP.clone(max_line_length=78, refold_source="none")
# A message to an internationalised address (RFC 6531, sent only to a relay that offers
# SMTPUTF8) carries its header as UTF-8 (RFC 6532): an address cannot be an encoded word.
SMTPUTF8_POLICY = SMTP_POLICY.clone(utf8=True)


def check_header_value(field_name: str, value: str) -> str:
    """``value`` unchanged, or a ``validation_error`` if it could break a header."""
    found = _CONTROL.search(value)
    if found:
        raise ValidationError.field(
            field_name,
            f"{field_name} contains a control character (U+{ord(found.group(0)):04X}) at "
            f"position {found.start() + 1}; line breaks and other control characters "
            "are not allowed in a header",
        )
    return value


@dataclass(frozen=True)
class Headers:
    subject: str
    from_email: str
    to_email: str
    from_name: str | None = None
    reply_to: str | None = None
    date: datetime | None = None
    message_id: str | None = None
    list_unsubscribe: tuple[str, ...] = ()  # URLs (https:, mailto:), in order
    one_click: bool = True
    list_id: str | None = None
    feedback_id: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def checked(self) -> Headers:
        for name, value in (
            ("subject", self.subject),
            ("from_email", self.from_email),
            ("to", self.to_email),
            ("from_name", self.from_name or ""),
            ("reply_to", self.reply_to or ""),
            ("list_id", self.list_id or ""),
            ("feedback_id", self.feedback_id or ""),
            *((f"list_unsubscribe[{i}]", url) for i, url in enumerate(self.list_unsubscribe)),
            *self.extra,
        ):
            check_header_value(name, value)
        return self


def encode_text_header(name: str, value: str) -> str:
    """An unstructured header value, folded at 78, RFC 2047-encoded where it is not ASCII or
    holds ``=?`` (a reader would decode text that looks like an encoded word; encoded, it shows
    literally)."""
    charset = "us-ascii" if value.isascii() and "=?" not in value else "utf-8"
    return Header(value, charset, header_name=name).encode(linesep="\n", maxlinelen=78)


def encode_address(name: str, address: str) -> str:
    """``Name <address>``, the name encoded as ``encode_text_header`` decides."""
    if "=?" in name:
        return f"{Charset('utf-8').header_encode(name)} <{address}>"
    return formataddr((name, address), "utf-8")


def encode_list_id(list_id: str) -> str:
    """``phrase <id>`` with the phrase encoded when it holds ``=?``."""
    phrase, bracket, rest = list_id.rpartition(" <")
    if "=?" not in phrase or not bracket:
        return list_id
    return f"{encode_text_header('List-Id', phrase)} <{rest}"


def message_id(domain: str) -> str:
    """A unique Message-ID on the sender's domain."""
    return f"<{uuid.uuid4().hex}@{domain}>"


def build_message(headers: Headers, html: str, text: str) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) with every header lettr sets."""
    headers.checked()
    message = EmailMessage(policy=SMTP_POLICY)
    # Subject and From are encoded with the legacy `email.header` encoder: the newer folding
    # code can drop a space where it splits text into two RFC 2047 encoded words.
    message.set_raw("From", encode_address(headers.from_name or "", headers.from_email))
    if headers.to_email.isascii():
        message["To"] = headers.to_email
    else:
        message.set_raw("To", headers.to_email)
    if headers.reply_to:
        message["Reply-To"] = headers.reply_to
    message.set_raw("Subject", encode_text_header("Subject", headers.subject))
    message["Date"] = format_datetime(headers.date) if headers.date else format_datetime(_now())
    domain = headers.from_email.rpartition("@")[2]
    message["Message-ID"] = headers.message_id or message_id(domain)
    if headers.list_unsubscribe:
        if not all(url.isascii() and len(url) < MAX_LINE - 30 for url in headers.list_unsubscribe):
            raise ValidationError.field("list_unsubscribe", "unsubscribe URLs must be short ASCII")
        # One URL a line, in angle brackets (RFC 2369), never encoded.
        message.set_raw(
            "List-Unsubscribe", ",\n ".join(f"<{url}>" for url in headers.list_unsubscribe)
        )
        if headers.one_click and any(
            u.startswith("https:") or u.startswith("http:") for u in headers.list_unsubscribe
        ):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if headers.list_id and "=?" in headers.list_id:
        # The email package would decode text that looks like an encoded word.
        message.set_raw("List-Id", encode_list_id(headers.list_id))
    elif headers.list_id:
        message["List-Id"] = headers.list_id
    if headers.feedback_id:
        message["Feedback-ID"] = headers.feedback_id
    for name, value in headers.extra:
        message[name] = value
    # set_content adds MIME-Version itself.
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def to_bytes(message: EmailMessage) -> bytes:
    """The wire form: CRLF line endings, every line within 998 characters."""
    utf8 = not str(message.get("To", "")).isascii()
    data = message.as_bytes(policy=SMTPUTF8_POLICY if utf8 else SMTP_POLICY)
    longest = max((len(line) for line in data.split(b"\r\n")), default=0)
    if longest > MAX_LINE:
        raise ValidationError.field("message", f"a line of {longest} characters exceeds {MAX_LINE}")
    return data


def _now() -> datetime:
    # Not store.types.utcnow: that would import SQLAlchemy into every build worker.
    return datetime.now(UTC)
