"""Contacts: add, find, list, edit, delete and forget, each change written to the activity log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from lettr_cli import ledger
from lettr_cli.addressing.addresses import Address, lookup_key, parse_address
from lettr_cli.audience import activity, groups
from lettr_cli.audience.contact_rows import STATUSES as STATUSES  # noqa: PLC0414
from lettr_cli.audience.contact_rows import check_status as check_status  # noqa: PLC0414
from lettr_cli.audience.contact_rows import contacts_json as contacts_json  # noqa: PLC0414
from lettr_cli.audience.contact_rows import memberships as memberships  # noqa: PLC0414
from lettr_cli.audience.properties import InvalidValue, all_properties, coerce, folded
from lettr_cli.audience.segments.resolve import find_segment, segment_clause
from lettr_cli.errors import NotFound, ResourceAlreadyExists, ValidationError
from lettr_cli.store.paging import page
from lettr_cli.store.tables import (
    Contact,
    ListMember,
    Property,
    Suppression,
    TopicMember,
)
from lettr_cli.store.types import new_id

OPTED_OUT = ledger.OPTED_OUT
NEEDS_FORCE = ledger.NEEDS_FORCE
# How contacts are listed and paged: oldest first (the casefolded address is unique).
CONTACT_ORDER = (col(Contact.created_at), col(Contact.email_key))


def parse_assignments(
    definitions: dict[str, Property], assignments: Iterable[str]
) -> dict[str, Any]:
    """Typed values from ``k=v`` strings; unknown properties and bad values are refused."""
    values: dict[str, Any] = {}
    for item in assignments:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValidationError.field("properties", f"'{item}' is not of the form name=value")
        prop = definitions.get(name)
        if prop is None:
            raise ValidationError.field(
                "properties",
                f"unknown property '{name}'; define it first with `lettr property create {name}`",
                reason="unknown_property",
                name=name,
            )
        try:
            values[name] = coerce(prop.type, raw)
        except InvalidValue as exc:
            raise ValidationError.field("properties", f"{name} ({prop.type}): {exc}") from None
    return values


def folded_values(properties: dict[str, Any]) -> dict[str, Any]:
    return {k: f for k, v in properties.items() if (f := folded(v)) is not None}


def find_contact(session: Session, email: str) -> Contact:
    contact = session.exec(select(Contact).where(Contact.email_key == lookup_key(email))).first()
    if contact is None:
        raise NotFound(f"no contact with the address '{email.strip()}'")
    return contact


def find_contacts(session: Session, emails: Sequence[str]) -> list[Contact]:
    """Every contact named, in order; unknown addresses are ``not_found``, naming them all."""
    keys = {lookup_key(e): e.strip() for e in emails}
    found = {
        c.email_key: c
        for c in session.exec(select(Contact).where(col(Contact.email_key).in_(keys)))
    }
    missing = [given for key, given in keys.items() if key not in found]
    if missing:
        raise NotFound(f"no contact with the address {', '.join(repr(m) for m in missing)}")
    return [found[key] for key in keys]


@dataclass
class NewContacts:
    contacts: list[Contact]
    opt_out_kept: list[str] = field(default_factory=list)


def add_contacts(
    session: Session,
    emails: Sequence[str],
    *,
    lists: Sequence[str] = (),
    topics: Sequence[str] = (),
    assignments: Sequence[str] = (),
    status: str = "subscribed",
    contact_id: str | None = None,
) -> NewContacts:
    """Add every address, or none: if any exists already, nothing is added and they are named.
    ``contact_id`` gives the one address its id (double opt-in signs it before the contact is
    written)."""
    check_status(status)
    if contact_id is not None and len(emails) != 1:
        raise ValueError("a contact id names one contact")
    addresses: dict[str, Address] = {}
    for raw in emails:
        address = parse_address(raw)
        addresses.setdefault(address.key, address)
    taken = session.exec(select(Contact.email).where(col(Contact.email_key).in_(addresses))).all()
    if taken:
        raise ResourceAlreadyExists(
            f"{'these contacts exist' if len(taken) > 1 else 'this contact exists'} already: "
            + ", ".join(taken)
        )
    values = parse_assignments(all_properties(session), assignments)
    chosen_lists = groups.find_all(session, groups.LISTS, lists)
    chosen_topics = groups.find_all(session, groups.TOPICS, topics)
    auto_topics = [t for t in groups.opt_out_topics(session) if t not in chosen_topics]
    suppressed = suppressions(session, addresses)
    result = NewContacts(contacts=[])
    for key, address in addresses.items():
        kept = suppressed.get(key)
        contact = Contact(
            id=contact_id or new_id(),
            email=address.email,
            email_key=key,
            status=kept or status,
            properties=values,
            properties_folded=folded_values(values),
        )
        session.add(contact)
        session.flush()
        activity.record(session, contact.id, activity.CREATED, "added by hand")
        if kept:
            result.opt_out_kept.append(address.email)
            activity.record(session, contact.id, activity.STATUS_CHANGED, f"opt-out kept: {kept}")
        for name, value in values.items():
            activity.record(session, contact.id, activity.PROPERTY_SET, f"{name} = {value!r}")
        for group in chosen_lists:
            groups.join(session, groups.LISTS, group, contact, log=True)
        for group in [*chosen_topics, *auto_topics]:
            groups.join(session, groups.TOPICS, group, contact, log=True)
        result.contacts.append(contact)
    return result


def suppressions(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """Statuses kept for addresses deleted while opted out: key → status."""
    rows = session.exec(select(Suppression).where(col(Suppression.email_key).in_(list(keys))))
    return {row.email_key: row.status for row in rows}


@dataclass
class ContactFilter:
    status: str | None = None
    list_name: str | None = None
    topic_name: str | None = None
    search: str | None = None
    segment: str | None = None  # members of this segment (its list scope included)


def filtered(session: Session, chosen: ContactFilter) -> SelectOfScalar[Contact]:
    """The contacts matching ``chosen``, as a query to count, page or stream."""
    query = select(Contact)
    if chosen.status:
        query = query.where(Contact.status == check_status(chosen.status))
    if chosen.list_name:
        group = groups.find(session, groups.LISTS, chosen.list_name)
        query = query.where(
            col(Contact.id).in_(select(ListMember.contact_id).where(ListMember.list_id == group.id))
        )
    if chosen.topic_name:
        group = groups.find(session, groups.TOPICS, chosen.topic_name)
        query = query.where(
            col(Contact.id).in_(
                select(TopicMember.contact_id).where(TopicMember.topic_id == group.id)
            )
        )
    if chosen.segment:
        query = query.where(segment_clause(session, find_segment(session, chosen.segment)))
    if chosen.search:
        term = chosen.search.strip().casefold()
        if len(term) > 255:
            raise ValidationError.field("search", "a search is at most 255 characters")
        name_props = [
            p.name
            for p in all_properties(session).values()
            if p.type == "string" and "name" in p.name
        ]
        query = query.where(
            or_(
                col(Contact.email_key).contains(term, autoescape=True),
                *(
                    col(Contact.properties_folded)[name].as_string().contains(term, autoescape=True)
                    for name in name_props
                ),
            )
        )
    return query


def list_contacts(
    session: Session, chosen: ContactFilter, limit: int | None
) -> tuple[list[Contact], int]:
    """A page of matching contacts (oldest first) and how many match in all."""
    found = page(session, filtered(session, chosen), order_by=CONTACT_ORDER, limit=limit or None)
    return found.rows, found.total


def contact_detail(session: Session, contact: Contact) -> dict[str, Any]:
    """The Contact object with its activity log (``contact show``)."""
    body = contacts_json(session, [contact])[0]
    body["activity"] = activity.history(session, contact.id)
    return body


def delete_contacts(session: Session, emails: Sequence[str]) -> list[str]:
    """Delete contacts (all named must exist); opted-out addresses stay suppressed."""
    contacts = find_contacts(session, emails)
    for contact in contacts:
        ledger.keep_opt_out(session, contact)
        session.delete(contact)
    return [c.id for c in contacts]


def held_for(session: Session, email: str) -> tuple[Contact | None, Suppression | None]:
    """What lettr holds for an address: its contact, its suppression entry, or both; holding
    neither is ``not_found``."""
    key = lookup_key(email)
    contact = session.exec(select(Contact).where(Contact.email_key == key)).first()
    entry = session.get(Suppression, key)
    if contact is None and entry is None:
        raise NotFound(f"lettr holds nothing for the address '{email.strip()}'")
    return contact, entry


def forget_contact(session: Session, email: str) -> list[str]:
    """Erase an address on request: the contact, its activity and any suppression entry."""
    contact, entry = held_for(session, email)
    deleted: list[str] = []
    if contact is not None:
        session.delete(contact)  # memberships and the activity log go with it (ON DELETE CASCADE)
        deleted.append(contact.id)
    if entry is not None:
        ledger.lift_suppression(session, entry.email_key)
    return deleted
