"""The campaign lifecycle (DESIGN "Lifecycle"): the states, which actions each allows, and
every change of a campaign's status.

This module is the only place that changes ``campaigns.status``: the commands (send, schedule,
unschedule, approve, reject, retry) through the Session functions, and the sending engine
through the Core-connection ones (``end_preparing``, ``sending_to_sent``,
``sending_to_failed``). Every one moves a campaign only from the state it expects, in SQL
(``UPDATE … WHERE id = :id AND status = :from``, the rowcount checked), so that a concurrent
change is never overwritten, whatever the caller's copy of the campaign says (on PostgreSQL
nothing else serialises two processes between a read and a write). The Session functions check
the caller's copy first, for the error that names the state, and refuse the same way when the
store says otherwise. ``tests/test_status_owner.py`` fails on a status change elsewhere.
The status names themselves live in ``lettr_cli.store.statuses`` (parts below this one name
them too) and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, func, select

from lettr_cli.errors import CampaignNotEditable, CampaignNotScheduled, CampaignNotSendable
from lettr_cli.store.statuses import (
    DRAFT,
    FAILED,
    IN_REVIEW,
    OPEN,
    PREPARING,
    SCHEDULED,
    SENDING,
    SENT,
    STATUSES,
)
from lettr_cli.store.tables import Campaign, table_of
from lettr_cli.store.template_use import template_in_use
from lettr_cli.store.types import utcnow

__all__ = [
    "DELETABLE",
    "DRAFT",
    "FAILED",
    "IN_REVIEW",
    "OPEN",
    "PREPARING",
    "REVIEW_THRESHOLD",
    "SCHEDULABLE",
    "SCHEDULED",
    "SENDING",
    "SENT",
    "STATUSES",
]

DELETABLE = frozenset({DRAFT, FAILED})
SCHEDULABLE = frozenset({DRAFT, SCHEDULED})  # scheduling a scheduled campaign reschedules it
# The store's first campaign to more than this many recipients waits in review for an
# operator's approval (DESIGN "Lifecycle"; ``needs_review``).
REVIEW_THRESHOLD = 5000

_campaigns = table_of(Campaign)


def require_editable(campaign: Campaign, action: str = "edit") -> None:
    """Content, sender and audience change only while the campaign is a draft."""
    if campaign.status == SCHEDULED:
        raise CampaignNotEditable(
            f"campaign '{campaign.name}' is scheduled; only a draft can be changed ({action}). "
            f"`lettr campaign unschedule {campaign.id[:8]}` makes it a draft again."
        )
    if campaign.status != DRAFT:
        raise CampaignNotEditable(
            f"campaign '{campaign.name}' is {campaign.status}; only a draft can be changed "
            f"({action}). `lettr campaign duplicate {campaign.id[:8]}` makes an editable copy."
        )


def require_deletable(campaign: Campaign) -> None:
    if campaign.status not in DELETABLE:
        raise CampaignNotEditable(
            f"campaign '{campaign.name}' is {campaign.status}; only a draft or failed "
            "campaign can be deleted"
        )


def freeze_content(session: Session, campaign: Campaign) -> None:
    """Pin a linked template's active version: called as the campaign leaves draft."""
    if campaign.template_version is None:
        used = template_in_use(session, campaign)
        if used is not None:
            campaign.template_version = used.version
            session.add(campaign)


def require_schedulable(campaign: Campaign) -> None:
    """Schedule from draft, or from scheduled (a reschedule); never once it is on its way."""
    if campaign.status not in SCHEDULABLE:
        raise CampaignNotSendable(
            f"campaign '{campaign.name}' is {campaign.status}; only a draft or scheduled "
            f"campaign can be scheduled. `lettr campaign duplicate {campaign.id[:8]}` makes a "
            "new draft of it."
        )


def require_scheduled(campaign: Campaign) -> None:
    if campaign.status != SCHEDULED:
        raise CampaignNotScheduled(
            f"campaign '{campaign.name}' is {campaign.status}, not scheduled; nothing to unschedule"
        )


_KEEP: Any = object()  # a column ``_fenced_move`` leaves as it is


def _fenced_move(
    session: Session,
    campaign: Campaign,
    from_states: Collection[str],
    to: str,
    refuse: Callable[[Campaign], None],
    *,
    scheduled_at: Any = _KEEP,
    failure_reason: Any = _KEEP,
    template_version: Any = _KEEP,
) -> None:
    """Move ``campaign`` to ``to`` (with the columns given) only if the store still has it in
    one of ``from_states``; the caller's pending changes are flushed first and the copy is
    refreshed after. When the store had it elsewhere nothing is written and ``refuse`` raises
    the error its state gives."""
    session.flush()
    c = _campaigns
    move = (
        c.update()
        .where(c.c.id == campaign.id, c.c.status.in_(tuple(from_states)))
        .values(status=to, updated_at=utcnow())
    )
    if scheduled_at is not _KEEP:
        move = move.values(scheduled_at=scheduled_at)
    if failure_reason is not _KEEP:
        move = move.values(failure_reason=failure_reason)
    if template_version is not _KEEP:
        move = move.values(template_version=template_version)
    moved = session.connection().execute(move)
    session.refresh(campaign)
    if moved.rowcount != 1:
        refuse(campaign)
        raise CampaignNotSendable(f"campaign '{campaign.name}' is {campaign.status}")


def to_scheduled(session: Session, campaign: Campaign, at: datetime) -> None:
    """draft → scheduled, or a new time for a scheduled campaign; its content freezes."""
    require_schedulable(campaign)
    freeze_content(session, campaign)
    _fenced_move(session, campaign, SCHEDULABLE, SCHEDULED, require_schedulable, scheduled_at=at)


def to_draft(session: Session, campaign: Campaign) -> None:
    """scheduled → draft: editable again, and a linked template's active version is followed."""
    require_scheduled(campaign)
    # A linked template's active version is followed again.
    version = None if campaign.template_id is not None else _KEEP
    _fenced_move(
        session,
        campaign,
        (SCHEDULED,),
        DRAFT,
        require_scheduled,
        scheduled_at=None,
        template_version=version,
    )


def to_preparing(session: Session, campaign: Campaign) -> None:
    """A scheduled campaign that came due and passed its checks goes to the sending engine."""
    require_scheduled(campaign)
    _fenced_move(session, campaign, (SCHEDULED,), PREPARING, require_scheduled)


def to_failed(
    session: Session,
    campaign: Campaign,
    reason: str,
    from_states: Collection[str] = (SCHEDULED, IN_REVIEW),
) -> None:
    """The campaign stops here (a due campaign that failed its checks, or one rejected in
    review); ``reason`` tells the operator why (``failure_reason``)."""

    def refuse(found: Campaign) -> None:
        if found.status not in from_states:
            raise CampaignNotSendable(f"campaign '{found.name}' is {found.status}")

    refuse(campaign)
    _fenced_move(session, campaign, from_states, FAILED, refuse, failure_reason=reason)


def _require_draft(campaign: Campaign) -> None:
    if campaign.status != DRAFT:
        raise CampaignNotSendable(f"campaign '{campaign.name}' is {campaign.status}")


def to_sending_now(session: Session, campaign: Campaign) -> None:
    """draft → preparing: `campaign send`; its content freezes."""
    _require_draft(campaign)
    freeze_content(session, campaign)
    _fenced_move(
        session,
        campaign,
        (DRAFT,),
        PREPARING,
        _require_draft,
        scheduled_at=None,
        failure_reason=None,
    )


def require_in_review(campaign: Campaign, action: str) -> None:
    if campaign.status != IN_REVIEW:
        raise CampaignNotSendable(
            f"campaign '{campaign.name}' is {campaign.status}; only a campaign in review can "
            f"be {action}"
        )


def to_approved(session: Session, campaign: Campaign) -> None:
    """in_review → sending: an operator lets it go on."""
    require_in_review(campaign, "approved")
    _fenced_move(
        session, campaign, (IN_REVIEW,), SENDING, lambda c: require_in_review(c, "approved")
    )


def to_rejected(session: Session, campaign: Campaign, reason: str) -> None:
    """in_review → failed: an operator stops it; nothing is sent."""
    require_in_review(campaign, "rejected")
    to_failed(session, campaign, f"rejected in review: {reason}", (IN_REVIEW,))


def require_resendable(campaign: Campaign) -> None:
    if campaign.status != SENT:
        raise CampaignNotSendable(
            f"campaign '{campaign.name}' is {campaign.status}; only a sent campaign can be "
            "retried (a failed one is duplicated: lettr campaign duplicate)"
        )


# -- the sending engine's transitions: conditional updates on its Core connection -------------


def _move(
    conn: Connection,
    campaign_id: str,
    from_states: Collection[str],
    to: str,
    *,
    failure_reason: str | None = None,
    sent_at: datetime | None = None,
    unless: sa.ColumnElement[bool] | None = None,
) -> bool:
    """``campaign_id`` goes to ``to`` (with the reason or sending time given) if its status is
    one of ``from_states`` (and ``unless`` does not hold); False when it was not (deleted, or
    moved by someone else), and then nothing is written."""
    c = _campaigns
    move = (
        c.update()
        .where(c.c.id == campaign_id, c.c.status.in_(tuple(from_states)))
        .values(status=to, updated_at=utcnow())
    )
    if failure_reason is not None:
        move = move.values(failure_reason=failure_reason)
    if sent_at is not None:
        move = move.values(sent_at=sent_at)
    if unless is not None:
        move = move.where(~unless)
    return conn.execute(move).rowcount == 1


def needs_review(session: Session, campaign: Campaign, total: int) -> bool:
    """The risk check (DESIGN "Lifecycle"): the store's first campaign going to more than
    ``REVIEW_THRESHOLD`` recipients waits in review. A campaign counts as earlier when it was
    sent, or is sending or in review."""
    if total <= REVIEW_THRESHOLD:
        return False
    others = session.exec(
        select(func.count())
        .select_from(Campaign)
        .where(
            col(Campaign.id) != campaign.id,
            sa.or_(
                col(Campaign.sent_at).is_not(None),
                col(Campaign.status).in_((SENDING, SENT, IN_REVIEW)),
            ),
        )
    ).one()
    return int(others) == 0


def end_preparing(session: Session, campaign: Campaign, total: int) -> tuple[str, str | None]:
    """preparing → failed (an empty audience), in_review (``needs_review``) or sending, once
    its ``total`` recipients are in the outbox. Returns the new status and why, when it is not
    ``sending``; when the campaign was no longer preparing, its status as it is and None (and
    nothing is written). Pending changes of ``campaign`` are flushed first; it is refreshed
    after."""
    reason: str | None = None
    if total == 0:
        to = FAILED
        reason = "the audience is empty: no subscribed contact is in it"
    elif needs_review(session, campaign, total):
        to = IN_REVIEW
        reason = (
            f"the store's first campaign goes to {total:,} recipients (more than "
            f"{REVIEW_THRESHOLD:,}); an operator approves it with `lettr campaign approve "
            f"{campaign.id[:8]}` or rejects it"
        )
    else:
        to = SENDING
    session.flush()
    failure = reason if to == FAILED else None
    moved = _move(session.connection(), campaign.id, (PREPARING,), to, failure_reason=failure)
    session.refresh(campaign)
    if not moved:
        return campaign.status, None
    return to, reason


def sending_to_failed(conn: Connection, campaign_id: str, reason: str) -> bool:
    """sending → failed, with its ``failure_reason`` (the engine could not compile the
    content). False when the campaign was not sending: nothing is written."""
    return _move(conn, campaign_id, (SENDING,), FAILED, failure_reason=reason)


def sending_to_sent(
    conn: Connection,
    campaign_id: str,
    sent_at: datetime,
    *,
    unless: sa.ColumnElement[bool] | None = None,
) -> bool:
    """sending → sent at ``sent_at`` (when its last message was accepted), in one statement
    that also checks ``unless`` (the engine passes "rows remain unfinished", so that with
    several workers the one that finishes last moves it, once). False when the campaign was
    not sending, or ``unless`` held: nothing is written.

    The campaign row is locked first (``FOR UPDATE``; nothing on SQLite, whose writers take
    turns): under PostgreSQL's READ COMMITTED two workers that finish their last rows at once
    would each check while the other's rows are still unfinished in its open transaction, and
    neither would move it. Locked, the later one checks once the earlier one has committed."""
    c = _campaigns
    conn.execute(sa.select(c.c.id).where(c.c.id == campaign_id).with_for_update())
    return _move(conn, campaign_id, (SENDING,), SENT, sent_at=sent_at, unless=unless)


def sent_to_sending(conn: Connection, campaign_id: str) -> bool:
    """sent → sending: `campaign retry` requeues some of its rows (in the same transaction).
    False when the campaign is no longer sent (another retry came first): nothing is
    written."""
    return _move(conn, campaign_id, (SENT,), SENDING)
