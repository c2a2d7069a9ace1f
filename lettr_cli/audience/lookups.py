"""Contacts, lists, topics, segments and properties by exact id (``not_found`` otherwise), and
as pages (rows and total) in a stable order, for every face. People name them by email or name
through each part's ``find_*``; these are for faces that hold ids (the HTTP API, the wizard)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from lettr_cli.audience.contacts import CONTACT_ORDER, ContactFilter, filtered
from lettr_cli.audience.groups import LISTS, TOPICS
from lettr_cli.store.lookup import by_id
from lettr_cli.store.paging import Page, page
from lettr_cli.store.tables import Contact, ContactList, Property, Segment, Topic


def contact_by_id(session: Session, contact_id: str) -> Contact:
    return by_id(session, Contact, contact_id, "contact")


def list_by_id(session: Session, list_id: str) -> ContactList:
    return by_id(session, ContactList, list_id, LISTS.noun)


def topic_by_id(session: Session, topic_id: str) -> Topic:
    return by_id(session, Topic, topic_id, TOPICS.noun)


def segment_by_id(session: Session, segment_id: str) -> Segment:
    return by_id(session, Segment, segment_id, "segment")


def property_by_id(session: Session, property_id: str) -> Property:
    return by_id(session, Property, property_id, "property")


def contacts_page(
    session: Session,
    chosen: ContactFilter | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> Page[Contact]:
    """Contacts matching ``chosen`` (every contact by default), oldest first, as
    ``contact list`` orders them."""
    query = filtered(session, chosen or ContactFilter())
    return page(session, query, order_by=CONTACT_ORDER, limit=limit, offset=offset)


def lists_page(session: Session, *, limit: int | None = None, offset: int = 0) -> Page[ContactList]:
    return page(session, select(ContactList), order_by=_by_name(ContactList), limit=limit,
                offset=offset)  # fmt: skip


def topics_page(session: Session, *, limit: int | None = None, offset: int = 0) -> Page[Topic]:
    return page(session, select(Topic), order_by=_by_name(Topic), limit=limit, offset=offset)


def segments_page(
    session: Session, *, list_id: str | None = None, limit: int | None = None, offset: int = 0
) -> Page[Segment]:
    """Segments by name; with ``list_id``, only those scoped to that list (``not_found`` when
    there is no such list)."""
    query = select(Segment)
    if list_id is not None:
        query = query.where(Segment.list_id == list_by_id(session, list_id).id)
    return page(session, query, order_by=_by_name(Segment), limit=limit, offset=offset)


def properties_page(
    session: Session, *, limit: int | None = None, offset: int = 0
) -> Page[Property]:
    return page(session, select(Property), order_by=_by_name(Property), limit=limit, offset=offset)


def _by_name(model: Any) -> tuple[Any, ...]:
    """By name, as the CLI lists them (names are unique; the id only makes the order total)."""
    return (col(model.name), col(model.id))
