"""Scheduling (DESIGN "Lifecycle"): schedule and unschedule a campaign, and promote the campaigns
that came due for the daemon.

Scheduling makes the checks a send makes (``readiness.assess`` and the relay), so a refusal
leaves the campaign as it was; a scheduled campaign is checked again when it comes due, except
for the relay, whose failures only delay sending.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.campaigns.readiness import assess, check_relay
from lettr_cli.campaigns.times import ParsedTime, operator_zone, parse_at, require_future
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


def schedule(
    workspace: Workspace,
    ref: str,
    when_text: str,
    tz: str | None,
    *,
    now: datetime | None = None,
) -> tuple[Campaign, ParsedTime]:
    """Schedule a draft for ``when_text`` (``--at``), or move a scheduled campaign to it.

    ``tz`` is ``--tz``; without it config ``timezone`` (else the system zone) reads a time
    without an offset. Refused, the campaign is unchanged.
    """
    zone = operator_zone(tz, workspace.settings().text("timezone"))
    parsed = parse_at(when_text, zone, now=now)
    with workspace.store.read() as session:
        lifecycle.require_schedulable(find_campaign(session, ref))
    relay = asyncio.run(check_relay(workspace))  # no transaction is open across network I/O
    with workspace.store.write() as session:
        campaign = find_campaign(session, ref)
        lifecycle.require_schedulable(campaign)  # it may have moved while the relay answered
        readiness = assess(workspace, session, campaign, allowed=lifecycle.SCHEDULABLE)
        if relay is not None:
            readiness.refusals.append(relay)
        refusal = readiness.refusal()
        if refusal is not None:
            raise refusal
        require_future(parsed, now=now)
        lifecycle.to_scheduled(session, campaign, parsed.at)
    return campaign, parsed


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


def promote_due(workspace: Workspace, now: datetime | None = None) -> list[Promotion]:
    """Move each due campaign to ``preparing``, or to ``failed`` when a check that needs no
    recipients fails now (the relay is not checked: a relay failure only delays sending).

    Each campaign in its own short write transaction; one that another process promoted,
    unscheduled or rescheduled meanwhile is left alone.
    """
    current = now or utcnow()
    with workspace.store.read() as session:
        due = [campaign.id for campaign in due_campaigns(session, current)]
    done: list[Promotion] = []
    for campaign_id in due:
        with workspace.store.write() as session:
            campaign = session.get(Campaign, campaign_id)
            if (
                campaign is None
                or campaign.status != lifecycle.SCHEDULED
                or campaign.scheduled_at is None
                or campaign.scheduled_at > current
            ):
                continue
            readiness = assess(workspace, session, campaign, allowed=(lifecycle.SCHEDULED,))
            reason = "; ".join(refusal.message for refusal in readiness.refusals) or None
            if reason is not None:
                lifecycle.to_failed(session, campaign, reason)
            else:
                lifecycle.to_preparing(session, campaign)
            done.append(Promotion(campaign.id, campaign.name, campaign.status, reason))
    return done
