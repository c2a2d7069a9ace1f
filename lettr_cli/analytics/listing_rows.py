"""The campaign listing's rows (Lettr's Campaigns page), and the listing itself read through
SQLAlchemy Core, so that `campaign list` starts without the ORM (issue 18, "Start-up"); the
ORM listing (``listing.campaign_listing``, for the other faces) converts its campaigns here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lettr_cli.analytics.rates import rates_of, stats_of
from lettr_cli.campaigns.campaign_rows import campaign_page
from lettr_cli.store.statuses import SCHEDULED

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


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
    campaign: Any = field(compare=False, repr=False)

    @property
    def when(self) -> tuple[str, datetime] | None:
        """The one time the listing shows: ``("scheduled", at)`` while scheduled, else
        ``("sent", at)`` once sent; None when neither applies."""
        if self.status == SCHEDULED and self.scheduled_at is not None:
            return "scheduled", self.scheduled_at
        if self.sent_at is not None:
            return "sent", self.sent_at
        return None


def listed(campaign: Any) -> ListedCampaign:
    """The row of ``campaign`` (a model or a ``core_tables.campaigns`` row)."""
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


def listing_rows(
    conn: Connection, status: str | None, limit: int | None
) -> tuple[Sequence[ListedCampaign], int]:
    """Campaigns newest first (only those in ``status`` if given): at most ``limit`` rows (all
    when None), and how many there are in all."""
    rows, total = campaign_page(conn, status, limit)
    return [listed(row) for row in rows], total
