"""A small DKIM signer (RFC 6376): relaxed/relaxed canonicalisation, rsa-sha256.

Signing is RSA through ``cryptography`` (OpenSSL), with the key loaded once per process; dkimpy's
own RSA is pure Python and many times slower (see ``bench/dkim_sign.py``). Tests verify every
shape of message with dkimpy.

Headers named in ``SIGNED_HEADERS`` are signed when present. ``OVERSIGNED`` ones are listed in
``h=`` once more than they occur, so a receiver sees the signature break when anyone adds another
instance (a second From, a List-Unsubscribe on a message that had none).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from lettr_cli.domains.keys import DkimKey, load_private_key

SIGNED_HEADERS: tuple[bytes, ...] = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"list-id",
    b"feedback-id",
    b"reply-to",
)
OVERSIGNED: frozenset[bytes] = frozenset(
    {b"from", b"subject", b"list-unsubscribe", b"list-unsubscribe-post"}
)
FOLD_WIDTH = 78  # the header stays far below SMTP's 998, and readable
_B64_CHUNK = 60

_TAB_TO_SPACE = bytes.maketrans(b"\t", b" ")
_ANY_LINE_END = re.compile(rb"\r\n|\r|\n")


class UnsignableMessage(ValueError):
    """The bytes are not a message that can be signed (no From, a malformed header line)."""


def sign_message(message: bytes, key: DkimKey, *, timestamp: int | None = None) -> bytes:
    """Return ``message`` with a ``DKIM-Signature`` header prepended.

    The message should use CRLF line endings; bare CR or LF are turned into CRLF, and a body that
    does not end with a line break gets one, so the bytes returned are exactly the bytes signed.
    Send them as they are: re-serialising may change what the signature covers.
    """
    message = _with_crlf(message)
    head, separator, body = message.partition(b"\r\n\r\n")
    if separator:
        head += b"\r\n"
        if body and not body.endswith(b"\r\n"):
            body += b"\r\n"
    elif not head.endswith(b"\r\n"):
        head += b"\r\n"
    fields = header_fields(head)
    names = [name for name, _ in fields]
    if b"from" not in names:
        raise UnsignableMessage("the message has no From header; DKIM must sign From")

    signed = [
        name
        for name in SIGNED_HEADERS
        for _ in range(names.count(name) + (1 if name in OVERSIGNED else 0))
    ]
    body_hash = base64.b64encode(hashlib.sha256(canonical_body(body)).digest()).decode("ascii")
    pieces = _tag_pieces(key, signed, body_hash, timestamp)
    unsigned = _fold(pieces)

    hashed = b"".join(canonical_header(field) for field in _select(fields, signed))
    hashed += canonical_header(unsigned.encode("ascii")).removesuffix(b"\r\n")
    signature = load_private_key(key.private_pem).sign(hashed, padding.PKCS1v15(), hashes.SHA256())
    b64 = base64.b64encode(signature).decode("ascii")
    chunks = [("", b64[i : i + _B64_CHUNK]) for i in range(0, len(b64), _B64_CHUNK)]
    header = _fold(chunks, start=unsigned).encode("ascii") + b"\r\n"
    return header + head + separator.removeprefix(b"\r\n") + body


def canonical_body(body: bytes) -> bytes:
    """The relaxed body canonicalisation (RFC 6376 §3.4.4) of a CRLF body."""
    if body and not body.endswith(b"\r\n"):
        body += b"\r\n"
    # After runs of WSP become one SP, trailing WSP is one SP before CRLF.
    body = _collapse_wsp(body).replace(b" \r\n", b"\r\n").rstrip(b"\r\n")
    return body + b"\r\n" if body else b""


def canonical_header(field: bytes) -> bytes:
    """The relaxed canonicalisation (RFC 6376 §3.4.2) of one header field, folded lines and all."""
    name, _, value = field.partition(b":")
    value = _collapse_wsp(value.replace(b"\r\n", b"")).strip(b" ")
    return name.rstrip(b" \t").lower() + b":" + value + b"\r\n"


def header_fields(head: bytes) -> list[tuple[bytes, bytes]]:
    """``(lower-case name, raw field with its line breaks)`` for each field of a CRLF header."""
    fields: list[tuple[bytes, bytes]] = []
    for line in head.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t"):
            if not fields:
                raise UnsignableMessage("the message starts with a continuation line")
            name, raw = fields[-1]
            fields[-1] = (name, raw + line + b"\r\n")
            continue
        name, colon, _ = line.partition(b":")
        if not colon or not name.strip():
            shown = line[:60].decode("ascii", "replace")
            raise UnsignableMessage(f"malformed header line: {shown!r}")
        fields.append((name.rstrip(b" \t").lower(), line + b"\r\n"))
    return fields


def _select(fields: list[tuple[bytes, bytes]], signed: list[bytes]) -> list[bytes]:
    # Each name in h= takes the next instance from the bottom up (RFC 6376 §5.4.2); names
    # listed more often than they occur select nothing.
    instances: dict[bytes, list[bytes]] = {}
    for name, raw in fields:
        instances.setdefault(name, []).append(raw)
    return [instances[name].pop() for name in signed if instances.get(name)]


def _tag_pieces(
    key: DkimKey, signed: list[bytes], body_hash: str, timestamp: int | None
) -> list[tuple[str, str]]:
    moment = int(time.time()) if timestamp is None else timestamp
    names = [name.decode("ascii") for name in signed]
    h_pieces = [(" ", f"h={names[0]}"), *(("", f":{n}") for n in names[1:])]
    h_pieces[-1] = (h_pieces[-1][0], h_pieces[-1][1] + ";")
    return [
        (" ", "v=1;"),
        (" ", "a=rsa-sha256;"),
        (" ", "c=relaxed/relaxed;"),
        (" ", f"d={key.domain};"),
        (" ", f"s={key.selector};"),
        (" ", f"t={moment};"),
        *h_pieces,
        (" ", f"bh={body_hash};"),
        (" ", "b="),
    ]


def _fold(pieces: list[tuple[str, str]], start: str = "DKIM-Signature:") -> str:
    # A fold ("\r\n ") may replace a separating space, or go where FWS is allowed without one
    # (between h= names, inside b=). What is hashed is this text canonicalised, so any folding
    # is safe as long as the text before b= is the same when hashed and when sent: the b= value
    # is folded on after the text that was hashed (``start``).
    text = start
    width = len(start) - start.rfind("\n") - 1
    for separator, piece in pieces:
        if width + len(separator) + len(piece) > FOLD_WIDTH:
            text += "\r\n " + piece
            width = 1 + len(piece)
        else:
            text += separator + piece
            width += len(separator) + len(piece)
    return text


def _collapse_wsp(data: bytes) -> bytes:
    """Every run of spaces and tabs as one space (bytes methods: several times a regex's speed)."""
    data = data.translate(_TAB_TO_SPACE)
    while b"  " in data:
        data = data.replace(b"  ", b" ")
    return data


def _with_crlf(message: bytes) -> bytes:
    crlf = message.count(b"\r\n")
    if message.count(b"\n") == crlf and message.count(b"\r") == crlf:
        return message
    return _ANY_LINE_END.sub(b"\r\n", message)
