"""`campaign test`: real messages to a few addresses, before the real send (reference §4).

They go through the configured relay over one connection, from a verified domain, DKIM-signed,
with ``[Test]`` in the subject and ``test`` tokens in every link; they are never counted. At
most 10 addresses a minute per store, counted in the store so that processes share the limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from lettr_cli.addressing.addresses import parse_address, smtp_address
from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.campaigns.rendering import composer_for, render_as_test
from lettr_cli.errors import (
    RateLimitExceeded,
    TransmissionFailed,
    ValidationError,
)
from lettr_cli.store.tables import SentTestEmail
from lettr_cli.store.types import utcnow
from lettr_cli.transport.smtp import Relay, RelayFailure, RelaySettings
from lettr_cli.workspace import Workspace

PER_MINUTE = 10
MAX_ADDRESSES = PER_MINUTE


@dataclass
class TestSendResult:
    __test__ = False  # not a pytest test class

    sent: list[str] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "refused": self.refused}


@dataclass(frozen=True)
class _Prepared:
    sender: str
    messages: list[tuple[str, bytes]]  # (address for SMTP, signed bytes)


def _prepare(workspace: Workspace, ref: str, to: Sequence[str], as_email: str | None) -> _Prepared:
    from lettr_cli.domains.service import require_verified_sender, sign_as_sender

    if not to:
        raise ValidationError.field("to", "name at least one address with --to")
    if len(to) > MAX_ADDRESSES:
        raise ValidationError.field("to", f"at most {MAX_ADDRESSES} addresses per test send")
    addresses = list(dict.fromkeys(parse_address(a, "to").email for a in to))
    settings = workspace.settings()
    RelaySettings.from_settings(settings)  # refuses now when no relay is configured
    with workspace.store.write() as session:
        campaign = find_campaign(session, ref)
        composer = composer_for(session, campaign, settings)
        require_verified_sender(workspace, composer.content.from_email)
        _, rendered, links = render_as_test(session, composer, campaign, as_email)
        _reserve(session, addresses)
    messages = [
        (
            smtp_address(address),
            sign_as_sender(
                workspace,
                composer.content.from_email,
                composer.message_bytes(rendered, smtp_address(address), links, test=True),
            ),
        )
        for address in addresses
    ]
    return _Prepared(sender=smtp_address(composer.content.from_email), messages=messages)


def _reserve(session: Session, addresses: list[str]) -> None:
    since = utcnow() - timedelta(minutes=1)
    recent = session.exec(
        select(func.count()).select_from(SentTestEmail).where(col(SentTestEmail.at) > since)
    ).one()
    if int(recent) + len(addresses) > PER_MINUTE:
        raise RateLimitExceeded(
            f"test sends are limited to {PER_MINUTE} addresses a minute per store; "
            f"{int(recent)} were sent in the last minute. Try again shortly."
        )
    now = utcnow()
    for address in addresses:
        session.add(SentTestEmail(at=now, email=address))


async def send_tests(
    workspace: Workspace, ref: str, to: Sequence[str], as_email: str | None = None
) -> TestSendResult:
    """Send the campaign as a test to each address over one connection to the relay."""
    prepared = _prepare(workspace, ref, to, as_email)
    result = TestSendResult()
    try:
        async with Relay(RelaySettings.from_settings(workspace.settings())) as relay:
            for address, message in prepared.messages:
                outcome = await relay.send(prepared.sender, address, message)
                if outcome.delivered:
                    result.sent.append(address)
                else:
                    result.refused.append({"email": address, "reply": outcome.reply})
    except RelayFailure as exc:
        raise TransmissionFailed(exc.reply) from None
    return result
