"""The campaign lifecycle (DESIGN "Lifecycle"): the states and which actions each allows.

Every command that moves or changes a campaign asks this module first; the transitions of
sending and scheduling join it with the sending engine.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from lettr_cli.errors import CampaignNotEditable, CampaignNotScheduled, CampaignNotSendable
from lettr_cli.store.tables import Campaign, Template
from lettr_cli.store.types import utcnow

DRAFT = "draft"
SCHEDULED = "scheduled"
PREPARING = "preparing"
SENDING = "sending"
IN_REVIEW = "in_review"
SENT = "sent"
FAILED = "failed"
STATUSES = (DRAFT, SCHEDULED, PREPARING, SENDING, IN_REVIEW, SENT, FAILED)
DELETABLE = frozenset({DRAFT, FAILED})
SCHEDULABLE = frozenset({DRAFT, SCHEDULED})  # scheduling a scheduled campaign reschedules it


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
    if campaign.template_id is not None and campaign.template_version is None:
        template = session.get(Template, campaign.template_id)
        if template is not None:
            campaign.template_version = template.active_version
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


def to_scheduled(session: Session, campaign: Campaign, at: datetime) -> None:
    """draft → scheduled, or a new time for a scheduled campaign; its content freezes."""
    require_schedulable(campaign)
    freeze_content(session, campaign)
    campaign.status = SCHEDULED
    campaign.scheduled_at = at
    campaign.updated_at = utcnow()
    session.add(campaign)


def to_draft(session: Session, campaign: Campaign) -> None:
    """scheduled → draft: editable again, and a linked template's active version is followed."""
    require_scheduled(campaign)
    campaign.status = DRAFT
    campaign.scheduled_at = None
    if campaign.template_id is not None:
        campaign.template_version = None
    campaign.updated_at = utcnow()
    session.add(campaign)


def to_preparing(session: Session, campaign: Campaign) -> None:
    """A scheduled campaign that came due and passed its checks goes to the sending engine."""
    require_scheduled(campaign)
    campaign.status = PREPARING
    campaign.updated_at = utcnow()
    session.add(campaign)


def to_failed(session: Session, campaign: Campaign, reason: str) -> None:
    """The campaign stops here; ``reason`` tells the operator why (``failure_reason``)."""
    campaign.status = FAILED
    campaign.failure_reason = reason
    campaign.updated_at = utcnow()
    session.add(campaign)


def to_sending_now(session: Session, campaign: Campaign) -> None:
    """draft → preparing: `campaign send`; its content freezes."""
    if campaign.status != DRAFT:
        raise CampaignNotSendable(f"campaign '{campaign.name}' is {campaign.status}")
    freeze_content(session, campaign)
    campaign.status = PREPARING
    campaign.scheduled_at = None
    campaign.failure_reason = None
    campaign.updated_at = utcnow()
    session.add(campaign)


def require_in_review(campaign: Campaign, action: str) -> None:
    if campaign.status != IN_REVIEW:
        raise CampaignNotSendable(
            f"campaign '{campaign.name}' is {campaign.status}; only a campaign in review can "
            f"be {action}"
        )


def to_approved(session: Session, campaign: Campaign) -> None:
    """in_review → sending: an operator lets it go on."""
    require_in_review(campaign, "approved")
    campaign.status = SENDING
    campaign.updated_at = utcnow()
    session.add(campaign)


def to_rejected(session: Session, campaign: Campaign, reason: str) -> None:
    """in_review → failed: an operator stops it; nothing is sent."""
    require_in_review(campaign, "rejected")
    to_failed(session, campaign, f"rejected in review: {reason}")


def require_resendable(campaign: Campaign) -> None:
    if campaign.status != SENT:
        raise CampaignNotSendable(
            f"campaign '{campaign.name}' is {campaign.status}; only a sent campaign can be "
            "retried (a failed one is duplicated: lettr campaign duplicate)"
        )


def to_resending(session: Session, campaign: Campaign) -> None:
    """sent → sending: `campaign retry` requeued some of its rows."""
    require_resendable(campaign)
    campaign.status = SENDING
    campaign.updated_at = utcnow()
    session.add(campaign)
