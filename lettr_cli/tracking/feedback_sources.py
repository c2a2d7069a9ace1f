"""Feedback messages read from `.eml` files, mbox files and Maildirs, within bounds.

A path that holds no mail (no such file, a folder that is not a Maildir, a lone file that is
not an email message) is refused before anything is recorded. Inside an mbox or a Maildir each
message stands on its own: one that is empty, binary, not an email message or larger than
``MAX_MESSAGE_BYTES`` carries the reason it is not read (and is listed as unmatched), and the
others are read. At most ``MAX_MESSAGE_BYTES`` (+1, to tell) of any message is read.

``parse`` reads a message's MIME structure, refusing one whose parts nest more than
``MAX_DEPTH`` deep: a report is three or four levels (the report, its message/rfc822 part,
the returned message and its parts), and the email package's parser recurses once per level.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from email.parser import BytesHeaderParser
from itertools import islice
from pathlib import Path
from typing import Protocol

from lettr_cli.errors import ValidationError

MAX_MESSAGE_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 50
# A part of these types is what makes the parser recurse. Counting their Content-Type lines
# before parsing bounds the recursion (a multipart/digest part is a message by default, so a
# level may have no line of its own: at most two levels per line), far below Python's limit.
MAX_NESTING_PARTS = 200
_NESTING = re.compile(rb"^content-type:\s*(?:multipart|message)/", re.IGNORECASE | re.MULTILINE)
_MB = 1024 * 1024

TOO_DEEP = f"its MIME parts are nested more than {MAX_DEPTH} deep; not read"
TOO_LARGE = f"larger than {MAX_MESSAGE_BYTES // _MB} MB, the most lettr reads of a message"
TOO_MANY_PARTS = f"more than {MAX_NESTING_PARTS} multipart or message parts; not read"


@dataclass(frozen=True)
class Incoming:
    """One message read from a source, with where it came from."""

    source: str  # the file, or ``mbox#n`` / ``maildir/key``
    data: bytes  # at most MAX_MESSAGE_BYTES + 1 bytes
    problem: str | None = None  # why the message is not read further


def read_sources(paths: Sequence[Path]) -> list[Incoming]:
    """Every message of every path (``.eml`` file, mbox file or Maildir), read and checked
    before anything is recorded; a path that holds no readable message is refused."""
    found: list[Incoming] = []
    for path in paths:
        found.extend(_read_path(path))
    return found


def parse(incoming: Incoming) -> Message | str:
    """The message, or why it is not read (its problem, or parts nested too deep)."""
    if incoming.problem is not None:
        return incoming.problem
    lines = islice(_NESTING.finditer(incoming.data), MAX_NESTING_PARTS + 1)
    if sum(1 for _ in lines) > MAX_NESTING_PARTS:
        return TOO_MANY_PARTS
    try:
        message = message_from_bytes(incoming.data, policy=policy.compat32)
    except RecursionError:  # the count above keeps the parser far from this; a backstop
        return TOO_DEEP
    return TOO_DEEP if _deeper_than(message, MAX_DEPTH) else message


def headers_of(incoming: Incoming) -> Message:
    """The message's headers alone (no MIME parsing), for one that is not read."""
    return BytesHeaderParser(policy=policy.compat32).parsebytes(incoming.data)


def _deeper_than(message: Message, limit: int) -> bool:
    """Whether ``message`` has parts more than ``limit`` levels deep (itself is level 1),
    walked without recursion."""
    stack = [(message, 1)]
    while stack:
        part, level = stack.pop()
        if level > limit:
            return True
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((child, level + 1) for child in payload if isinstance(child, Message))
    return False


def _refuse(path: Path, why: str) -> ValidationError:
    return ValidationError.field("path", f"{path}: {why}")


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def _read_capped(file: _Readable) -> bytes:
    return file.read(MAX_MESSAGE_BYTES + 1)


def _read_path(path: Path) -> list[Incoming]:
    if not path.exists():
        raise _refuse(path, "no such file or folder")
    if path.is_dir():
        if not all((path / name).is_dir() for name in ("cur", "new", "tmp")):
            raise _refuse(path, "a folder that is not a Maildir (no cur, new and tmp folders)")
        return _read_maildir(path)
    try:
        with path.open("rb") as file:
            data = _read_capped(file)
    except OSError as exc:
        raise _refuse(path, f"cannot be read ({exc.strerror or exc})") from None
    if data.startswith(b"From "):
        return _read_mbox(path)
    problem = _problem(data)
    if problem is not None and problem != TOO_LARGE:
        raise _refuse(path, problem)  # a file named on its own that is not mail at all
    return [Incoming(str(path), data, problem)]


def _read_mbox(path: Path) -> list[Incoming]:
    box = mailbox.mbox(path, create=False)
    try:
        out = []
        for n, key in enumerate(box.keys(), start=1):
            with closing(box.get_file(key)) as file:
                data = _read_capped(file)
            out.append(Incoming(f"{path}#{n}", data, _problem(data)))
        return out
    except OSError as exc:
        raise _refuse(path, f"cannot be read ({exc.strerror or exc})") from None
    finally:
        box.close()


def _read_maildir(path: Path) -> list[Incoming]:
    box = mailbox.Maildir(path, factory=None, create=False)
    out = []
    try:
        for key in sorted(box.keys()):
            with closing(box.get_file(key)) as file:
                data = _read_capped(file)
            out.append(Incoming(f"{path}/{key}", data, _problem(data)))
    except OSError as exc:
        raise _refuse(path, f"cannot be read ({exc.strerror or exc})") from None
    return out


def _problem(data: bytes) -> str | None:
    """Why ``data`` is not read as an email message, or None."""
    if len(data) > MAX_MESSAGE_BYTES:
        return TOO_LARGE
    if not data.strip():
        return "is empty, not an email message"
    if b"\x00" in data[:4096]:
        return "is binary, not an email message"
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(data)
    names = {name.lower() for name in headers}
    if not names & {"from", "content-type", "subject", "message-id", "date"}:
        return "is not an email message (no From, Subject or Date header)"
    return None
