"""Adding a contact with double opt-in, and sending its confirmation again (issue 19).

The mail goes out before the contact is written: everything is checked and the message built
in one short transaction, the relay is spoken to with no transaction open (DESIGN "Sending
engine"), and only a mail the relay accepted leads to a contact, ``unverified``, with its lists,
properties and confirmation state. A relay failure leaves the store as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from lettr_cli import ledger
from lettr_cli.addressing.addresses import parse_address, smtp_address
from lettr_cli.audience import groups
from lettr_cli.audience.contacts import (
    add_contacts,
    contacts_json,
    find_contact,
    parse_assignments,
    suppressions,
)
from lettr_cli.audience.properties import all_properties
from lettr_cli.errors import (
    LettrError,
    RateLimitExceeded,
    ResourceAlreadyExists,
    TransmissionFailed,
    ValidationError,
)
from lettr_cli.optin.message import MailSpec, confirmation_bytes, confirmation_template
from lettr_cli.signing import keys
from lettr_cli.store.tables import Confirmation, Contact
from lettr_cli.store.types import new_id, utcnow
from lettr_cli.transport.smtp import Relay, RelayFailure, RelaySettings
from lettr_cli.workspace import Workspace

RESEND_INTERVAL = timedelta(minutes=10)
CONFIRM_PATH = "/confirm/"


@dataclass(frozen=True)
class Mail:
    sender: str  # the envelope sender
    recipient: str
    message: bytes  # signed


def confirmation_url(workspace: Workspace, session: Session, contact_id: str) -> str:
    """``tracking.base_url`` + ``/confirm/`` + a token for the contact, valid for
    ``optin.token_days`` from now. Inside a write session (the first key may be made)."""
    settings = workspace.settings()
    expires = utcnow() + timedelta(days=settings.integer("optin.token_days"))
    token = keys.signer(session).for_confirmation(contact_id, expires)
    return str(settings["tracking.base_url"]).rstrip("/") + CONFIRM_PATH + token


def check_sender(workspace: Workspace, from_email: str) -> None:
    from lettr_cli.domains.service import require_verified_sender

    require_verified_sender(workspace, from_email)


def build_mail(
    workspace: Workspace,
    session: Session,
    spec: MailSpec,
    *,
    email: str,
    contact_id: str,
    values: dict[str, Any],
) -> Mail:
    from lettr_cli.domains.service import sign_as_sender

    properties = all_properties(session)
    template = confirmation_template(session, spec.template, properties)
    fallbacks = {name: prop.fallback_value for name, prop in properties.items()}
    url = confirmation_url(workspace, session, contact_id)
    message = confirmation_bytes(template, spec, email, values=values, fallbacks=fallbacks, url=url)
    return Mail(
        sender=smtp_address(spec.from_email),
        recipient=smtp_address(email),
        message=sign_as_sender(workspace, spec.from_email, message),
    )


async def _send(workspace: Workspace, mail: Mail) -> None:
    try:
        async with Relay(RelaySettings.from_settings(workspace.settings())) as relay:
            outcome = await relay.send(mail.sender, mail.recipient, mail.message)
    except RelayFailure as exc:
        raise TransmissionFailed(f"the confirmation mail was not sent: {exc.reply}") from None
    if not outcome.delivered:
        raise TransmissionFailed(
            f"the relay refused the confirmation mail to {mail.recipient}: {outcome.reply}"
        )


async def add_with_double_opt_in(
    workspace: Workspace,
    email: str,
    spec: MailSpec,
    *,
    lists: Sequence[str] = (),
    topics: Sequence[str] = (),
    assignments: Sequence[str] = (),
) -> dict[str, Any]:
    """Send ``email`` its confirmation mail, then add it ``unverified`` with its lists, topics
    and properties; returns the Contact object. Refused before anything is sent or written:
    bad fields, an existing or suppressed address, a template without
    ``{{ confirmation_url }}``, a sender whose domain is not verified (``unconfigured_domain``);
    a relay that does not accept the mail is ``transmission_failed`` and adds no contact."""
    spec = spec.checked()
    address = parse_address(email)
    RelaySettings.from_settings(workspace.settings())  # refuses now when no relay is configured
    check_sender(workspace, spec.from_email)
    contact_id = new_id()
    with workspace.store.write() as session:
        _refuse_taken(session, address.key, address.email)
        values = parse_assignments(all_properties(session), assignments)
        groups.find_all(session, groups.LISTS, lists)
        groups.find_all(session, groups.TOPICS, topics)
        mail = build_mail(
            workspace, session, spec, email=address.email, contact_id=contact_id, values=values
        )
    await _send(workspace, mail)
    try:
        return _write_added(
            workspace,
            spec,
            email=address.email,
            contact_id=contact_id,
            lists=lists,
            topics=topics,
            assignments=assignments,
        )
    except LettrError as error:
        # Only a change made while the mail was on its way gets here (the same address added,
        # a list deleted): the link it carries leads to a 404 page.
        error.message = (
            f"{error.message}; the confirmation mail had already gone to {address.email}, "
            "and its link will not confirm anything"
        )
        raise


def _write_added(
    workspace: Workspace,
    spec: MailSpec,
    *,
    email: str,
    contact_id: str,
    lists: Sequence[str],
    topics: Sequence[str],
    assignments: Sequence[str],
) -> dict[str, Any]:
    with workspace.store.write() as session:
        added = add_contacts(
            session,
            [email],
            lists=lists,
            topics=topics,
            assignments=assignments,
            status=ledger.UNVERIFIED,
            contact_id=contact_id,
        )
        session.add(
            Confirmation(
                contact_id=contact_id,
                template=spec.template,
                from_email=spec.from_email,
                from_name=spec.from_name,
                subject=spec.subject,
                redirect_url=spec.redirect_url,
                sent_at=utcnow(),
            )
        )
        return contacts_json(session, added.contacts)[0]


def _refuse_taken(session: Session, key: str, email: str) -> None:
    if session.exec(select(Contact.id).where(Contact.email_key == key)).first() is not None:
        raise ResourceAlreadyExists(f"this contact exists already: {email}")
    kept = suppressions(session, [key]).get(key)
    if kept is not None:
        raise ValidationError.field(
            "email",
            f"{email} opted out ({kept}) before it was deleted; lettr sends it no confirmation "
            "mail (only `lettr contact edit --status subscribed --force` lifts an opt-out)",
            reason="opted_out_before",
            email=email,
            status=kept,
        )


def spec_of(row: Confirmation) -> MailSpec:
    return MailSpec(
        template=row.template,
        from_email=row.from_email,
        subject=row.subject,
        redirect_url=row.redirect_url,
        from_name=row.from_name,
    )


async def resend_confirmation(workspace: Workspace, email: str) -> dict[str, Any]:
    """Send an unverified contact its confirmation mail again, as it was first sent, with a
    new link; at most one per contact per 10 minutes (``rate_limit_exceeded``). A relay
    failure (``transmission_failed``) does not use up the 10 minutes. Returns the Contact."""
    RelaySettings.from_settings(workspace.settings())
    with workspace.store.write() as session:
        contact = find_contact(session, email)
        row = session.get(Confirmation, contact.id)
        if contact.status != ledger.UNVERIFIED:
            raise ValidationError.field(
                "status",
                f"{contact.email} is {contact.status}; only an unverified contact is sent a "
                "confirmation mail",
            )
        if row is None:
            raise ValidationError.field(
                "email",
                f"{contact.email} was not added with --double-opt-in, so lettr has no "
                "confirmation mail to send it again",
            )
        now = utcnow()
        previous = row.sent_at
        if previous is not None and now - previous < RESEND_INTERVAL:
            later = previous + RESEND_INTERVAL
            raise RateLimitExceeded(
                f"a confirmation mail went to {contact.email} at {previous.isoformat()}; "
                f"at most one per 10 minutes: try again after {later.isoformat()}"
            )
        spec = spec_of(row)
        check_sender(workspace, spec.from_email)
        mail = build_mail(
            workspace,
            session,
            spec,
            email=contact.email,
            contact_id=contact.id,
            values=contact.properties,
        )
        row.sent_at = now  # reserved: a second resend meanwhile is refused
        contact_id = contact.id
    try:
        await _send(workspace, mail)
    except TransmissionFailed:
        with workspace.store.write() as session:
            found = session.get(Confirmation, contact_id)
            if found is not None and found.sent_at == now:
                found.sent_at = previous
        raise
    with workspace.store.read() as session:
        return contacts_json(session, [find_contact(session, email)])[0]
