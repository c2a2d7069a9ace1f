"""Many contacts at once, as Lettr's bulk create takes them (reference §13, §18): rows that fail
are skipped and reported (``index``, ``email``, ``error_code``, ``error``) while the others are
written; every contact that exists afterwards is named with whether this request created it.

New contacts are added as ``contact add`` adds them (opt-out topics joined, opt-outs of deleted
addresses kept). Existing ones join the requested lists; with ``update_existing`` their
properties are merged (given keys overwrite) and their topic choices applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, select

from lettr_cli.addressing.addresses import InvalidAddress, check_address
from lettr_cli.audience import groups
from lettr_cli.audience.contacts import add_contacts
from lettr_cli.audience.editing import ContactChanges, edit_contact
from lettr_cli.audience.properties import InvalidValue, all_properties, coerce
from lettr_cli.errors import ValidationError
from lettr_cli.store.tables import Contact, ContactList, Topic

MAX_ROWS = 1000
SUBSCRIPTIONS = ("opt_in", "opt_out")


@dataclass(frozen=True)
class Row:
    email: str
    properties: Mapping[str, str] = field(default_factory=dict)
    list_ids: Sequence[str] = ()
    topics: Sequence[tuple[str, str]] = ()  # (topic id, opt_in or opt_out)


@dataclass(frozen=True)
class RowError:
    index: int
    email: str | None
    error_code: str
    error: str


@dataclass
class BulkResult:
    created: int = 0
    already_existed: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    contacts: list[tuple[str, str, bool]] = field(default_factory=list)  # id, email, created


class _Skip(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _checked(
    row: Row, session: Session, known: tuple[dict[str, ContactList], dict[str, Topic]]
) -> tuple[str, list[str], list[str], list[str], list[str]]:
    """The row's address key, its assignments, list names, and opt-in and opt-out topic names."""
    lists, topics = known
    try:
        key = check_address(row.email).key
    except InvalidAddress as exc:
        raise _Skip("invalid_email", str(exc)) from None
    definitions = all_properties(session)
    assignments = []
    for name, value in row.properties.items():
        prop = definitions.get(name)
        if prop is None:
            raise _Skip("unknown_property_key", f"unknown property '{name}'")
        try:
            coerce(prop.type, value)
        except InvalidValue as exc:
            raise _Skip("invalid_property_value", f"{name} ({prop.type}): {exc}") from None
        assignments.append(f"{name}={value}")
    missing = [i for i in row.list_ids if i not in lists]
    if missing:
        raise _Skip("unknown_list", f"no list with the id '{missing[0]}'")
    chosen: dict[str, list[str]] = {"opt_in": [], "opt_out": []}
    for topic_id, subscription in row.topics:
        if topic_id not in topics:
            raise _Skip("unknown_topic", f"no topic with the id '{topic_id}'")
        if subscription not in SUBSCRIPTIONS:
            raise _Skip("invalid_topic_subscription", f"'{subscription}' is not opt_in or opt_out")
        chosen[subscription].append(topics[topic_id].name)
    names = [lists[i].name for i in dict.fromkeys(row.list_ids)]
    opt_in = [n for n in dict.fromkeys(chosen["opt_in"]) if n not in chosen["opt_out"]]
    return key, assignments, names, opt_in, list(dict.fromkeys(chosen["opt_out"]))


def bulk_create(session: Session, rows: Sequence[Row], *, update_existing: bool) -> BulkResult:
    """Write every row that passes its checks; the others are reported in ``errors``."""
    if not rows or len(rows) > MAX_ROWS:
        raise ValidationError.field("contacts", f"give 1 to {MAX_ROWS} contacts")
    known = (
        {g.id: g for g in session.exec(select(ContactList))},
        {t.id: t for t in session.exec(select(Topic))},
    )
    result = BulkResult()
    for index, row in enumerate(rows):
        try:
            key, assignments, lists, opt_in, opt_out = _checked(row, session, known)
        except _Skip as skip:
            result.errors.append(RowError(index, row.email or None, skip.code, skip.message))
            continue
        contact = session.exec(select(Contact).where(Contact.email_key == key)).first()
        if contact is None:
            made = add_contacts(session, [row.email], lists=lists, topics=opt_in,
                                assignments=assignments).contacts[0]  # fmt: skip
            if opt_out:  # a topic that new contacts join by default, refused for this one
                edit_contact(session, made.email, ContactChanges(remove_topics=opt_out))
            result.created += 1
            result.contacts.append((made.id, made.email, True))
            continue
        result.already_existed += 1
        before = _state(session, contact)
        changes = ContactChanges(add_lists=_absent(session, groups.LISTS, contact, lists))
        if update_existing:
            changes.assignments = assignments
            changes.add_topics = _absent(session, groups.TOPICS, contact, opt_in)
            changes.remove_topics = tuple(opt_out)
        if changes.add_lists or changes.assignments or changes.add_topics or changes.remove_topics:
            edit_contact(session, contact.email, changes)
            session.flush()
        if _state(session, contact) != before:
            result.updated += 1
        result.contacts.append((contact.id, contact.email, False))
    return result


def _absent(
    session: Session, kind: groups.GroupKind, contact: Contact, names: list[str]
) -> list[str]:
    held = groups.member_ids(session, kind, contact.id)
    return [g.name for g in groups.find_all(session, kind, names) if g.id not in held]


def _state(session: Session, contact: Contact) -> tuple[object, ...]:
    return (
        dict(contact.properties),
        groups.member_ids(session, groups.LISTS, contact.id),
        groups.member_ids(session, groups.TOPICS, contact.id),
    )
