"""A local SMTP server that keeps every message it accepts in a Maildir: `lettr sink`, and the
demo's in-process sink. For trying lettr without a relay; it relays nothing.

A message is kept once per recipient, as a local delivery agent keeps it: ``Return-Path``,
``Delivered-To`` and a ``Received`` line on top, then the message as it came (with LF line
ends, as Maildir files have them). Files are written the Maildir way (into ``tmp/``, then
renamed into ``new/``), private from their creation (0600, folders 0700); ``mailbox.Maildir``
and any mail reader open the folder. The server answers 250 only once every copy is on disk
(fsynced unless ``durable`` is off), and 451 when it cannot keep one, so nothing is lost.

Nothing here prints: each accepted message is reported through a callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lettr_cli.errors import ValidationError
from lettr_cli.store.location import PRIVATE_FILE_MODE, make_private_dirs
from lettr_cli.store.types import utcnow

if TYPE_CHECKING:
    from aiosmtpd.smtp import SMTP, Envelope, Session

SUBFOLDERS = ("tmp", "new", "cur")
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Arrival:
    """One accepted message: its envelope, subject, size (bytes as received) and files."""

    at: datetime
    mail_from: str
    recipients: tuple[str, ...]
    subject: str
    size: int
    files: tuple[Path, ...]


Report = Callable[[Arrival], None]


@dataclass
class Sink:
    """A running sink: where it listens and where messages go; ``kept`` counts messages."""

    host: str
    port: int
    maildir: Path
    kept: int = 0
    files: int = 0

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def prepare_maildir(folder: Path) -> Path:
    """``folder`` as a Maildir (``tmp``, ``new``, ``cur``), creating what is missing as 0700.

    An existing folder is used as it is (mail already there stays); a file in the way, or a
    folder lettr cannot write to, is refused with ``validation_error``.
    """
    root = folder.expanduser().absolute()
    try:
        make_private_dirs(root)
        for name in SUBFOLDERS:
            make_private_dirs(root / name)
        probe = root / "tmp" / f".lettr-probe-{os.getpid()}-{threading.get_ident()}"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise ValidationError.field(
            "maildir", f"cannot keep messages in {root}: {exc.strerror or exc}"
        ) from None
    return root


class MaildirWriter:
    """Writes messages into a Maildir, each file 0600 from the moment it exists."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = root
        self.durable = durable
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        host = socket.gethostname() or "localhost"
        self._host = host.replace("/", r"\057").replace(":", r"\072")

    def _unique(self) -> str:
        now = time.time()
        with self._lock:
            count = next(self._counter)
        micro = int((now % 1) * 1_000_000)
        return f"{int(now)}.M{micro}P{os.getpid()}Q{count}.{self._host}"

    def deliver(self, data: bytes) -> Path:
        """Keep ``data`` (one complete message); returns its file in ``new/``."""
        name = self._unique()
        temporary = self.root / "tmp" / name
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if self.durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            final = self.root / "new" / name
            os.rename(temporary, final)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        if self.durable:
            _sync_folder(self.root / "new")
        return final


def _sync_folder(folder: Path) -> None:
    # The rename is durable once the folder's entry is; not every platform can open a folder.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _clean(text: str) -> str:
    """Text fit for a header line: no control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in text).strip()


def _subject(content: bytes) -> str:
    try:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(content)
        return str(headers.get("subject", "") or "")
    except Exception:  # a malformed header is the sender's problem, not a reason to refuse
        return ""


@dataclass
class SinkHandler:
    """The aiosmtpd handler: accept every recipient, keep each message, report it."""

    writer: MaildirWriter
    sink: Sink
    report: Report | None = None
    hostname: str = field(default_factory=lambda: socket.gethostname() or "localhost")

    def copy_for(
        self, content: bytes, *, mail_from: str, rcpt: str, helo: str, peer: str, esmtp: bool
    ) -> bytes:
        """The file for one recipient: the trace headers a local delivery adds, the message."""
        stamp = format_datetime(datetime.now().astimezone())
        queue_id = f"{time.time_ns():x}"
        trace = (
            f"Return-Path: <{_clean(mail_from)}>\n"
            f"Delivered-To: {_clean(rcpt)}\n"
            f"Received: from {_clean(helo) or 'unknown'} ([{_clean(peer)}])\n"
            f"\tby {_clean(self.hostname)} (lettr sink) with {'ESMTP' if esmtp else 'SMTP'} "
            f"id {queue_id}\n"
            f"\tfor <{_clean(rcpt)}>; {stamp}\n"
        )
        body = content.replace(b"\r\n", b"\n")
        return trace.encode("utf-8", "replace") + body

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not content:
            content = envelope.content
        mail_from = envelope.mail_from or ""
        if mail_from == "<>":  # aiosmtpd keeps the null sender (a bounce's) as written
            mail_from = ""
        recipients = tuple(envelope.rcpt_tos)
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer or "")
        copies = [
            self.copy_for(
                content,
                mail_from=mail_from,
                rcpt=rcpt,
                helo=str(session.host_name or ""),
                peer=str(peer),
                esmtp=bool(session.extended_smtp),
            )
            for rcpt in recipients
        ]
        try:
            files = tuple([await asyncio.to_thread(self.writer.deliver, copy) for copy in copies])
        except OSError as exc:
            return f"451 4.3.0 cannot keep the message: {exc.strerror or exc}"
        self.sink.kept += 1
        self.sink.files += len(files)
        if self.report is not None:
            self.report(
                Arrival(
                    at=utcnow(),
                    mail_from=mail_from,
                    recipients=recipients,
                    subject=_subject(content),
                    size=len(content),
                    files=files,
                )
            )
        return f"250 2.0.0 Ok: kept as {files[-1].name if files else 'nothing'}"


async def serve(
    maildir: Path,
    *,
    stop: asyncio.Event,
    host: str = "127.0.0.1",
    port: int = 0,
    report: Report | None = None,
    listening: Callable[[Sink], None] | None = None,
    durable: bool = True,
) -> Sink:
    """Accept mail on ``host``:``port`` (0: an ephemeral port) until ``stop`` is set.

    ``listening`` is called once the socket is bound, with the port it got. A port that cannot
    be bound is refused with ``validation_error``. Returns the sink with its counts.
    """
    from aiosmtpd.smtp import SMTP

    root = prepare_maildir(maildir)
    loop = asyncio.get_running_loop()
    sink = Sink(host=host, port=port, maildir=root)
    handler = SinkHandler(MaildirWriter(root, durable=durable), sink, report)
    connections: list[SMTP] = []

    def connection() -> SMTP:
        smtp = SMTP(
            handler,
            hostname=handler.hostname,
            ident="lettr sink",
            enable_SMTPUTF8=True,
            loop=loop,
        )
        connections.append(smtp)
        return smtp

    try:
        server = await loop.create_server(connection, host=host, port=port)
    except (OSError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValidationError.field("port", f"cannot listen on {sink.address}: {reason}") from None
    try:
        sink.port = int(server.sockets[0].getsockname()[1])
        if listening is not None:
            listening(sink)
        await stop.wait()
    finally:
        server.close()
        for smtp in connections:
            transport: Any = getattr(smtp, "transport", None)
            if transport is not None:
                transport.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=STOP_TIMEOUT)
    return sink


@contextlib.contextmanager
def running_sink(
    maildir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    report: Report | None = None,
    durable: bool = True,
) -> Iterator[Sink]:
    """Run the sink on a thread of its own (its own event loop) while the block runs."""
    ready = threading.Event()
    started: list[Sink | BaseException] = []
    control: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def main() -> None:
        stop = asyncio.Event()
        control.append((asyncio.get_running_loop(), stop))

        def bound(sink: Sink) -> None:
            started.append(sink)
            ready.set()

        await serve(
            maildir,
            stop=stop,
            host=host,
            port=port,
            report=report,
            listening=bound,
            durable=durable,
        )

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            if not ready.is_set():
                started.append(exc)
        finally:
            ready.set()

    thread = threading.Thread(target=thread_main, name="lettr-sink", daemon=True)
    thread.start()
    ready.wait()
    if not started or isinstance(started[0], BaseException):
        thread.join(timeout=STOP_TIMEOUT)
        if started and isinstance(started[0], BaseException):
            raise started[0]
        raise RuntimeError("the sink stopped before it listened")
    try:
        yield started[0]
    finally:
        loop, stop = control[0]
        with contextlib.suppress(RuntimeError):  # the loop may be gone already
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=STOP_TIMEOUT)
