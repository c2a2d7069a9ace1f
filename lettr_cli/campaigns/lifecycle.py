"""The campaign lifecycle (DESIGN "Lifecycle"): the states and which actions each allows.

Every command that moves or changes a campaign asks this module first; the transitions of
sending and scheduling join it with the sending engine.
"""

from __future__ import annotations

from sqlmodel import Session

from lettr_cli.errors import CampaignNotEditable
from lettr_cli.store.tables import Campaign, Template

DRAFT = "draft"
SCHEDULED = "scheduled"
PREPARING = "preparing"
SENDING = "sending"
IN_REVIEW = "in_review"
SENT = "sent"
FAILED = "failed"
STATUSES = (DRAFT, SCHEDULED, PREPARING, SENDING, IN_REVIEW, SENT, FAILED)
DELETABLE = frozenset({DRAFT, FAILED})


def require_editable(campaign: Campaign, action: str = "edit") -> None:
    """Content, sender and audience change only while the campaign is a draft."""
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
