"""`lettr campaign list`: campaigns newest first, with what Lettr's list shows (status,
recipients, when scheduled or sent, open and click rates)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lettr_cli.cli.command import JsonFlag, LimitOption
from lettr_cli.cli.output import display_time, emit_json, note_cut, show_table
from lettr_cli.cli.runtime import workspace


def list_all(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only campaigns in this state.")] = None,
    limit: LimitOption = 100,
    as_json: JsonFlag = False,
) -> None:
    """List campaigns, newest first, with their open and click rates."""
    from lettr_cli.campaigns.campaigns import count_campaigns, list_campaigns
    from lettr_cli.delivery.objects import campaign_json

    with workspace(ctx).store.read() as session:
        total = count_campaigns(session, status)
        items = [campaign_json(session, c) for c in list_campaigns(session, status, limit=limit)]
    if as_json:
        emit_json(items)
    else:
        show_table(
            ["id", "name", "status", "recipients", "when", "open_rate", "click_rate"],
            ([c["id"][:8], c["name"], c["status"], c["total_recipients"], *_when_and_rates(c)]
             for c in items),
        )  # fmt: skip
    note_cut(len(items), total)


def _when_and_rates(body: dict[str, Any]) -> list[object]:
    """The time a campaign is scheduled for or was sent at, and its open and click rates
    (unique over deliveries, as `campaign report` gives them)."""
    from lettr_cli.analytics.stats import rates_of

    when = ""
    if body["status"] == "scheduled" and body["scheduled_at"] is not None:
        when = f"scheduled {display_time(body['scheduled_at'])}"
    elif body["sent_at"] is not None:
        when = f"sent {display_time(body['sent_at'])}"
    rates = rates_of(body["stats"])
    return [when, *(_percent(rates[name]) for name in ("open_rate", "click_rate"))]


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.1%}"
