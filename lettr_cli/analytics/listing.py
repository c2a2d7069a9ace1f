"""The campaign listing every face shows (Lettr's Campaigns page): per campaign its name,
status, recipients, when it is scheduled for or was sent, and its open and click rates (unique
opens and unique clicks over deliveries, as ``campaign report`` gives them; reference §16)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from lettr_cli.analytics.stats import rates_of, stats_of
from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.lookups import campaigns_page
from lettr_cli.store.paging import Page
from lettr_cli.store.tables import Campaign


@dataclass(frozen=True)
class ListedCampaign:
    """One row of the listing. ``open_rate`` and ``click_rate`` are None before any delivery;
    ``campaign`` is the row itself, for a face that shows more of it."""

    id: str
    name: str
    status: str
    recipients: int
    scheduled_at: datetime | None
    sent_at: datetime | None
    open_rate: float | None
    click_rate: float | None
    campaign: Campaign = field(compare=False, repr=False)

    @property
    def when(self) -> tuple[str, datetime] | None:
        """The one time the listing shows: ``("scheduled", at)`` while scheduled, else
        ``("sent", at)`` once sent; None when neither applies."""
        if self.status == lifecycle.SCHEDULED and self.scheduled_at is not None:
            return "scheduled", self.scheduled_at
        if self.sent_at is not None:
            return "sent", self.sent_at
        return None


def listed(campaign: Campaign) -> ListedCampaign:
    rates = rates_of(stats_of(campaign))
    return ListedCampaign(
        id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        recipients=campaign.total_recipients,
        scheduled_at=campaign.scheduled_at,
        sent_at=campaign.sent_at,
        open_rate=rates["open_rate"],
        click_rate=rates["click_rate"],
        campaign=campaign,
    )


def campaign_listing(
    session: Session, status: str | None = None, *, limit: int | None = None, offset: int = 0
) -> Page[ListedCampaign]:
    """Campaigns newest first (only those in ``status`` if given), a window of them with the
    number in all."""
    return campaigns_page(session, status, limit=limit, offset=offset).map(listed)
