"""The one module that speaks SMTP: a connection to the relay with explicit TLS, AUTH and
timeouts, and the outcome of each message as a reply class.

Relay-level failures (refused connection, TLS or STARTTLS failure, AUTH failure, a refused
sender, throttling) raise ``RelayFailure``: they say nothing about the recipient.

Every wait on the relay is bounded: each command by ``smtp.timeout``, the reply to the final
dot by ``smtp.data_timeout``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from types import TracebackType

import aiosmtplib

from lettr_cli.errors import ValidationError
from lettr_cli.settings import Settings
from lettr_cli.transport.replies import Reply, ReplyClass, classify, counts_against_contact


@dataclass(frozen=True)
class RelaySettings:
    host: str
    port: int
    security: str  # none | starttls | tls
    username: str | None
    password: str | None
    timeout: float
    data_timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RelaySettings:
        host = settings.text("smtp.host")
        if not host:
            raise ValidationError.field(
                "smtp.host",
                "no SMTP relay is configured: lettr config set smtp.host HOST",
                reason="no_relay",
            )
        return cls(
            host=host,
            port=settings.integer("smtp.port"),
            security=str(settings["smtp.security"]),
            username=settings.text("smtp.username"),
            password=settings.smtp_password,
            timeout=float(settings.integer("smtp.timeout")),
            data_timeout=float(settings.integer("smtp.data_timeout")),
        )


class RelayFailure(Exception):
    """The relay cannot be used now; ``reply`` is what it said (or what went wrong)."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class Outcome:
    recipient: str
    reply_class: ReplyClass
    reply: str
    connection_lost: bool = False  # before the server's 354: retried on a new connection
    # The connection dropped before the server answered anything of this transaction (its
    # MAIL FROM): the connection's fault, retried at once without counting an attempt.
    unanswered: bool = False
    # A soft reply that counts towards the contact's suppression (``counts_against_contact``).
    counts_against_contact: bool = False
    # The message cannot be offered to this relay (an internationalised address, and the
    # relay does not offer SMTPUTF8): the row fails without an attempt.
    unsendable: bool = False

    @property
    def delivered(self) -> bool:
        return self.reply_class is ReplyClass.DELIVERED


class Relay:
    """One SMTP connection, as an async context manager."""

    def __init__(self, settings: RelaySettings) -> None:
        self.settings = settings
        self.client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            timeout=settings.timeout,
            use_tls=settings.security == "tls",
            # starttls: required, never a silent fallback to plain text; none: never tried.
            start_tls=settings.security == "starttls",
        )
        self.broken = False  # the connection was lost; open a new Relay

    async def __aenter__(self) -> Relay:
        where = f"{self.settings.host}:{self.settings.port}"
        try:
            await self.client.connect()
        except aiosmtplib.SMTPResponseException as exc:
            raise RelayFailure(
                f"{where} refused the connection: {exc.code} {exc.message}"
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RelayFailure(
                f"cannot connect to {where} ({self.settings.security}): {exc}"
            ) from None
        if self.settings.username:
            try:
                await self.client.login(self.settings.username, self.settings.password or "")
            except aiosmtplib.SMTPResponseException as exc:
                await self._close()
                raise RelayFailure(f"{where} refused AUTH: {exc.code} {exc.message}") from None
            except aiosmtplib.SMTPException as exc:
                await self._close()
                raise RelayFailure(f"{where} AUTH failed: {exc}") from None
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._close()

    async def _close(self) -> None:
        if self.broken:
            return
        try:
            await self.client.quit()
        except (aiosmtplib.SMTPException, OSError):
            self.client.close()

    async def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        """Send one message; recipient-level replies become an ``Outcome``.

        A connection lost (or a timeout) before the server answered MAIL FROM is no attempt at
        all (``unanswered``); later but before the server's 354 it is a soft failure that says
        nothing about the recipient (``connection_lost``); after the 354 the message may have
        arrived, so the outcome is ``unknown``. Either way the connection is closed.
        """
        if self.broken:
            raise RelayFailure("the connection to the relay was lost")
        try:
            refused = await self._envelope(sender, recipient)
            return refused if refused is not None else await self._content(recipient, message)
        except asyncio.CancelledError:
            # Cut off mid-transaction (a drain that ran out): the connection is out of step,
            # and a polite QUIT would wait on a server that has not answered yet.
            self.broken = True
            self.client.close()
            raise

    async def _envelope(self, sender: str, recipient: str) -> Outcome | None:
        """MAIL, RCPT and DATA up to the server's 354; an ``Outcome`` if it goes no further."""
        # RFC 6531: an address beyond ASCII needs the relay's SMTPUTF8 and the MAIL parameter.
        utf8 = not (sender.isascii() and recipient.isascii())
        try:
            await self._ready()
            if utf8 and not self.client.supports_extension("smtputf8"):
                needs = recipient if not recipient.isascii() else sender
                reason = f"not sent: the relay does not offer SMTPUTF8, which {needs} needs"
                return Outcome(recipient, ReplyClass.PERMANENT, reason, unsendable=True)
            await self._mail(sender, utf8=utf8)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            raise RelayFailure(
                f"the relay refused the sender {sender}: {exc.code} {exc.message}"
            ) from None
        except _LOST as exc:
            lost = self._lost(recipient, f"connection lost before MAIL FROM was answered: {exc}")
            return replace(lost, unanswered=True)
        try:
            await self._rcpt(recipient, utf8=utf8)
            start = await self.client.execute_command(b"DATA")
        except aiosmtplib.SMTPResponseException as exc:
            return await self._refused(recipient, Reply(exc.code, exc.message), "rcpt")
        except _LOST as exc:
            return self._lost(recipient, f"connection lost before DATA was accepted: {exc}")
        if start.code != 354:
            return await self._refused(recipient, Reply(start.code, start.message), "data")
        return None

    async def _content(self, recipient: str, message: bytes) -> Outcome:
        # From here on the server may keep the message even if its answer never reaches us.
        protocol = self.client.protocol
        try:
            assert protocol is not None
            protocol.write(_DOT_LINE.sub(b"..", message) + _end_of_data(message))
            response = await protocol.read_response(timeout=self.settings.data_timeout)
        except (*_LOST, AssertionError) as exc:
            self.broken = True
            self.client.close()
            return Outcome(
                recipient, ReplyClass.UNKNOWN, f"connection lost after DATA was accepted: {exc}"
            )
        if response.code != 250:
            return await self._refused(recipient, Reply(response.code, response.message), "data")
        return Outcome(recipient, ReplyClass.DELIVERED, f"{response.code} {response.message}")

    async def _mail(self, sender: str, *, utf8: bool) -> None:
        # Plain ASCII addresses go out as they are; aiosmtplib's own quoting parses each one
        # with the email package, which costs more than the rest of the command.
        if utf8:
            await self.client.mail(sender, options=["SMTPUTF8"], encoding="utf-8")
            return
        if not _PLAIN.match(sender):
            await self.client.mail(sender)
            return
        reply = await self.client.execute_command(b"MAIL", b"FROM:<%s>" % sender.encode())
        if reply.code != 250:
            raise aiosmtplib.SMTPSenderRefused(reply.code, reply.message, sender)

    async def _rcpt(self, recipient: str, *, utf8: bool) -> None:
        if not _PLAIN.match(recipient):
            await self.client.rcpt(recipient, encoding="utf-8" if utf8 else "ascii")
            return
        reply = await self.client.execute_command(b"RCPT", b"TO:<%s>" % recipient.encode())
        if reply.code not in (250, 251):
            raise aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, recipient)

    async def _ready(self) -> None:
        if self.client.last_ehlo_response is None and self.client.last_helo_response is None:
            await self.client.ehlo()

    async def _refused(self, recipient: str, reply: Reply, stage: str) -> Outcome:
        kind = classify(reply, stage=stage)
        if kind is ReplyClass.RELAY:
            await self._reset()
            raise RelayFailure(f"the relay is throttling: {reply}")
        await self._reset()
        counts = counts_against_contact(reply, stage=stage)
        return Outcome(recipient, kind, str(reply), counts_against_contact=counts)

    def _lost(self, recipient: str, reply: str) -> Outcome:
        self.broken = True
        self.client.close()
        return Outcome(recipient, ReplyClass.SOFT, reply, connection_lost=True)

    async def _reset(self) -> None:
        if self.broken:
            return
        try:
            await self.client.rset()
        except (aiosmtplib.SMTPException, OSError):
            self.broken = True
            self.client.close()


_LOST = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError, TimeoutError)
_PLAIN = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@\-]+$")
_DOT_LINE = re.compile(rb"(?m)^\.")


def _end_of_data(message: bytes) -> bytes:
    return b".\r\n" if message.endswith(b"\r\n") else b"\r\n.\r\n"
