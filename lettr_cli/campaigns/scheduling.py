"""Scheduling (DESIGN "Lifecycle"): schedule and unschedule a campaign, and promote the campaigns
that came due for the daemon.

Scheduling makes the checks a send makes (``readiness.assess`` and the relay), so a refusal
leaves the campaign as it was; a scheduled campaign is checked again when it comes due, except
for the relay, whose failures only delay sending. As for a send, the checks run before the write
lock, which is held only to see that the campaign is as they saw it and to schedule it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.campaigns.readiness import (
    CampaignChanged,
    Readiness,
    Seen,
    assess,
    check_relay,
    seen,
    unchanged,
)
from lettr_cli.campaigns.times import ParsedTime, operator_zone, parse_at, require_future
from lettr_cli.errors import LettrError
from lettr_cli.store.tables import Campaign
from lettr_cli.store.types import utcnow
from lettr_cli.workspace import Workspace


@dataclass(frozen=True)
class Promotion:
    """What ``promote_due`` did with one campaign: ``status`` is ``preparing`` or ``failed``
    (then ``reason`` says why)."""

    id: str
    name: str
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class ScheduleCheck:
    """A campaign that may be scheduled, as its checks saw it, and the time asked for."""

    seen: Seen
    parsed: ParsedTime
    refusals: list[LettrError]  # the checks' refusals, the relay's not yet among them


def read_when(
    workspace: Workspace, when_text: str, tz: str | None, *, now: datetime | None = None
) -> ParsedTime:
    """``when_text`` (``--at``) read in ``tz``, else config ``timezone``, else the system zone."""
    zone = operator_zone(tz, workspace.settings().text("timezone"))
    return parse_at(when_text, zone, now=now)


def check_schedule(
    workspace: Workspace,
    ref: str,
    when_text: str,
    tz: str | None,
    *,
    now: datetime | None = None,
) -> ScheduleCheck:
    """Read ``when_text`` (``--at``) and make the checks of a schedule that need neither
    recipients nor the relay, in a read transaction (a campaign that is on its way already is
    refused at once).

    ``tz`` is ``--tz``; without it config ``timezone`` (else the system zone) reads a time
    without an offset.
    """
    return check_parsed(workspace, ref, read_when(workspace, when_text, tz, now=now))


def check_parsed(workspace: Workspace, ref: str, parsed: ParsedTime) -> ScheduleCheck:
    """``check_schedule`` for a time already read (the API reads its own)."""
    with workspace.store.read() as session:
        campaign = find_campaign(session, ref)
        lifecycle.require_schedulable(campaign)
        readiness = assess(workspace, session, campaign, allowed=lifecycle.SCHEDULABLE)
        return ScheduleCheck(seen(session, campaign), parsed, readiness.refusals)


def schedule_checked(
    workspace: Workspace,
    check: ScheduleCheck,
    relay: LettrError | None,
    *,
    now: datetime | None = None,
) -> Campaign:
    """Schedule a checked campaign, given the relay's verdict (``check_relay``, taken by the
    caller): refused on the first of the checks' refusals (the others in its message), or if
    the time has passed meanwhile, or if the campaign changed since its checks
    (``CampaignChanged``, nothing written). The write lock covers only that last look and the
    write."""
    refusal = Readiness(
        refusals=[*check.refusals, *([relay] if relay is not None else [])]
    ).refusal()
    if refusal is not None:
        raise refusal
    require_future(check.parsed, now=now)
    with workspace.store.write() as session:
        campaign = unchanged(session, check.seen, "scheduled")
        lifecycle.to_scheduled(session, campaign, check.parsed.at)
    return campaign


async def schedule(
    workspace: Workspace,
    ref: str,
    when_text: str,
    tz: str | None,
    *,
    now: datetime | None = None,
) -> tuple[Campaign, ParsedTime]:
    """Schedule a draft for ``when_text`` (``--at``), or move a scheduled campaign to it
    (``schedule_at``). Refused, the campaign is unchanged. Safe inside any running event loop
    (the store's work runs on a worker thread); the CLI runs it with ``asyncio.run``."""
    parsed = await asyncio.to_thread(read_when, workspace, when_text, tz, now=now)
    return await schedule_at(workspace, ref, parsed, now=now), parsed


async def schedule_at(
    workspace: Workspace, ref: str, parsed: ParsedTime, *, now: datetime | None = None
) -> Campaign:
    """Schedule a draft for a time already read, or move a scheduled campaign to it
    (``check_parsed``, the relay, then ``schedule_checked``). A campaign that changed while it
    was checked is checked again, once."""
    check = await asyncio.to_thread(check_parsed, workspace, ref, parsed)
    relay = await check_relay(workspace)  # no transaction is open across network I/O
    try:
        return await asyncio.to_thread(schedule_checked, workspace, check, relay, now=now)
    except CampaignChanged:
        check = await asyncio.to_thread(check_parsed, workspace, check.seen.campaign_id, parsed)
        return await asyncio.to_thread(schedule_checked, workspace, check, relay, now=now)


def unschedule(workspace: Workspace, ref: str) -> Campaign:
    """Back to draft: editable again, and a linked template's active version is followed."""
    with workspace.store.write() as session:
        campaign = find_campaign(session, ref)
        lifecycle.to_draft(session, campaign)
    return campaign


def due_campaigns(session: Session, now: datetime) -> list[Campaign]:
    """Scheduled campaigns whose time has come, the longest waiting first."""
    query = (
        select(Campaign)
        .where(Campaign.status == lifecycle.SCHEDULED)
        .where(col(Campaign.scheduled_at) <= now)
        .order_by(col(Campaign.scheduled_at), col(Campaign.created_at))
    )
    return list(session.exec(query))


@dataclass(frozen=True)
class DueCheck:
    """A due campaign as its checks saw it, and why it fails (None: it goes on)."""

    seen: Seen
    reason: str | None


def check_due(workspace: Workspace, campaign_id: str, now: datetime) -> DueCheck | None:
    """The checks of a campaign that came due, in a read transaction; None if it is no longer
    scheduled for ``now`` or earlier."""
    with workspace.store.read() as session:
        campaign = session.get(Campaign, campaign_id)
        if (
            campaign is None
            or campaign.status != lifecycle.SCHEDULED
            or campaign.scheduled_at is None
            or campaign.scheduled_at > now
        ):
            return None
        readiness = assess(workspace, session, campaign, allowed=(lifecycle.SCHEDULED,))
        reason = "; ".join(refusal.message for refusal in readiness.refusals) or None
        return DueCheck(seen(session, campaign), reason)


def promote_checked(workspace: Workspace, check: DueCheck) -> Promotion | None:
    """Move a checked due campaign to ``preparing``, or to ``failed`` with its checks' reason,
    in a short write transaction; None (nothing written) if it changed since its checks."""
    with workspace.store.write() as session:
        try:
            campaign = unchanged(session, check.seen, "promoted")
        except CampaignChanged:
            return None
        if check.reason is not None:
            lifecycle.to_failed(session, campaign, check.reason)
        else:
            lifecycle.to_preparing(session, campaign)
        return Promotion(campaign.id, campaign.name, campaign.status, check.reason)


def promote_due(workspace: Workspace, now: datetime | None = None) -> list[Promotion]:
    """Move each due campaign to ``preparing``, or to ``failed`` when a check that needs no
    recipients fails now (the relay is not checked: a relay failure only delays sending).

    Each campaign is checked in a read transaction (``check_due``), then moved in a short write
    transaction of its own (``promote_checked``); one that another process promoted,
    unscheduled, rescheduled or changed meanwhile is left alone (the next round sees it as it is
    then).
    """
    current = now or utcnow()
    with workspace.store.read() as session:
        due = [campaign.id for campaign in due_campaigns(session, current)]
    done: list[Promotion] = []
    for campaign_id in due:
        check = check_due(workspace, campaign_id, current)
        promotion = promote_checked(workspace, check) if check is not None else None
        if promotion is not None:
            done.append(promotion)
    return done
