"""A small SMTP client over asyncio streams: the connection, TLS (implicit or STARTTLS), EHLO,
AUTH, and replies read one at a time, in order. What a message's transaction means is
``smtp.Relay``'s business; this module only speaks the protocol.

Replies are read from the stream in the order the commands were written, so several commands
may go out in one write (RFC 2920 PIPELINING) and their replies be read after it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import socket
import ssl
from functools import cache

from lettr_cli.transport.replies import Reply

MAX_REPLY_LINES = 100


class Disconnected(ConnectionError):
    """The server closed the connection (or sent something that is no SMTP reply)."""


class ReplyTimeout(TimeoutError):
    """No reply within the bound."""


class Refused(Exception):
    """The server answered a setup step (greeting, EHLO, STARTTLS, AUTH) with ``reply``."""

    def __init__(self, step: str, reply: Reply) -> None:
        super().__init__(f"{step}: {reply}")
        self.step = step
        self.reply = reply


class Unsupported(Exception):
    """The server does not offer an extension the settings require (STARTTLS, AUTH)."""


@cache
def local_name() -> str:
    """The name this host gives in EHLO (its fully qualified name, as aiosmtplib gave it)."""
    name = socket.getfqdn()
    return name if name and name.isascii() and "." in name else "localhost.localdomain"


class Connection:
    """One SMTP connection: ``open()`` greets, says EHLO, and secures it as asked."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = timeout
        self.extensions: dict[str, str] = {}  # upper-case keyword -> its parameters

    @classmethod
    async def open(cls, host: str, port: int, *, timeout: float, security: str) -> Connection:
        """Connect, read the greeting (``Refused`` unless 220), EHLO, and with ``starttls``
        upgrade the connection (``Unsupported`` when the server does not offer it)."""
        context = ssl.create_default_context() if security in ("tls", "starttls") else None
        implicit = context if security == "tls" else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                host, port, ssl=implicit, server_hostname=host if implicit else None
            ),
            timeout,
        )
        connection = cls(reader, writer, timeout)
        try:
            greeting = await connection.reply()
            if greeting.code != 220:
                raise Refused("greeting", greeting)
            await connection.ehlo()
            if security == "starttls":
                await connection.starttls(host, context)
        except BaseException:
            connection.close()
            raise
        return connection

    def offers(self, extension: str) -> bool:
        return extension.upper() in self.extensions

    def write(self, data: bytes) -> None:
        if self.writer.is_closing():
            raise Disconnected("the connection is closed")
        self.writer.write(data)

    async def reply(self, timeout: float | None = None) -> Reply:
        """The next reply on the stream, however many lines it has."""
        try:
            # A timeout scope rather than wait_for: no task of its own for every reply.
            async with asyncio.timeout(timeout or self.timeout):
                return await self._read_reply()
        except TimeoutError:
            raise ReplyTimeout(
                f"no reply from the server within {timeout or self.timeout:g} s"
            ) from None

    async def _read_reply(self) -> Reply:
        lines: list[str] = []
        for _ in range(MAX_REPLY_LINES):
            try:
                line = await self.reader.readline()
            except (asyncio.LimitOverrunError, ValueError):
                raise Disconnected("the server sent a line too long for a reply") from None
            if not line.endswith(b"\n"):
                raise Disconnected("the server closed the connection")
            code = line[:3]
            if not code.isdigit() or line[3:4] not in (b" ", b"-", b"\r", b"\n"):
                text = line.decode("utf-8", "replace").strip()
                raise Disconnected(f"the server sent something that is no reply: {text!r}")
            lines.append(line[4:].decode("utf-8", "surrogateescape").strip())
            if line[3:4] != b"-":
                return Reply(int(code), "\n".join(lines))
        raise Disconnected("the server sent a reply of too many lines")

    async def command(self, line: bytes, timeout: float | None = None) -> Reply:
        self.write(line + b"\r\n")
        return await self.reply(timeout)

    async def ehlo(self) -> None:
        name = local_name().encode()
        reply = await self.command(b"EHLO " + name)
        if reply.code != 250:
            helo = await self.command(b"HELO " + name)
            if helo.code != 250:
                raise Refused("EHLO", reply)
            self.extensions = {}
            return
        extensions = {}
        for line in reply.message.split("\n")[1:]:
            keyword, _, parameters = line.partition(" ")
            extensions[keyword.upper()] = parameters
        self.extensions = extensions

    async def starttls(self, host: str, context: ssl.SSLContext | None) -> None:
        if not self.offers("STARTTLS"):
            raise Unsupported("the server does not offer STARTTLS")
        reply = await self.command(b"STARTTLS")
        if reply.code != 220:
            raise Refused("STARTTLS", reply)
        await asyncio.wait_for(
            self.writer.start_tls(context or ssl.create_default_context(), server_hostname=host),
            self.timeout,
        )
        await self.ehlo()

    async def login(self, username: str, password: str) -> None:
        """AUTH with the first mechanism of CRAM-MD5, PLAIN and LOGIN that the server offers
        (aiosmtplib's order); ``Refused`` with the server's reply when it says no."""
        if not self.offers("AUTH"):
            raise Unsupported("the server does not offer AUTH")
        offered = self.extensions["AUTH"].upper().split()
        user, secret = username.encode(), password.encode()
        if "CRAM-MD5" in offered:
            challenge = await self.command(b"AUTH CRAM-MD5")
            if challenge.code == 334:
                digest = hmac.new(secret, base64.b64decode(challenge.message), "md5")
                answer = user + b" " + digest.hexdigest().encode()
                challenge = await self.command(base64.b64encode(answer))
            reply = challenge
        elif "PLAIN" in offered:
            token = base64.b64encode(b"\0" + user + b"\0" + secret)
            reply = await self.command(b"AUTH PLAIN " + token)
        elif "LOGIN" in offered:
            reply = await self.command(b"AUTH LOGIN " + base64.b64encode(user))
            if reply.code == 334:
                reply = await self.command(base64.b64encode(secret))
        else:
            raise Unsupported(f"the server offers no AUTH mechanism lettr knows: {offered}")
        if reply.code != 235:
            raise Refused("AUTH", reply)

    async def quit(self) -> None:
        """QUIT politely (for at most the command timeout), then close."""
        try:
            with contextlib.suppress(OSError, TimeoutError, Disconnected):
                await self.command(b"QUIT")
        finally:
            self.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.wait_closed(), 1.0)

    def close(self) -> None:
        """Close at once, without a word to the server."""
        self.writer.close()
