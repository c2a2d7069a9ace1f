"""`lettr campaign resend CAMPAIGN --to non-openers [--subject TEXT] [--after 3d]`."""

from __future__ import annotations

from typing import Annotated

import typer

from lettr_cli.cli.command import JsonFlag
from lettr_cli.cli.output import emit_json, emit_line, say
from lettr_cli.cli.runtime import workspace


def resend(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(help="The sent campaign's id, name, or an id prefix (6+ characters).")
    ],
    to: Annotated[
        str, typer.Option("--to", help="Who gets it: non-openers (received it, did not open).")
    ],
    subject: Annotated[
        str | None, typer.Option("--subject", help="A new subject (default: the original's).")
    ] = None,
    after: Annotated[
        str | None,
        typer.Option("--after", help="Schedule it this long after the original was sent: 3d, 1w."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Resend a sent campaign to those who did not open it: a new draft, checked, reviewed and
    sent like any other; who is left out is decided when it is prepared."""
    import asyncio

    from lettr_cli.campaigns.audience import estimate
    from lettr_cli.campaigns.resend import resend_campaign
    from lettr_cli.campaigns.scheduling import schedule
    from lettr_cli.campaigns.times import describe
    from lettr_cli.delivery.objects import campaign_json

    ws = workspace(ctx)
    with ws.store.write() as session:
        campaign, at = resend_campaign(session, ref, to=to, subject=subject, after=after)
        count = estimate(session, campaign)
    say(f"Draft '{campaign.name}' goes to {count} non-openers as things stand now.")
    if at is not None:
        campaign, parsed = asyncio.run(schedule(ws, campaign.id, at.isoformat(), "UTC"))
        say(f"Scheduled for {describe(parsed.at, parsed.zone)}")
    if as_json:
        with ws.store.read() as session:
            emit_json(campaign_json(session, campaign))
    else:
        state = "is scheduled" if at is not None else "is a draft"
        emit_line(f"Campaign '{campaign.name}' ({campaign.id[:8]}) {state}.")
