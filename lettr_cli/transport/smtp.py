"""The one module that speaks SMTP: a connection to the relay with explicit TLS, AUTH and
timeouts, and the outcome of each message as a reply class.

Relay-level failures (refused connection, TLS or STARTTLS failure, AUTH failure, a refused
sender, throttling) raise ``RelayFailure``: they say nothing about the recipient.

Every wait on the relay is bounded: each command by ``smtp.timeout``, the reply to the final
dot by ``smtp.data_timeout``.

One message at a time per connection (DESIGN: at most one row per connection can end in
doubt). When the relay offers PIPELINING (RFC 2920), MAIL, RCPT and DATA of that one message go
out in one write and their replies are read in order; the content follows the 354. Without it,
each command waits for its reply. Either way a reply means the same thing at the same stage.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from types import TracebackType

from lettr_cli.errors import ValidationError
from lettr_cli.settings import Settings
from lettr_cli.transport.client import Connection, Disconnected, Refused, Unsupported
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
        self.client: Connection | None = None
        self.broken = False  # the connection was lost; open a new Relay

    @property
    def pipelining(self) -> bool:
        return self.client is not None and self.client.offers("PIPELINING")

    async def __aenter__(self) -> Relay:
        settings = self.settings
        where = f"{settings.host}:{settings.port}"
        try:
            self.client = await Connection.open(
                settings.host, settings.port, timeout=settings.timeout, security=settings.security
            )
        except Refused as exc:
            if exc.step == "greeting":
                raise RelayFailure(f"{where} refused the connection: {exc.reply}") from None
            raise RelayFailure(
                f"cannot connect to {where} ({settings.security}): {exc.step} refused: {exc.reply}"
            ) from None
        except (Unsupported, OSError, TimeoutError) as exc:
            reason = str(exc) or f"no answer within {settings.timeout:g} s"
            raise RelayFailure(
                f"cannot connect to {where} ({settings.security}): {reason}"
            ) from None
        if settings.username:
            try:
                await self.client.login(settings.username, settings.password or "")
            except Refused as exc:
                self.close()
                raise RelayFailure(f"{where} refused AUTH: {exc.reply}") from None
            except (Unsupported, OSError, TimeoutError) as exc:
                self.close()
                raise RelayFailure(f"{where} AUTH failed: {exc}") from None
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.client is not None and not self.broken:
            self.broken = True
            await self.client.quit()

    def close(self) -> None:
        """Close the connection at once (it is out of step, or no longer wanted)."""
        self.broken = True
        if self.client is not None:
            self.client.close()

    async def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        """Send one message; recipient-level replies become an ``Outcome``.

        A connection lost (or a timeout) before the server answered MAIL FROM is no attempt at
        all (``unanswered``); later but before the server's 354 it is a soft failure that says
        nothing about the recipient (``connection_lost``); after the 354 the message may have
        arrived, so the outcome is ``unknown``. Either way the connection is closed.
        """
        if self.broken or self.client is None:
            raise RelayFailure("the connection to the relay was lost")
        try:
            refused = await self._envelope(self.client, sender, recipient)
            if refused is not None:
                return refused
            return await self._content(self.client, recipient, message)
        except asyncio.CancelledError:
            # Cut off mid-transaction (a drain that ran out): the connection is out of step,
            # and a polite QUIT would wait on a server that has not answered yet.
            self.close()
            raise

    async def _envelope(self, client: Connection, sender: str, recipient: str) -> Outcome | None:
        """MAIL, RCPT and DATA up to the server's 354; an ``Outcome`` if it goes no further."""
        utf8 = not (sender.isascii() and recipient.isascii())
        unsendable = _unsendable(client, sender, recipient, utf8=utf8)
        if unsendable is not None:
            return unsendable
        mail = b"MAIL FROM:<%s>%s\r\n" % (sender.encode(), b" SMTPUTF8" if utf8 else b"")
        rcpt = b"RCPT TO:<%s>\r\n" % recipient.encode()
        pipelined = self.pipelining
        try:
            client.write(mail + rcpt + b"DATA\r\n" if pipelined else mail)
            mailed = await client.reply()
        except _LOST as exc:
            lost = self._lost(recipient, f"connection lost before MAIL FROM was answered: {exc}")
            return replace(lost, unanswered=True)
        rcpted: Reply | None = None
        started: Reply | None = None
        try:
            if pipelined:
                rcpted, started = await client.reply(), await client.reply()
                if started.code == 354 and not _accepted(mailed, rcpted):
                    # RFC 2920: a 354 after a refused command still wants its end of data.
                    started = await client.command(b".", self.settings.data_timeout)
            elif mailed.code == 250:
                rcpted = await client.command(rcpt.removesuffix(b"\r\n"))
                if rcpted.code in (250, 251):
                    started = await client.command(b"DATA")
        except _LOST as exc:
            if mailed.code != 250:
                self.close()
                raise RelayFailure(f"the relay refused the sender {sender}: {mailed}") from None
            return self._lost(recipient, f"connection lost before DATA was accepted: {exc}")
        if mailed.code != 250:
            await self._reset()
            raise RelayFailure(f"the relay refused the sender {sender}: {mailed}")
        assert rcpted is not None
        if rcpted.code not in (250, 251):
            return await self._refused(recipient, rcpted, "rcpt")
        assert started is not None
        if started.code != 354:
            return await self._refused(recipient, started, "data")
        return None

    async def _content(self, client: Connection, recipient: str, message: bytes) -> Outcome:
        # From here on the server may keep the message even if its answer never reaches us.
        try:
            client.write(_DOT_LINE.sub(b"..", message) + _end_of_data(message))
            response = await client.reply(self.settings.data_timeout)
        except _LOST as exc:
            self.close()
            return Outcome(
                recipient, ReplyClass.UNKNOWN, f"connection lost after DATA was accepted: {exc}"
            )
        if response.code != 250:
            return await self._refused(recipient, response, "data")
        return Outcome(recipient, ReplyClass.DELIVERED, str(response))

    async def _refused(self, recipient: str, reply: Reply, stage: str) -> Outcome:
        kind = classify(reply, stage=stage)
        await self._reset()
        if kind is ReplyClass.RELAY:
            raise RelayFailure(f"the relay is throttling: {reply}")
        counts = counts_against_contact(reply, stage=stage)
        return Outcome(recipient, kind, str(reply), counts_against_contact=counts)

    def _lost(self, recipient: str, reply: str) -> Outcome:
        self.close()
        return Outcome(recipient, ReplyClass.SOFT, reply, connection_lost=True)

    async def _reset(self) -> None:
        if self.broken or self.client is None:
            return
        try:
            await self.client.command(b"RSET")
        except _LOST:
            self.close()


def _unsendable(client: Connection, sender: str, recipient: str, *, utf8: bool) -> Outcome | None:
    """Why the message cannot be offered to this relay at all, if it cannot."""
    # RFC 6531: an address beyond ASCII needs the relay's SMTPUTF8 and the MAIL parameter.
    if utf8 and not client.offers("SMTPUTF8"):
        needs = recipient if not recipient.isascii() else sender
        reason = f"not sent: the relay does not offer SMTPUTF8, which {needs} needs"
        return Outcome(recipient, ReplyClass.PERMANENT, reason, unsendable=True)
    if _BREAKS.search(sender + recipient):
        reason = "not sent: an address holds a line break or angle bracket"
        return Outcome(recipient, ReplyClass.PERMANENT, reason, unsendable=True)
    return None


def _accepted(mailed: Reply, rcpted: Reply | None) -> bool:
    return mailed.code == 250 and rcpted is not None and rcpted.code in (250, 251)


_LOST = (Disconnected, OSError, TimeoutError)
_BREAKS = re.compile(r"[\r\n<>]")
_DOT_LINE = re.compile(rb"(?m)^\.")


def _end_of_data(message: bytes) -> bytes:
    return b".\r\n" if message.endswith(b"\r\n") else b"\r\n.\r\n"
