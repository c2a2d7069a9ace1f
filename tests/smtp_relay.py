"""The one SMTP relay of the tests: aiosmtpd on a free loopback port, scripted by the test.

A ``Relay`` keeps every message it accepts (``messages``: sender, recipients, raw bytes; the
MAIL parameters, the SMTPUTF8 flag and the TLS version of each alongside) and a ``log`` of what it
answered each recipient. What it answers is the test's script, changeable while it runs:

- ``mail_reply`` / ``rcpt_all`` / ``data_all``: the reply to every MAIL, RCPT or final dot;
  ``rcpt`` / ``data``: the reply to the RCPT or final dot of one address;
- ``drop_at_rcpt`` / ``drop_at_data``: close the connection, unanswered, at that address's RCPT
  or final dot; ``messages_per_connection``: a connection's MAIL after that many closes it,
  unanswered;
- ``stall(...)``: a command that waits, unanswered, until the test releases it (or for a bound);
- ``slow``: seconds before each final dot is answered;
- ``after`` / ``then``: change the script once ``after`` messages have arrived;
- ``at(stage, action)``: run ``action`` once, before answering the Nth command of a stage;
- set up by the constructor: AUTH required (``auth``), SMTPUTF8 offered or not, PIPELINING
  offered (the default, as Postfix does) or not (``pipelining=False``), implicit TLS or STARTTLS
  (``tls``, ``starttls``), or a greeting that refuses every connection (``greeting``). aiosmtpd
  reads pipelined commands one after the other, so offering PIPELINING is only the keyword.
"""

from __future__ import annotations

import asyncio
import email
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

ACCEPTED = "250 2.0.0 Message accepted"
STALL_BOUND = 240.0  # seconds: a stall ends on its own after this (the client gave up long before)


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(eq=False)
class Stall:
    """Commands of ``stage`` (``rcpt`` or ``data``: the final dot) that wait unanswered until
    ``release`` is set: the ``nth`` one (1-based, counted over all connections), every one
    ``beyond`` the first N, or the one for ``address``. ``entered`` is set when one waits, and
    ``addresses`` names them. Once released it answers ``reply``, or goes on as scripted; with
    ``keep`` the message is kept before it waits (the client cannot know it arrived)."""

    stage: str
    nth: int | None = None
    beyond: int | None = None
    address: str | None = None
    keep: bool = False
    reply: str | None = None
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    addresses: list[str] = field(default_factory=list)

    def matches(self, number: int, address: str) -> bool:
        if self.nth is not None:
            return number == self.nth
        if self.beyond is not None:
            return number > self.beyond
        return address == self.address


class Relay:
    """A scriptable SMTP relay on loopback (see the module's docstring); a context manager."""

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        smtputf8: bool = False,
        tls: ssl.SSLContext | None = None,
        starttls: ssl.SSLContext | None = None,
        greeting: str | None = None,
        pipelining: bool = True,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        # How it serves, read at each start: AUTH required with this (user, password); SMTPUTF8
        # offered; implicit TLS or STARTTLS required before MAIL with this context; a greeting
        # that refuses every connection.
        self.auth, self.smtputf8, self.tls, self.starttls = auth, smtputf8, tls, starttls
        self.greeting = greeting
        self.pipelining = pipelining
        self._controller: Any = None
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # What arrived.
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.envelopes: list[tuple[list[str], bool]] = []  # (MAIL parameters, SMTPUTF8)
        self.tls_versions: list[str | None] = []  # None: plain text
        self.kept_at: list[tuple[str, float]] = []  # (address, time.monotonic())
        self.log: list[tuple[str, str, str]] = []  # (address, stage, reply or "dropped")
        self.connections = 0  # numbered from 1, one EHLO each
        self.per_connection: dict[int, int] = {}  # connection -> messages it carried
        self.closed = 0  # connections closed at a MAIL by ``messages_per_connection``
        self.counts: Counter[str] = Counter()  # commands seen per stage
        # The script.
        self.mail_reply: str | None = None
        self.rcpt_all: str | None = None
        self.data_all: str | None = None
        self.rcpt: dict[str, str] = {}
        self.data: dict[str, str] = {}
        self.drop_at_rcpt: set[str] = set()
        self.drop_at_data: set[str] = set()
        self.messages_per_connection: int | None = None
        self.slow = 0.0
        self.after: int | None = None
        self.then: Callable[[Relay], None] | None = None
        self.stalls: list[Stall] = []  # a stall removed from it holds nothing new
        self._every_stall: list[Stall] = []
        self._actions: dict[tuple[str, int], Callable[[], Any]] = {}

    # -- the script ------------------------------------------------------------------------------
    def stall(self, stage: str, **how: Any) -> Stall:
        """Add a ``Stall`` (its fields as keywords) and return it."""
        stalled = Stall(stage, **how)
        self.stalls.append(stalled)
        self._every_stall.append(stalled)
        return stalled

    def at(self, stage: str, action: Callable[[], Any], nth: int = 1) -> None:
        """Run ``action`` (in a thread of its own) before answering the ``nth`` command of
        ``stage`` (``mail``, ``rcpt``, ``data`` or ``quit``)."""
        self._actions[(stage, nth)] = action

    def heal(self) -> None:
        """Answer every command normally again."""
        self.mail_reply = self.rcpt_all = self.data_all = None
        self.then = None

    def forget(self) -> None:
        """Forget every message and log entry, to start over."""
        for kept in (self.messages, self.envelopes, self.tls_versions, self.kept_at, self.log):
            kept.clear()

    # -- what arrived ----------------------------------------------------------------------------
    def delivered_to(self) -> list[str]:
        return sorted(rcpt for _, rcpts, _ in self.messages for rcpt in rcpts)

    def received(self) -> Counter[str]:
        """Messages kept per address."""
        return Counter(rcpt for _, rcpts, _ in list(self.messages) for rcpt in rcpts)

    def arrived(self) -> list[tuple[str, list[str], EmailMessage]]:
        """The messages kept, parsed."""
        out = []
        for sender, rcpts, data in self.messages:
            message = email.message_from_bytes(data, policy=policy.default)
            assert isinstance(message, EmailMessage)
            out.append((sender, rcpts, message))
        return out

    # -- running ---------------------------------------------------------------------------------
    def start(self) -> Relay:
        self._stopping.clear()
        if self.greeting is not None:
            self._start_refusing()
            return self
        from aiosmtpd.controller import Controller

        self.port = free_port()
        options: dict[str, Any] = {"enable_SMTPUTF8": self.smtputf8}
        if self.auth is not None:
            options.update(
                authenticator=self._authenticate, auth_require_tls=False, auth_required=True
            )
        if self.tls is not None:
            options["ssl_context"] = self.tls
        if self.starttls is not None:
            options.update(tls_context=self.starttls, require_starttls=True)
        self._controller = Controller(self, hostname=self.host, port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for stalled in self._every_stall:
            stalled.release.set()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> Relay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_refusing(self) -> None:
        """Answer every connection with the greeting and hang up (no aiosmtpd: it always
        greets with 220)."""
        listener = socket.socket()
        listener.bind((self.host, 0))
        listener.listen()
        listener.settimeout(0.1)
        self._listener = listener
        self.port = int(listener.getsockname()[1])

        def serve() -> None:
            while not self._stopping.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.sendall(f"{self.greeting}\r\n".encode())

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult

        assert self.auth is not None
        user, password = self.auth
        ok = data.login == user.encode() and data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    # -- the aiosmtpd hooks ----------------------------------------------------------------------
    async def _before(self, stage: str) -> None:
        self.counts[stage] += 1
        action = self._actions.pop((stage, self.counts[stage]), None)
        if action is not None:
            await asyncio.to_thread(action)

    def _maybe_switch(self) -> None:
        if self.then is not None and self.after is not None and len(self.messages) >= self.after:
            switch, self.then = self.then, None
            switch(self)

    async def _stalled(self, stage: str, address: str, envelope: Any, server: Any) -> str | None:
        """Wait if a stall matches; its reply, if it has one."""
        number = self.counts[stage]
        for stalled in self.stalls:
            if stalled.stage != stage or not stalled.matches(number, address):
                continue
            stalled.addresses.append(address)
            if stalled.keep:
                self._keep(envelope, server, session=None)
            stalled.entered.set()
            limit = time.monotonic() + STALL_BOUND
            while not stalled.release.is_set() and time.monotonic() < limit:
                await asyncio.sleep(0.01)
            if self._stopping.is_set():
                return "421 closing"
            return stalled.reply
        return None

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        session.lettr_connection = self.connections
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        await self._before("mail")
        session.lettr_mails = getattr(session, "lettr_mails", 0) + 1
        limit = self.messages_per_connection
        if limit is not None and session.lettr_mails > limit:
            self.closed += 1
            server.transport.close()
            return "421 closing"  # never reaches the client
        self._maybe_switch()
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        await self._before("rcpt")
        reply = await self._stalled("rcpt", address, envelope, server)
        if reply is not None:
            return reply
        self._maybe_switch()
        if self.rcpt_all:
            self.log.append((address, "rcpt", self.rcpt_all))
            return self.rcpt_all
        if address in self.drop_at_rcpt:
            self.log.append((address, "rcpt", "dropped"))
            server.transport.close()
            return "421 closing"
        reply = self.rcpt.get(address)
        if reply:
            self.log.append((address, "rcpt", reply))
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await self._before("data")
        address = envelope.rcpt_tos[0]
        reply = await self._stalled("data", address, envelope, server)
        if reply is not None:
            return reply
        self._maybe_switch()
        if self.data_all:
            self.log.append((address, "data", self.data_all))
            return self.data_all
        if address in self.drop_at_data:
            self.log.append((address, "data", "dropped"))
            server.transport.close()
            return "421 closing"
        if self.slow:
            await asyncio.sleep(self.slow)
        reply = self.data.get(address)
        if reply:
            self.log.append((address, "data", reply))
            return reply
        self._keep(envelope, server, session)
        return ACCEPTED

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        await self._before("quit")
        return "221 Bye"

    def _keep(self, envelope: Any, server: Any, session: Any) -> None:
        ssl_object = server.transport.get_extra_info("ssl_object")
        self.envelopes.append((list(envelope.mail_options), bool(envelope.smtp_utf8)))
        self.tls_versions.append(None if ssl_object is None else ssl_object.version())
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        self.kept_at.append((envelope.rcpt_tos[0], time.monotonic()))
        self.log.append((envelope.rcpt_tos[0], "data", "250"))
        if session is not None:
            key = getattr(session, "lettr_connection", 0)
            self.per_connection[key] = self.per_connection.get(key, 0) + 1
