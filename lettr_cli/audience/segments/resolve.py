"""Segment membership as a where-clause on ``contacts``: the one way audiences are resolved.

``segment preview``, ``segment show``, ``contact list --segment`` (and ``contact export``) and,
later, campaign audiences all go through :func:`audience_clause`, so they cannot disagree. The
clause is evaluated by the database in one query; no contact is loaded to be filtered in Python.
"""

from __future__ import annotations

from sqlalchemy import and_, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from lettr_cli.audience.segments.model import Groups, from_stored
from lettr_cli.audience.segments.sql import Clause, groups_clause, within_list
from lettr_cli.errors import NotFound
from lettr_cli.store.tables import Contact, Property, Segment

SAMPLE_SIZE = 10


def find_segment(session: Session, name: str) -> Segment:
    segment = session.exec(select(Segment).where(Segment.name == name)).first()
    if segment is None:
        raise NotFound(f"no segment named '{name}'")
    return segment


def property_types(session: Session) -> dict[str, str]:
    return dict(session.exec(select(Property.name, Property.type)).all())


def audience_clause(
    session: Session, groups: Groups, list_id: str | None, *, per_contact: bool = False
) -> Clause:
    """Contacts matching ``groups`` (within the list ``list_id`` when given), any status.
    ``per_contact``: memberships looked up per contact (``sql._membership``)."""
    clause = groups_clause(groups, property_types(session), per_contact=per_contact)
    if not list_id:
        return clause
    return and_(within_list(list_id, per_contact=per_contact), clause)


def segment_clause(session: Session, segment: Segment, *, per_contact: bool = False) -> Clause:
    """The members of a saved segment, as its conditions stand now."""
    return audience_clause(
        session, from_stored(segment.conditions), segment.list_id, per_contact=per_contact
    )


def members(clause: Clause) -> SelectOfScalar[Contact]:
    """The matching contacts, oldest first."""
    return select(Contact).where(clause).order_by(col(Contact.created_at), col(Contact.email_key))


def count(session: Session, clause: Clause) -> int:
    return int(session.exec(select(func.count()).select_from(Contact).where(clause)).one())


def sample(session: Session, clause: Clause, size: int = SAMPLE_SIZE) -> list[str]:
    """The addresses of the first ``size`` members, oldest first."""
    query = (
        select(Contact.email)
        .where(clause)
        .order_by(col(Contact.created_at), col(Contact.email_key))
        .limit(size)
    )
    return list(session.exec(query))
