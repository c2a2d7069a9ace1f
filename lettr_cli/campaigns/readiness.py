"""Whether a campaign could be sent now, and why not (DESIGN "Lifecycle": the checks that need
no recipients). `campaign review` shows them; send and schedule will refuse on the first one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from lettr_cli.audience.plan import usage
from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.audience import chosen, estimate
from lettr_cli.campaigns.campaigns import content_of
from lettr_cli.campaigns.check import Findings, check_campaign
from lettr_cli.campaigns.rendering import PART_WORDS, missing_parts
from lettr_cli.errors import (
    CampaignHasPendingSchedule,
    CampaignNotSendable,
    LettrError,
    NotFound,
    QuotaExceeded,
    TransmissionFailed,
    UnconfiguredDomain,
    ValidationError,
)
from lettr_cli.store.tables import Campaign
from lettr_cli.workspace import Workspace


@dataclass
class Readiness:
    """Refusals (each a ``LettrError`` with its CONTRACT code) and the content findings."""

    refusals: list[LettrError] = field(default_factory=list)
    findings: Findings = field(default_factory=Findings)
    estimated_recipients: int = 0

    @property
    def sendable(self) -> bool:
        return not self.refusals

    def errors(self) -> list[dict[str, str]]:
        return [{"code": r.code, "message": r.message} for r in self.refusals]


def _state(campaign: Campaign) -> LettrError | None:
    if campaign.status == lifecycle.SCHEDULED:
        return CampaignHasPendingSchedule(
            f"campaign '{campaign.name}' is scheduled; unschedule it to send it now"
        )
    if campaign.status != lifecycle.DRAFT:
        return CampaignNotSendable(f"campaign '{campaign.name}' is {campaign.status}")
    return None


def _parts(session: Session, campaign: Campaign) -> LettrError | None:
    html, _, _ = content_of(session, campaign)
    missing = [PART_WORDS[field] for field in missing_parts(campaign, html)]
    if not chosen(campaign):
        missing.append("an audience")
    if missing:
        return CampaignNotSendable(f"campaign '{campaign.name}' has no {', '.join(missing)} yet")
    return None


def _domain(workspace: Workspace, campaign: Campaign) -> LettrError | None:
    from lettr_cli.domains.service import find_domain, not_verified

    if not campaign.from_email:
        return None
    name = campaign.from_email.rpartition("@")[2]
    try:
        domain = find_domain(workspace, name)
    except (NotFound, ValidationError):
        return UnconfiguredDomain(f"{name} is not a sending domain: lettr domain add {name}")
    return None if domain.status == "verified" else not_verified(domain)


def assess(workspace: Workspace, session: Session, campaign: Campaign) -> Readiness:
    """Every reason the campaign could not be sent now, except the relay (see ``check_relay``)."""
    settings = workspace.settings()
    result = Readiness()
    for refusal in (_state(campaign), _parts(session, campaign), _domain(workspace, campaign)):
        if refusal is not None:
            result.refusals.append(refusal)
    result.findings = check_campaign(session, campaign, settings)
    if result.findings.errors:
        messages = "; ".join(f["message"] for f in result.findings.errors)
        result.refusals.append(ValidationError(f"the content check found errors: {messages}"))
    plan = usage(session, settings)
    if plan.over:
        result.refusals.append(QuotaExceeded(plan.describe()))
    result.estimated_recipients = estimate(session, campaign) if chosen(campaign) else 0
    return result


async def check_relay(workspace: Workspace) -> LettrError | None:
    """Connect to the relay with the configured TLS and AUTH, then leave."""
    from lettr_cli.delivery.smtp import Relay, RelayFailure, RelaySettings

    try:
        async with Relay(RelaySettings.from_settings(workspace.settings())):
            return None
    except RelayFailure as exc:
        return TransmissionFailed(exc.reply)
    except ValidationError as exc:
        return TransmissionFailed(exc.message)
