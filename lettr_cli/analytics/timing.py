"""How soon people engage after a campaign reaches them (issue "Engagement"), and how much of
its opening is done by machines.

Each recipient's first open by a person and first click are counted in the whole hour after
their message was accepted by the relay in which they came (hours 0 to 47, then "later"). These
times are kept on the outbox rows, so the figures outlive the 30-day event archive; repeat opens
and clicks are not in them (the report's series has those).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.store.tables import Campaign, OutboxRow, table_of

outbox = table_of(OutboxRow)

HOURS = 48
HOUR = timedelta(hours=1)


def _hour(start: datetime | None, at: datetime | None) -> int | None:
    """The whole hour since ``start`` in which ``at`` falls (a time before it: hour 0);
    ``HOURS`` for later ones; None when either is unknown."""
    if start is None or at is None:
        return None
    hour = max(int((at - start) // HOUR), 0)
    return min(hour, HOURS)


def engagement_by_hour(conn: Connection, campaign: Campaign) -> dict[str, Any]:
    """``{"hours": [{"hour", "opens", "clicks"}] * 48, "later": {"opens", "clicks"}}``:
    recipients whose first person open, and whose first click, came that many whole hours
    after their message was accepted (the campaign's ``sent_at`` for a row without one)."""
    query = sa.select(outbox.c.accepted_at, outbox.c.first_open_at, outbox.c.first_click_at).where(
        outbox.c.campaign_id == campaign.id,
        sa.or_(outbox.c.first_open_at.is_not(None), outbox.c.first_click_at.is_not(None)),
    )
    counts = [[0, 0] for _ in range(HOURS + 1)]
    for accepted_at, opened_at, clicked_at in conn.execute(query):
        start = accepted_at or campaign.sent_at
        for index, at in ((0, opened_at), (1, clicked_at)):
            hour = _hour(start, at)
            if hour is not None:
                counts[hour][index] += 1
    return {
        "hours": [
            {"hour": hour, "opens": opens, "clicks": clicks}
            for hour, (opens, clicks) in enumerate(counts[:HOURS])
        ],
        "later": {"opens": counts[HOURS][0], "clicks": counts[HOURS][1]},
    }


def machine_open_share(stats: dict[str, int]) -> float | None:
    """The share of all opens made by machines (proxies, scanners): machine opens over opens
    by people and machines together; None when there is no open."""
    total = stats["opens"] + stats["machine_opens"]
    return None if total == 0 else stats["machine_opens"] / total
