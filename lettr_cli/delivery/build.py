"""One outbox row to the bytes that go on the wire: rendered from the row's snapshot, with its
own tracking tokens, DKIM-signed when the sender's domain has a key, and an envelope sender that
carries a signed token so that a bounce finds its row (DESIGN "Messages")."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from lettr_cli.addressing.addresses import smtp_address
from lettr_cli.content.compose import Composer, Content, Links, Sender
from lettr_cli.domains.keys import DkimKey
from lettr_cli.errors import LettrError
from lettr_cli.signing.tokens import Purpose, Signer

BOUNCE_LOCAL_PART = "bounces"


@dataclass(frozen=True)
class Built:
    envelope_from: str
    recipient: str
    message: bytes


class MessageFactory:
    def __init__(
        self,
        composer: Composer,
        signer: Signer,
        dkim_key: DkimKey | None,
        bounce_domain: str,
    ) -> None:
        from lettr_cli.content.skeleton import Skeleton

        self.composer = composer
        self.skeleton = Skeleton.plan(composer)
        self.signer = signer
        self.dkim_key = dkim_key
        self.bounce_domain = bounce_domain

    def envelope_sender(self, row_id: int) -> str:
        token = self.signer.for_row(Purpose.BOUNCE, row_id)
        return f"{BOUNCE_LOCAL_PART}+{token}@{self.bounce_domain}"

    def build(self, row_id: int, email: str, values: dict[str, object]) -> Built:
        """The message for one row; raises ``ValidationError`` when its values cannot render."""

        def token(purpose: Purpose) -> str:
            return self.signer.for_row(purpose, row_id)

        recipient = smtp_address(email)
        message = None
        if self.skeleton is not None:
            message = self.skeleton.message(email, recipient, values, token)
        if message is None:
            links = Links(base_url=self.composer.sender.base_url, token_for=token)
            rendered = self.composer.render(email, values, links)
            message = self.composer.message_bytes(rendered, recipient, links, test=False)
        if self.dkim_key is not None:
            from lettr_cli.domains.dkim import sign_message

            message = sign_message(message, self.dkim_key)
        return Built(self.envelope_sender(row_id), recipient, message)


@dataclass(frozen=True)
class FactorySpec:
    """What a message factory is made from: plain data, so that worker processes can make
    their own (compiled templates do not cross process boundaries)."""

    content: Content
    sender: Sender
    fallbacks: dict[str, str | None]
    keys: dict[int, bytes]
    dkim_key: DkimKey | None
    bounce_domain: str

    def factory(self) -> MessageFactory:
        composer = Composer(self.content, self.sender, self.fallbacks)
        return MessageFactory(composer, Signer(self.keys), self.dkim_key, self.bounce_domain)


Row = tuple[int, str, dict[str, Any]]  # (outbox row id, email, merge values)
BuildResult = Built | str  # the message, or why it cannot be built


def build_rows(factory: MessageFactory, rows: Sequence[Row]) -> list[BuildResult]:
    results: list[BuildResult] = []
    for row_id, email, values in rows:
        try:
            results.append(factory.build(row_id, email, values))
        except LettrError as exc:
            results.append(f"the message cannot be built: {exc.message}")
    return results


_worker_factory: MessageFactory | None = None
_worker_error: Exception | None = None  # why this worker has no factory


def _silence() -> None:
    """Point the worker's standard output and error, file descriptors 1 and 2 themselves, at
    the null device: a worker must never write to the terminal, where the wizard draws its
    screen and `campaign send` its progress. What goes wrong reaches the parent as the
    exception of the chunk it happened in (``_build_in_worker``), never as text."""
    quiet = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            os.dup2(quiet, fd)
    finally:
        os.close(quiet)


def _start_worker(spec: FactorySpec) -> None:
    global _worker_factory, _worker_error  # noqa: PLW0603 (one factory per worker process)
    _silence()
    try:
        _worker_factory = spec.factory()
    except Exception as exc:  # raised again with each chunk: the parent gets it
        _worker_error = exc


def _build_in_worker(rows: Sequence[Row]) -> list[BuildResult]:
    if _worker_error is not None:
        raise _worker_error
    assert _worker_factory is not None
    return build_rows(_worker_factory, rows)


class Builder:
    """Builds chunks of messages: in worker processes when the send is large enough to pay
    for starting them and the machine has cores to spare, else on one thread of its own.
    Rendering and signing are CPU work; the event loop keeps the SMTP connections busy."""

    PROCESS_THRESHOLD = 1000  # rows left to send before worker processes are worth it

    def __init__(self, spec: FactorySpec, rows_left: int) -> None:
        cores = os.cpu_count() or 1
        self.executor: Executor
        if rows_left >= self.PROCESS_THRESHOLD and cores >= 2:
            self.executor = ProcessPoolExecutor(
                max_workers=max(1, cores - 1),
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_start_worker,
                initargs=(spec,),
            )
            self.local: MessageFactory | None = None
        else:
            self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lettr-build")
            self.local = spec.factory()

    async def build(self, rows: Sequence[Row]) -> list[BuildResult]:
        loop = asyncio.get_running_loop()
        if self.local is not None:
            return await loop.run_in_executor(self.executor, build_rows, self.local, rows)
        return await loop.run_in_executor(self.executor, _build_in_worker, list(rows))

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
