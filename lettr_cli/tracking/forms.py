"""The body of an unsubscribe POST, read within bounds (CONTRACT "Tracking").

An unsubscribe POST carries one or two small fields (``confirm=1`` from the confirm page,
``List-Unsubscribe=One-Click`` from a mail client, RFC 8058), urlencoded or as
``multipart/form-data``. So the body is read as it arrives and refused past ``MAX_BODY``
bytes (a chunked body has no Content-Length to check first), a form of more than
``MAX_FIELDS`` fields is refused, and a multipart body is split one level deep by its
boundary, without the email package's recursive parser: a part that is itself multipart (or a
message) is refused, so no nesting of any depth reaches a parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from urllib.parse import parse_qs

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from lettr_cli.tracking.pages import plain

MAX_BODY = 64 * 1024  # an unsubscribe POST is a few bytes
MAX_FIELDS = 20
_LENGTH = re.compile(r"[0-9]{1,18}")

Fields = dict[str, list[str]]


@dataclass(frozen=True)
class Refusal:
    """Why a body is not read: the HTTP status and a short text for the answer."""

    status: int
    text: str


TOO_LARGE = Refusal(413, "Request too large")


async def read_body(request: Request) -> bytes | Refusal:
    """The request's body, or a refusal once it exceeds ``MAX_BODY`` bytes (declared or not)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if _LENGTH.fullmatch(declared.strip()) is None:
            return Refusal(400, "Bad Content-Length")
        if int(declared) > MAX_BODY:
            return TOO_LARGE
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return TOO_LARGE
    except ClientDisconnect:
        return Refusal(400, "The request ended early")
    return bytes(body)


async def posted_form(request: Request, limit: int = MAX_FIELDS) -> Fields | Response:
    """The POST's form fields, or the plain answer (no-store) that refuses its body."""
    body = await read_body(request)
    fields = (
        body
        if isinstance(body, Refusal)
        else form_fields(request.headers.get("content-type", ""), body, limit)
    )
    if isinstance(fields, Refusal):
        return plain(fields.text, fields.status)
    return fields


def form_fields(content_type: str, body: bytes, limit: int = MAX_FIELDS) -> Fields | Refusal:
    """The fields of a urlencoded or ``multipart/form-data`` body (anything that is not
    multipart is read as urlencoded), or why they are refused: more than ``limit`` fields."""
    if content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
        return _multipart_fields(content_type, body, limit)
    text = body.decode("utf-8", "replace")
    if sum(1 for piece in text.split("&") if piece) > limit:
        return _too_many(limit)
    return parse_qs(text)


def _too_many(limit: int) -> Refusal:
    return Refusal(400, f"A form of more than {limit} fields")


def _multipart_fields(content_type: str, body: bytes, limit: int) -> Fields | Refusal:
    declared = Message()
    declared["Content-Type"] = content_type
    boundary = declared.get_boundary()
    if not boundary:
        return Refusal(400, "multipart/form-data without a boundary")
    delimiter = b"\n--" + boundary.encode("utf-8", "replace")
    # RFC 2046 parts are split at CRLF "--" boundary; bare LF line ends are read the same way.
    # The preamble, then the parts, then (if the body is whole) the close delimiter.
    sections = (b"\n" + body.replace(b"\r\n", b"\n")).split(delimiter, limit + 2)
    fields: Fields = {}
    for count, section in enumerate(sections[1:], start=1):
        if section.startswith(b"--"):
            break  # the close delimiter: the rest is the epilogue
        if count > limit:
            return _too_many(limit)
        _padding, _, part = section.partition(b"\n")
        head, found, value = part.partition(b"\n\n")
        if not found:
            head, value = part, b""
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(head + b"\n\n")
        if headers.get_content_maintype() in ("multipart", "message"):
            return Refusal(400, "A form field that holds parts of its own")
        name = headers.get_param("name", header="content-disposition")
        if isinstance(name, str):
            fields.setdefault(name, []).append(value.decode("utf-8", "replace").strip())
    return fields
