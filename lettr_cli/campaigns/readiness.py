"""Whether a campaign could be sent now, and why not (DESIGN "Lifecycle": the checks that need
no recipients). `campaign review` shows them; send and schedule will refuse on the first one.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

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
    QuotaExceeded,
    TransmissionFailed,
    ValidationError,
)
from lettr_cli.store.tables import Campaign
from lettr_cli.store.template_use import template_in_use
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

    def refusal(self) -> LettrError | None:
        """The first refusal, its message followed by the others (each with its code)."""
        if not self.refusals:
            return None
        first, *others = self.refusals
        if not others:
            return first
        also = "; ".join(f"[{r.code}] {r.message}" for r in others)
        return type(first)(
            f"{first.message}; also: {also}",
            errors=first.errors,
            reason=first.reason,
            details=first.details,
        )


def _state(campaign: Campaign, allowed: Collection[str]) -> LettrError | None:
    if campaign.status in allowed:
        return None
    if campaign.status == lifecycle.SCHEDULED:
        return CampaignHasPendingSchedule(
            f"campaign '{campaign.name}' is scheduled; unschedule it to send it now"
        )
    return CampaignNotSendable(f"campaign '{campaign.name}' is {campaign.status}")


def _parts(session: Session, campaign: Campaign) -> LettrError | None:
    html, _, _ = content_of(session, campaign)
    missing = [PART_WORDS[field] for field in missing_parts(campaign, html)]
    if not chosen(campaign):
        missing.append("an audience")
    if missing:
        needs = ", ".join(missing[:-1]) + " and " + missing[-1] if len(missing) > 1 else missing[0]
        fields = [*missing_parts(campaign, html), *([] if chosen(campaign) else ["audience"])]
        return CampaignNotSendable(
            f"campaign '{campaign.name}' still needs {needs}",
            reason="campaign_incomplete",
            details={"fields": ", ".join(fields)},
        )
    return None


def _domain(workspace: Workspace, campaign: Campaign) -> LettrError | None:
    from lettr_cli.domains.service import sender_refusal

    return sender_refusal(workspace, campaign.from_email) if campaign.from_email else None


def assess(
    workspace: Workspace,
    session: Session,
    campaign: Campaign,
    *,
    allowed: Collection[str] = (lifecycle.DRAFT,),
) -> Readiness:
    """Every reason the campaign could not be sent now, except the relay (see ``check_relay``).

    ``allowed`` holds the states the action starts from: a send starts from draft only;
    scheduling also from scheduled (``lifecycle.SCHEDULABLE``); a campaign coming due from
    scheduled.
    """
    settings = workspace.settings()
    result = Readiness()
    state = _state(campaign, allowed)
    for refusal in (state, _parts(session, campaign), _domain(workspace, campaign)):
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


@dataclass(frozen=True)
class Seen:
    """What the checks saw of a campaign, so that the write that acts on them can tell, without
    checking again, whether the campaign is still the one they passed (so the write lock is
    short: the render and the audience count run before it): its status, its ``updated_at``
    (every edit moves it) and, for a draft that follows a linked template, the template's active
    version (versions never change once written)."""

    campaign_id: str
    status: str
    updated_at: datetime
    template_version: int | None
    name: str = field(compare=False)


class CampaignChanged(CampaignNotSendable):
    """The campaign changed between its checks and the write that would act on them."""


def seen(session: Session, campaign: Campaign) -> Seen:
    """The state of ``campaign`` that its checks are about."""
    used = template_in_use(session, campaign)
    version = used.version if used is not None else campaign.template_version
    return Seen(campaign.id, campaign.status, campaign.updated_at, version, campaign.name)


def unchanged(session: Session, checked: Seen, action: str) -> Campaign:
    """The campaign ``checked`` was taken from, if it is still as it was then; else
    ``CampaignChanged`` (it was edited, moved or deleted), saying it was not ``action``."""
    campaign = session.get(Campaign, checked.campaign_id)
    if campaign is None or seen(session, campaign) != checked:
        raise CampaignChanged(
            f"campaign '{checked.name}' changed while it was being checked; it was not {action}"
        )
    return campaign


async def check_relay(workspace: Workspace) -> LettrError | None:
    """Connect to the relay with the configured TLS and AUTH, then leave."""
    from lettr_cli.transport.smtp import Relay, RelayFailure, RelaySettings

    try:
        async with Relay(RelaySettings.from_settings(workspace.settings())):
            return None
    except RelayFailure as exc:
        return TransmissionFailed(exc.reply)
    except ValidationError as exc:
        return TransmissionFailed(exc.message)
