"""Who can be sent to, counted per list and per segment: subscribed contacts, each once (what the
wizard shows beside each list and segment, and what a campaign to that list or segment alone
would go to).

These are new figures beside the older ones, which count contacts of every status:
``contacts_count`` of ``list``/``segment`` JSON and ``segment preview`` keep their meaning.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from lettr_cli.audience.lookups import list_by_id, segment_by_id
from lettr_cli.audience.segments.resolve import count, segment_clause
from lettr_cli.audience.segments.sql import Clause
from lettr_cli.store.tables import Contact, ContactList, ListMember, Segment

SUBSCRIBED = "subscribed"


def subscribed() -> Clause:
    """The contacts a campaign may go to (DESIGN "Sending engine": ``subscribed`` only)."""
    return col(Contact.status) == SUBSCRIBED


def subscribed_per_list(session: Session, list_ids: Sequence[str] | None = None) -> dict[str, int]:
    """For each list (every list when ``list_ids`` is None), its subscribed members; an unknown
    id is ``not_found``."""
    if list_ids is None:
        ids = list(session.exec(select(ContactList.id)))
    else:
        ids = [list_by_id(session, list_id).id for list_id in dict.fromkeys(list_ids)]
    query = (
        select(ListMember.list_id, func.count())
        .join(Contact, col(Contact.id) == ListMember.contact_id)
        .where(col(ListMember.list_id).in_(ids), subscribed())
        .group_by(col(ListMember.list_id))
    )
    counted = dict(session.exec(query).all())
    return {list_id: int(counted.get(list_id, 0)) for list_id in ids}


def subscribed_per_segment(
    session: Session, segment_ids: Sequence[str] | None = None
) -> dict[str, int]:
    """For each segment (every segment when ``segment_ids`` is None), its subscribed members as
    its conditions stand now; an unknown id is ``not_found``."""
    if segment_ids is None:
        segments = list(session.exec(select(Segment)))
    else:
        segments = [segment_by_id(session, s) for s in dict.fromkeys(segment_ids)]
    return {
        segment.id: count(session, subscribed() & segment_clause(session, segment))
        for segment in segments
    }
