"""A sent campaign's figures: the stored counters, Lettr's rates and healthy ranges, top links,
unsubscribes by method and opens and clicks over time (reference §16; DESIGN "Decisions").

The counters (unsubscribes by method among them) are stored on the campaign and the clicks per
link beside it, so they survive the event archive; the series is read from the events still in
the store.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from lettr_cli.analytics import timing
from lettr_cli.analytics.rates import RATES, Rate, rates_of, stats_of
from lettr_cli.analytics.resends import resend_report
from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.errors import ValidationError
from lettr_cli.store.tables import UNSUBSCRIBE_COUNTERS, Campaign, Event, LinkClick, table_of

events = table_of(Event)
campaigns = table_of(Campaign)
link_clicks = table_of(LinkClick)

# The rates live in ``rates`` (read without the ORM); named here too.
__all__ = ["RATES", "Rate", "rates_of", "stats_of"]

HOURLY_SPAN = timedelta(hours=48)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
BOUNCE_WARNING = 0.10  # the Show page warns at a bounce rate of 10% or more


UNSUBSCRIBE_METHODS = ("list_unsubscribe", "link_unsubscribe")


def health_of(rates: dict[str, float | None]) -> dict[str, dict[str, Any]]:
    """For each rate: Lettr's healthy range and whether the rate is inside it (None: no rate)."""
    return {
        rate.name: {"range": rate.healthy_range, "healthy": rate.healthy(rates[rate.name])}
        for rate in RATES
    }


def warnings_of(rates: dict[str, float | None]) -> list[dict[str, str]]:
    bounce = rates["bounce_rate"]
    if bounce is not None and bounce >= BOUNCE_WARNING:
        return [
            {
                "code": "high_bounce_rate",
                "message": f"the bounce rate is {bounce:.1%}, at or above 10%: clean the list "
                "before the next send",
            }
        ]
    return []


def top_links(conn: Connection, campaign_id: str) -> list[dict[str, Any]]:
    """Clicked URLs, most clicked first: all clicks, and distinct recipients (outbox rows)."""
    clicks = sa.func.sum(link_clicks.c.clicks).label("clicks")
    query = (
        sa.select(
            link_clicks.c.url,
            clicks,
            sa.func.count(sa.distinct(link_clicks.c.outbox_id)).label("unique_clicks"),
        )
        .where(link_clicks.c.campaign_id == campaign_id)
        .group_by(link_clicks.c.url)
        .order_by(clicks.desc(), link_clicks.c.url)
    )
    return [
        {"url": str(url), "clicks": int(n), "unique_clicks": int(unique)}
        for url, n, unique in conn.execute(query)
    ]


def unsubscribes_by_method(conn: Connection, campaign_id: str) -> dict[str, int]:
    """The campaign's unsubscribes counted by method (stored counters)."""
    names = [UNSUBSCRIBE_COUNTERS[method] for method in UNSUBSCRIBE_METHODS]
    query = sa.select(*(campaigns.c[name] for name in names)).where(campaigns.c.id == campaign_id)
    found = conn.execute(query).first()
    counts = [0] * len(names) if found is None else [int(n) for n in found]
    return dict(zip(UNSUBSCRIBE_METHODS, counts, strict=True))


def series(conn: Connection, campaign: Campaign) -> list[dict[str, Any]]:
    """Opens (machine opens apart) and clicks per hour for the first 48 hours, then per day.

    Buckets start at the hour of the send (or of the first open or click, when one came before
    ``sent_at``, which is set when the send ends) and run to the last open or click, empty
    buckets included; no opens or clicks, no buckets.
    """
    query = (
        sa.select(events.c.at, events.c.event_type)
        .where(
            events.c.campaign_id == campaign.id,
            sa.or_(
                sa.and_(events.c.event_type == "open", events.c.machine.is_(False)),
                events.c.event_type == "click",
            ),
        )
        .order_by(events.c.at, events.c.id)
    )
    moments = [(at, str(kind)) for at, kind in conn.execute(query)]
    if not moments:
        return []
    first = moments[0][0] if campaign.sent_at is None else min(campaign.sent_at, moments[0][0])
    origin = first.replace(minute=0, second=0, microsecond=0)
    starts = bucket_starts(origin, moments[-1][0])
    counts = [[0, 0] for _ in starts]
    for at, kind in moments:
        counts[bucket_index(origin, at)][0 if kind == "open" else 1] += 1
    return [
        {"bucket_start": start, "opens": opens, "clicks": clicks}
        for start, (opens, clicks) in zip(starts, counts, strict=True)
    ]


def bucket_index(origin: datetime, at: datetime) -> int:
    elapsed = at - origin
    if elapsed < HOURLY_SPAN:
        return int(elapsed // HOUR)
    return 48 + int((elapsed - HOURLY_SPAN) // DAY)


def bucket_starts(origin: datetime, last: datetime) -> list[datetime]:
    count = bucket_index(origin, last) + 1
    return [
        origin + i * HOUR if i < 48 else origin + HOURLY_SPAN + (i - 48) * DAY for i in range(count)
    ]


def campaign_summary(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "sent_at": campaign.sent_at,
    }


def report(session: Session, ref: str) -> dict[str, Any]:
    """``campaign report --json`` (CONTRACT "What --json prints"), plus the campaign, the
    healthy-range verdicts and the warnings."""
    campaign = find_campaign(session, ref)
    conn = session.connection()
    stats = stats_of(campaign)
    rates = rates_of(stats)
    return {
        "campaign": campaign_summary(campaign),
        "stats": stats,
        "rates": rates,
        "health": health_of(rates),
        "warnings": warnings_of(rates),
        "top_links": top_links(conn, campaign.id),
        "unsubscribes_by_method": unsubscribes_by_method(conn, campaign.id),
        "series": series(conn, campaign),
        "machine_open_share": timing.machine_open_share(stats),
        "engagement_by_hour": timing.engagement_by_hour(conn, campaign),
        **resend_report(conn, campaign.id),
    }


def compare(session: Session, refs: list[str]) -> list[dict[str, Any]]:
    """Counters and rates of two or more sent campaigns, in the order given (reference §16:
    only sent campaigns can be compared)."""
    if len(refs) < 2:
        raise ValidationError.field("campaigns", "compare needs two or more campaigns")
    found: list[Campaign] = []
    for ref in refs:
        campaign = find_campaign(session, ref)
        if campaign.status != lifecycle.SENT:
            raise ValidationError.field(
                "campaigns",
                f"'{campaign.name}' is {campaign.status}; only sent campaigns can be compared",
            )
        if any(c.id == campaign.id for c in found):
            raise ValidationError.field("campaigns", f"'{campaign.name}' is named twice")
        found.append(campaign)
    out = []
    for campaign in found:
        stats = stats_of(campaign)
        rates = rates_of(stats)
        out.append(
            {**campaign_summary(campaign), "stats": stats, "rates": rates,
             "health": health_of(rates)}
        )  # fmt: skip
    return out
