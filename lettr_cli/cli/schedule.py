"""`lettr campaign schedule` and `unschedule` (CONTRACT "Times"; DESIGN "Lifecycle")."""

from __future__ import annotations

from typing import Annotated

import typer

from lettr_cli.cli.command import JsonFlag
from lettr_cli.cli.inputs import CampaignRef
from lettr_cli.cli.output import emit_json, emit_line, say
from lettr_cli.cli.runtime import workspace

At = Annotated[
    str,
    typer.Option(
        "--at",
        help="When it goes out: ISO 8601 (2026-12-01T09:00, with or without an offset), "
        "+30m, +2h, +1d or +1w from now, or a date such as 'Dec 1 2026 9am' (month first).",
    ),
]
Tz = Annotated[
    str | None,
    typer.Option(
        "--tz",
        help="The IANA zone (such as Europe/Paris) a time without an offset is read in and "
        "shown in; default: config timezone, else the system's zone.",
    ),
]


def schedule(
    ctx: typer.Context, ref: CampaignRef, at: At, tz: Tz = None, as_json: JsonFlag = False
) -> None:
    """Schedule a draft to go out at a time, or move a scheduled campaign to a new time."""
    import asyncio

    from lettr_cli.campaigns.scheduling import schedule as schedule_campaign
    from lettr_cli.campaigns.times import describe
    from lettr_cli.delivery.objects import campaign_json

    ws = workspace(ctx)
    campaign, parsed = asyncio.run(schedule_campaign(ws, ref, at, tz))
    if parsed.note:
        say(f"Note: {parsed.note}")
    say(f"Scheduled for {describe(parsed.at, parsed.zone)}")
    if as_json:
        with ws.store.read() as session:
            emit_json(campaign_json(session, campaign))
    else:
        emit_line(f"Campaign '{campaign.name}' ({campaign.id[:8]}) is scheduled.")


def unschedule(ctx: typer.Context, ref: CampaignRef, as_json: JsonFlag = False) -> None:
    """Take a scheduled campaign off the schedule: it becomes an editable draft again."""
    from lettr_cli.campaigns.scheduling import unschedule as unschedule_campaign
    from lettr_cli.delivery.objects import campaign_json

    ws = workspace(ctx)
    campaign = unschedule_campaign(ws, ref)
    if as_json:
        with ws.store.read() as session:
            emit_json(campaign_json(session, campaign))
    else:
        emit_line(f"Campaign '{campaign.name}' ({campaign.id[:8]}) is a draft again.")
