"""Who a campaign goes to: every subscribed contact, or the union of lists, segments and
conditions, de-duplicated, subscribed only (reference §7). Resolved by the same SQL as segments.

``conditions`` are segment conditions kept in the campaign's own audience (stored like a
segment's, ``{"groups": [...]}``): a resend to non-openers keeps "received X and not opened X"
there, so it is evaluated when the resend is prepared, like every audience."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import false, func, or_, true
from sqlmodel import Session, col, select

from lettr_cli.audience import groups
from lettr_cli.audience.counts import subscribed
from lettr_cli.audience.segments.model import from_stored
from lettr_cli.audience.segments.resolve import audience_clause, find_segment, segment_clause
from lettr_cli.audience.segments.sql import Clause, within_list
from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.campaign_rows import audience_body
from lettr_cli.errors import ValidationError
from lettr_cli.store.core_tables import connection_of
from lettr_cli.store.tables import Campaign, Contact, Segment
from lettr_cli.store.types import utcnow

# The order preparing queues recipients in (``delivery.outbox.prepare``), and so the order the
# outbox sends them in: oldest contact first, the id making the order total.
RECIPIENT_ORDER = (col(Contact.created_at), col(Contact.id))


def set_audience(
    session: Session,
    campaign: Campaign,
    *,
    everyone: bool,
    lists: Sequence[str] = (),
    segments: Sequence[str] = (),
) -> Campaign:
    """Replace the audience of a draft."""
    lifecycle.require_editable(campaign, "audience")
    if everyone and (lists or segments):
        raise ValidationError.field("audience", "choose --all, or lists and segments, not both")
    if not everyone and not lists and not segments:
        raise ValidationError.field("audience", "choose --all, or at least one --list or --segment")
    list_ids = [g.id for g in groups.find_all(session, groups.LISTS, lists)]
    segment_ids = list(dict.fromkeys(find_segment(session, name).id for name in segments))
    campaign.audience = {"all": everyone, "lists": list_ids, "segments": segment_ids}
    campaign.updated_at = utcnow()
    session.add(campaign)
    return campaign


def chosen(campaign: Campaign) -> bool:
    audience = campaign.audience
    return bool(
        audience.get("all")
        or audience.get("lists")
        or audience.get("segments")
        or audience.get("conditions")
    )


def recipients_clause(session: Session, campaign: Campaign) -> Clause:
    """Subscribed contacts in the campaign's audience, as a where-clause on ``contacts``."""
    audience = campaign.audience
    return audience_clause_for(
        session,
        everyone=bool(audience.get("all")),
        list_ids=audience.get("lists", []),
        segment_ids=audience.get("segments", []),
        conditions=audience.get("conditions"),
    )


def audience_clause_for(
    session: Session,
    *,
    everyone: bool,
    list_ids: Sequence[str],
    segment_ids: Sequence[str],
    conditions: Mapping[str, Any] | None = None,
) -> Clause:
    """Subscribed contacts of everyone, or of the union of the lists, segments and conditions,
    as a where-clause on ``contacts`` (each contact once, however many of them it is in). A list
    or segment id that names nothing adds nobody (a sent campaign may outlive its segment)."""
    if everyone:
        return subscribed() & true()
    return subscribed() & _reach(session, list_ids, segment_ids, conditions, per_contact=False)


def _reach(
    session: Session,
    list_ids: Sequence[str],
    segment_ids: Sequence[str],
    conditions: Mapping[str, Any] | None,
    *,
    per_contact: bool,
) -> Clause:
    """The union of the lists, segments and conditions (a resend's), any status."""
    parts = [within_list(list_id, per_contact=per_contact) for list_id in list_ids]
    for segment_id in segment_ids:
        segment = session.get(Segment, segment_id)
        if segment is not None:
            parts.append(segment_clause(session, segment, per_contact=per_contact))
    if conditions:
        parts.append(
            audience_clause(session, from_stored(conditions), None, per_contact=per_contact)
        )
    return or_(*parts) if parts else false()


def send_time_clause(session: Session, campaign: Campaign) -> Clause | None:
    """What a queued row's contact must still match when the row is claimed, beside being
    subscribed (which the claim checks itself), for a campaign whose audience names topics (a
    segment with a ``topics`` condition): the lists and segments of its audience, so that a
    topic opt-out made after preparing (the preference centre) keeps the message from going.
    Memberships are looked up per contact: the claim names a few contacts by id. None for
    every other campaign: its audience is resolved once, when it is prepared, and only the
    contact's status is checked again (DESIGN "Sending engine")."""
    audience = campaign.audience
    segment_ids = audience.get("segments", [])
    for segment_id in segment_ids:
        segment = session.get(Segment, segment_id)
        if segment is not None and any(
            condition.field == "topics"
            for group in from_stored(segment.conditions)
            for condition in group
        ):
            lists, conditions = audience.get("lists", []), audience.get("conditions")
            return _reach(session, lists, segment_ids, conditions, per_contact=True)
    return None


def estimate_for(
    session: Session,
    *,
    everyone: bool,
    list_ids: Sequence[str],
    segment_ids: Sequence[str],
    conditions: Mapping[str, Any] | None = None,
) -> int:
    """How many a campaign with this audience would go to if it were prepared now; no campaign
    needs to be saved (the wizard and the API ask while a draft is being chosen)."""
    clause = audience_clause_for(
        session,
        everyone=everyone,
        list_ids=list_ids,
        segment_ids=segment_ids,
        conditions=conditions,
    )
    return int(session.exec(select(func.count()).select_from(Contact).where(clause)).one())


def estimate(session: Session, campaign: Campaign) -> int:
    """How many would receive it if it were prepared now."""
    clause = recipients_clause(session, campaign)
    return int(session.exec(select(func.count()).select_from(Contact).where(clause)).one())


def first_recipient(session: Session, campaign: Campaign) -> Contact | None:
    """The contact preparing would queue first (the one a preview renders for), as the
    audience stands now; None when it is empty."""
    query = select(Contact).where(recipients_clause(session, campaign))
    return session.exec(query.order_by(*RECIPIENT_ORDER).limit(1)).first()


def audience_json(session: Session, campaign: Campaign) -> dict[str, Any]:
    """The campaign object's ``audience`` (``campaign_rows.audience_body``)."""
    return audience_body(connection_of(session), campaign)
