"""The one module that speaks SMTP: a connection to the relay with explicit TLS, AUTH and
timeouts, and the outcome of each message as a reply class.

Relay-level failures (refused connection, TLS or STARTTLS failure, AUTH failure, a refused
sender, throttling) raise ``RelayFailure``: they say nothing about the recipient.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from types import TracebackType

import aiosmtplib

from lettr_cli.delivery.replies import Reply, ReplyClass, classify
from lettr_cli.errors import ValidationError
from lettr_cli.settings import Settings


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
                "smtp.host", "no SMTP relay is configured: lettr config set smtp.host HOST"
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
        try:
            await self.client.quit()
        except (aiosmtplib.SMTPException, OSError):
            self.client.close()

    async def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        """Send one message; recipient-level replies become an ``Outcome``."""
        try:
            await self.client.mail(sender)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            raise RelayFailure(
                f"the relay refused the sender {sender}: {exc.code} {exc.message}"
            ) from None
        try:
            await self.client.rcpt(recipient)
            response = await self.client.data(message, timeout=self.settings.data_timeout)
        except aiosmtplib.SMTPResponseException as exc:
            reply = Reply(exc.code, exc.message)
            stage = "data" if isinstance(exc, aiosmtplib.SMTPDataError) else "rcpt"
            kind = classify(reply, stage=stage)
            if kind is ReplyClass.RELAY:
                raise RelayFailure(f"the relay is throttling: {reply}") from None
            await self._reset()
            return Outcome(recipient, kind, str(reply))
        return Outcome(recipient, ReplyClass.DELIVERED, f"{response.code} {response.message}")

    async def _reset(self) -> None:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await self.client.rset()
