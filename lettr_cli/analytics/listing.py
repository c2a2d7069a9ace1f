"""The campaign listing every face shows (Lettr's Campaigns page): per campaign its name,
status, recipients, when it is scheduled for or was sent, and its open and click rates (unique
opens and unique clicks over deliveries, as ``campaign report`` gives them; reference §16)."""

from __future__ import annotations

from sqlmodel import Session

from lettr_cli.analytics.listing_rows import ListedCampaign, listed
from lettr_cli.campaigns.lookups import campaigns_page
from lettr_cli.store.paging import Page

# The rows and their conversion live in ``listing_rows`` (read without the ORM); named here too.
__all__ = ["ListedCampaign", "campaign_listing", "listed"]


def campaign_listing(
    session: Session, status: str | None = None, *, limit: int | None = None, offset: int = 0
) -> Page[ListedCampaign]:
    """Campaigns newest first (only those in ``status`` if given), a window of them with the
    number in all."""
    return campaigns_page(session, status, limit=limit, offset=offset).map(listed)
