"""Confirmation mails of an import, queued and sent by the daemon at ``sending.rate``
(issue 19: not hundreds of mails from one command).

``contact import --double-opt-in`` checks the mail (template, sender) before it reads a row,
creates the new contacts ``unverified`` and, in the same transaction, queues one confirmation
per contact created (a confirmation row with no ``sent_at``). ``daemon tick`` then sends the
queue over one connection: each row is reserved (``sent_at`` set, conditional on it being
empty, so a ``resend-confirmation`` meanwhile is not doubled) before its mail goes out; a relay
failure puts the row back and stops the pass, a refused address keeps its row sent.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import col, select

from lettr_cli import ledger
from lettr_cli.audience.properties import all_properties
from lettr_cli.errors import LettrError
from lettr_cli.optin.message import MailSpec, confirmation_template
from lettr_cli.optin.service import Mail, build_mail, check_sender, spec_of
from lettr_cli.store.tables import Confirmation, Contact, table_of
from lettr_cli.store.types import UTCDateTime, utcnow
from lettr_cli.transport.smtp import Relay, RelayFailure, RelaySettings
from lettr_cli.workspace import Workspace

confirmations = table_of(Confirmation)
contacts = table_of(Contact)


def checked_for_import(workspace: Workspace, spec: MailSpec) -> MailSpec:
    """The spec, checked as ``contact add --double-opt-in`` checks it, before an import reads
    a row: its fields, the template (with the properties defined now) and a verified sender."""
    spec = spec.checked()
    RelaySettings.from_settings(workspace.settings())
    check_sender(workspace, spec.from_email)
    with workspace.store.read() as session:
        confirmation_template(session, spec.template, all_properties(session))
    return spec


@dataclass
class Queued:
    """What an import queued: filled in by ``queue_for``'s hook inside the import's transaction."""

    count: int = 0


def queue_for(spec: MailSpec, queued: Queued) -> Any:
    """The import's ``after_write`` hook: one queued confirmation per contact it created
    ``unverified``."""

    def write(conn: Connection, staging: sa.Table, now: datetime) -> None:
        at = sa.bindparam("queued_at", now, type_=UTCDateTime)
        created = (
            sa.select(
                staging.c.id,
                sa.literal(spec.template),
                sa.literal(spec.from_email),
                sa.literal(spec.from_name, sa.String),
                sa.literal(spec.subject),
                sa.literal(spec.redirect_url),
                at,
            )
            .select_from(staging.join(contacts, contacts.c.id == staging.c.id))
            .where(staging.c.contact_id.is_(None), contacts.c.status == ledger.UNVERIFIED)
        )
        columns = ["contact_id", "template", "from_email", "from_name", "subject"]
        result = conn.execute(
            confirmations.insert().from_select([*columns, "redirect_url", "created_at"], created)
        )
        queued.count = result.rowcount

    return write


@dataclass
class QueueResult:
    sent: int = 0
    refused: list[dict[str, str]] = field(default_factory=list)  # {email, reply}
    queued: int = 0  # still waiting after this pass
    relay_failure: str | None = None
    failure: str | None = None  # a mail that could not be built (its template gone…)

    @property
    def anything(self) -> bool:
        return bool(self.sent or self.refused or self.queued or self.failure)

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "refused": self.refused, "queued": self.queued}


def _waiting(workspace: Workspace) -> int:
    with workspace.store.read() as session:
        return len(
            session.exec(
                select(Confirmation.contact_id)
                .join(Contact, col(Contact.id) == col(Confirmation.contact_id))
                .where(col(Confirmation.sent_at).is_(None), Contact.status == ledger.UNVERIFIED)
            ).all()
        )


def _reserve_next(workspace: Workspace) -> tuple[Mail, str, datetime] | None:
    """The next queued confirmation, reserved (``sent_at`` set) with its mail built; None when
    the queue is empty."""
    with workspace.store.write() as session:
        found = session.exec(
            select(Confirmation, Contact)
            .join(Contact, col(Contact.id) == col(Confirmation.contact_id))
            .where(col(Confirmation.sent_at).is_(None), Contact.status == ledger.UNVERIFIED)
            .order_by(col(Confirmation.created_at), col(Confirmation.contact_id))
        ).first()
        if found is None:
            return None
        row, contact = found
        mail = build_mail(
            workspace,
            session,
            spec_of(row),
            email=contact.email,
            contact_id=contact.id,
            values=contact.properties,
        )
        now = utcnow()
        row.sent_at = now
        return mail, contact.id, now


def _release(workspace: Workspace, contact_id: str, reserved: datetime) -> None:
    with workspace.store.write() as session:
        row = session.get(Confirmation, contact_id)
        if row is not None and row.sent_at == reserved:
            row.sent_at = None


async def send_queued(
    workspace: Workspace,
    *,
    stop: asyncio.Event | None = None,
    deadline: float | None = None,
) -> QueueResult:
    """Send the queued confirmation mails, one connection, at most ``sending.rate`` a second,
    until the queue is empty, ``stop`` is set or ``deadline`` (``time.monotonic()``) passes."""
    stop = stop or asyncio.Event()
    result = QueueResult()
    if not await asyncio.to_thread(_waiting, workspace):
        return result  # the usual case: a read, and no write lock taken
    rate = float(workspace.settings()["sending.rate"] or 0)
    gap = 1 / rate if rate > 0 else 0.0
    async with AsyncExitStack() as stack:
        relay: Relay | None = None
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            try:
                reserved = await asyncio.to_thread(_reserve_next, workspace)
            except LettrError as error:
                result.failure = str(error)
                break
            if reserved is None:
                break
            mail, contact_id, at = reserved
            try:
                if relay is None:
                    settings = RelaySettings.from_settings(workspace.settings())
                    relay = await stack.enter_async_context(Relay(settings))
                outcome = await relay.send(mail.sender, mail.recipient, mail.message)
            except RelayFailure as exc:
                await asyncio.to_thread(_release, workspace, contact_id, at)
                result.relay_failure = exc.reply
                break
            if outcome.delivered:
                result.sent += 1
            else:
                result.refused.append({"email": mail.recipient, "reply": outcome.reply})
            if gap:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=gap)
    result.queued = await asyncio.to_thread(_waiting, workspace)
    return result
