"""Lettr's rates (reference §16) over a campaign's counters: delivery and bounce rates over
injections, the others over deliveries. Read by the report and the listing; nothing here loads
the ORM, so the quick listing (``listing_rows``) computes them too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lettr_cli.store.counters import STAT_KEYS


@dataclass(frozen=True)
class Rate:
    """A rate: its counters (numerator over denominator) and Lettr's healthy range."""

    name: str
    label: str
    numerator: str
    denominator: str
    healthy_range: str
    low: float | None = None  # healthy at or above
    high: float | None = None  # healthy below

    def value(self, stats: dict[str, int]) -> float | None:
        below = stats[self.denominator]
        return None if below == 0 else stats[self.numerator] / below

    def healthy(self, value: float | None) -> bool | None:
        if value is None:
            return None
        if self.low is not None and value < self.low:
            return False
        return not (self.high is not None and value >= self.high)


RATES = (
    Rate("delivery_rate", "Delivery rate", "deliveries", "injections", "98%+", low=0.98),
    Rate("bounce_rate", "Bounce rate", "bounces", "injections", "under 2%", high=0.02),
    Rate("spam_complaint_rate", "Spam complaint rate", "spam_complaints", "deliveries",
         "under 0.1%", high=0.001),
    Rate("open_rate", "Open rate", "unique_opens", "deliveries", "15-30%+", low=0.15),
    Rate("click_rate", "Click rate", "unique_clicks", "deliveries", "1-5%+", low=0.01),
    Rate("unsubscribe_rate", "Unsubscribe rate", "unsubscribes", "deliveries", "under 0.5%",
         high=0.005),
)  # fmt: skip


def stats_of(campaign: Any) -> dict[str, int]:
    """The counters of ``campaign`` (a model or a Core row)."""
    return {key: int(getattr(campaign, key)) for key in STAT_KEYS}


def rates_of(stats: dict[str, int]) -> dict[str, float | None]:
    """Each rate, or None when its denominator is zero."""
    return {rate.name: rate.value(stats) for rate in RATES}
