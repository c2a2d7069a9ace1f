"""`contact edit`: one transaction of changes to a contact, each written to its activity log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, select

from lettr_cli import ledger
from lettr_cli.addressing.addresses import parse_address
from lettr_cli.audience import activity, groups
from lettr_cli.audience.contacts import (
    NEEDS_FORCE,
    check_status,
    find_contact,
    folded_values,
    parse_assignments,
)
from lettr_cli.audience.properties import all_properties
from lettr_cli.errors import ResourceAlreadyExists, ValidationError
from lettr_cli.store.tables import Contact, Suppression
from lettr_cli.store.types import utcnow


@dataclass
class ContactChanges:
    email: str | None = None
    status: str | None = None
    force: bool = False
    assignments: Sequence[str] = ()
    unset: Sequence[str] = ()
    add_lists: Sequence[str] = ()
    remove_lists: Sequence[str] = ()
    add_topics: Sequence[str] = ()
    remove_topics: Sequence[str] = field(default_factory=tuple)


def edit_contact(session: Session, email: str, changes: ContactChanges) -> Contact:
    """Apply ``changes`` to the contact, all or nothing."""
    contact = find_contact(session, email)
    if changes.email is not None:
        _change_email(session, contact, changes.email)
    if changes.status is not None:
        _change_status(session, contact, check_status(changes.status), force=changes.force)
    _change_properties(session, contact, changes.assignments, changes.unset)
    for kind, added, removed in (
        (groups.LISTS, changes.add_lists, changes.remove_lists),
        (groups.TOPICS, changes.add_topics, changes.remove_topics),
    ):
        for group in groups.find_all(session, kind, added):
            groups.join(session, kind, group, contact, log=True)
        for group in groups.find_all(session, kind, removed):
            groups.leave(session, kind, group, contact)
    contact.updated_at = utcnow()
    session.add(contact)
    return contact


def _change_email(session: Session, contact: Contact, new: str) -> None:
    address = parse_address(new)
    if address.key != contact.email_key:
        other = session.exec(select(Contact).where(Contact.email_key == address.key)).first()
        if other is not None:
            raise ResourceAlreadyExists(f"another contact has the address '{other.email}'")
    if address.email != contact.email:
        activity.record(
            session, contact.id, activity.EMAIL_CHANGED, f"{contact.email} → {address.email}"
        )
        contact.email, contact.email_key = address.email, address.key


def _change_status(session: Session, contact: Contact, status: str, *, force: bool) -> None:
    suppression = session.get(Suppression, contact.email_key)
    if status == "subscribed" and not force:
        if contact.status in NEEDS_FORCE:
            raise ValidationError.field(
                "status",
                f"{contact.email} is {contact.status}; re-subscribing it needs --force "
                "(be sure the address works and the person wants your mail)",
                reason="resubscribe_needs_force",
                email=contact.email,
                status=contact.status,
            )
        if suppression is not None:
            raise ValidationError.field(
                "status",
                f"{contact.email} opted out ({suppression.status}) before it was deleted; "
                "re-subscribing it needs --force",
                reason="resubscribe_needs_force",
                email=contact.email,
                status=suppression.status,
            )
    if status == "subscribed" and suppression is not None:
        ledger.lift_suppression(session, suppression.email_key)
    ledger.change_status(session, contact, status)


def _change_properties(
    session: Session, contact: Contact, assignments: Sequence[str], unset: Sequence[str]
) -> None:
    if not assignments and not unset:
        return
    definitions = all_properties(session)
    values = parse_assignments(definitions, assignments)
    unknown = [name for name in unset if name not in definitions]
    if unknown:
        raise ValidationError.field("properties", f"unknown property {', '.join(unknown)}")
    properties = dict(contact.properties)
    for name, value in values.items():
        if name not in properties:
            activity.record(session, contact.id, activity.PROPERTY_SET, f"{name} = {value!r}")
        elif properties[name] != value:
            activity.record(
                session,
                contact.id,
                activity.PROPERTY_CHANGED,
                f"{name}: {properties[name]!r} → {value!r}",
            )
        properties[name] = value
    for name in unset:
        if name in properties:
            activity.record(session, contact.id, activity.PROPERTY_CLEARED, name)
            del properties[name]
    contact.properties = properties
    contact.properties_folded = folded_values(properties)
