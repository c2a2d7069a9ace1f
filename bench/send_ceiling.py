"""The transport ceilings of ``bench/send.py``, each run in a child process of its own.

- ``aiosmtplib``: ``concurrency`` aiosmtplib connections, ``sendmail()`` per message (four
  awaited round trips each: MAIL, RCPT, DATA, the final dot).
- ``raw``: ``concurrency`` bare asyncio streams, one message in flight per connection as lettr
  keeps it, MAIL + RCPT + DATA pipelined in one write (RFC 2920) and the content after the 354:
  two round trips per message and almost no Python. No SMTP client in Python goes faster with
  one message per connection in flight; it is the limit of the transport on this machine.

Both send pre-built messages of lettr's size (the To: address replaced per recipient), timed
from the first connect to the last reply; building them is not timed.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def _messages(sample: str, count: int) -> list[tuple[str, bytes]]:
    template = Path(sample).read_bytes()
    first = re.search(rb"^To: .*?([\w.+-]+@example\.org)", template, re.M | re.I)
    assert first is not None, "the sample message has no To: header"
    address = first.group(1)
    return [
        (f"user{i}@example.org", template.replace(address, f"user{i}@example.org".encode()))
        for i in range(count)
    ]


async def _aiosmtplib(port: int, work: Iterator[tuple[str, bytes]]) -> int:
    import aiosmtplib

    sent = 0
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, use_tls=False)
    await smtp.connect()
    for recipient, message in work:
        await smtp.sendmail("bounces@example.com", [recipient], message)
        sent += 1
    await smtp.quit()
    return sent


async def _reply(reader: asyncio.StreamReader) -> bytes:
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("the sink closed the connection")
        if line[3:4] != b"-":
            return line


async def _raw(port: int, work: Iterator[tuple[str, bytes]]) -> int:
    sent = 0
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await _reply(reader)
    writer.write(b"EHLO bench.example.com\r\n")
    await _reply(reader)
    dots = re.compile(rb"(?m)^\.")
    for recipient, message in work:
        writer.write(
            b"MAIL FROM:<bounces@example.com>\r\nRCPT TO:<%s>\r\nDATA\r\n" % recipient.encode()
        )
        replies = [await _reply(reader) for _ in range(3)]
        if not replies[2].startswith(b"354"):
            raise ConnectionError(f"the sink answered {replies!r}")
        end = b".\r\n" if message.endswith(b"\r\n") else b"\r\n.\r\n"
        writer.write(dots.sub(b"..", message) + end)
        if not (await _reply(reader)).startswith(b"2"):
            raise ConnectionError("the sink refused a message")
        sent += 1
    writer.write(b"QUIT\r\n")
    await _reply(reader)
    writer.close()
    return sent


def ceiling(kind: str, port: int, count: int, concurrency: int, sample: str) -> None:
    """(child) Send ``count`` messages over ``concurrency`` connections; print the JSON result."""
    work = iter(_messages(sample, count))
    loop = _raw if kind == "raw" else _aiosmtplib

    async def main() -> int:
        done = await asyncio.gather(*(loop(port, work) for _ in range(concurrency)))
        return sum(done)

    started = time.perf_counter()
    sent = asyncio.run(main())
    json.dump({"sent": sent, "seconds": time.perf_counter() - started}, sys.stdout)
