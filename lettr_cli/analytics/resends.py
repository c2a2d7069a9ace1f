"""A campaign's resends to non-openers and the reach of the original and its resends together.

A resend names its original in its audience (``campaigns.resend``). The combined reach counts
contacts, each once: those delivered by the original or a resend, and those who opened (a
person's open or a click, as segments count it) any of them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.campaigns.resend import RESEND_OF
from lettr_cli.store.tables import Campaign, OutboxRow, table_of

campaigns = table_of(Campaign)
outbox = table_of(OutboxRow)
DELIVERED = "sent"


def resends_of(conn: Connection, campaign_id: str) -> list[dict[str, Any]]:
    """The resends of a campaign, oldest first: id, name, status, sent_at, and their figures."""
    query = (
        sa.select(
            campaigns.c.id,
            campaigns.c.name,
            campaigns.c.status,
            campaigns.c.sent_at,
            campaigns.c.deliveries,
            campaigns.c.unique_opens,
            campaigns.c.unique_clicks,
        )
        .where(campaigns.c.audience[RESEND_OF].as_string() == campaign_id)
        .order_by(campaigns.c.created_at, campaigns.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def combined_reach(conn: Connection, campaign_ids: list[str]) -> dict[str, int]:
    """``{campaigns, delivered, opened}``: contacts reached by any of the campaigns, each once."""
    mine = outbox.c.campaign_id.in_(campaign_ids)
    opened = sa.or_(outbox.c.first_open_at.is_not(None), outbox.c.first_click_at.is_not(None))

    def distinct(*tests: Any) -> int:
        query = sa.select(sa.func.count(sa.distinct(outbox.c.contact_id))).where(mine, *tests)
        return int(conn.execute(query).scalar_one())

    return {
        "campaigns": len(campaign_ids),
        "delivered": distinct(outbox.c.status == DELIVERED),
        "opened": distinct(opened),
    }


def resend_report(conn: Connection, campaign_id: str) -> dict[str, Any]:
    """The report's ``resends`` and ``combined_reach``."""
    resends = resends_of(conn, campaign_id)
    ids = [campaign_id, *(r["id"] for r in resends)]
    return {"resends": resends, "combined_reach": combined_reach(conn, ids)}
