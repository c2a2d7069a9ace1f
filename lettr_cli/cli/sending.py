"""`lettr campaign send|approve|reject|retry`: start a send and follow it in the foreground
(CONTRACT "Sending, from the command line")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from lettr_cli.cli.command import JsonFlag, YesFlag
from lettr_cli.cli.inputs import CampaignRef
from lettr_cli.cli.output import confirm_checked, emit_json, emit_line, say
from lettr_cli.cli.runtime import workspace

if TYPE_CHECKING:
    from lettr_cli.delivery.leases import Holder, LeaseHandle
    from lettr_cli.workspace import Workspace

Detach = Annotated[
    bool,
    typer.Option("--detach", help="Return once the campaign is queued; `lettr daemon tick` sends."),
]


def _show(ws: Workspace, campaign_id: str, as_json: bool) -> dict[str, Any]:
    from lettr_cli.campaigns.campaigns import find_campaign
    from lettr_cli.delivery.objects import campaign_json

    with ws.store.read() as session:
        body = campaign_json(session, find_campaign(session, campaign_id))
    if as_json:
        emit_json(body)
    else:
        from lettr_cli.delivery.outbox import describe_counts

        outbox = describe_counts(body["outbox"], body["total_recipients"])
        emit_line(f"{body['name']}: {body['status']}; {outbox}")
    return body


def follow(ws: Workspace, campaign_id: str, taken: LeaseHandle | Holder, as_json: bool) -> None:
    """Drive the campaign in the foreground while holding its lease, then report and exit the
    contract's way: 0 when sent, parked in review, paused or waiting for retries; 1 when it
    failed or the relay failed; 130/143 after a signal."""
    from lettr_cli.cli.live import display, run_until_signal
    from lettr_cli.delivery.engine import CampaignRun
    from lettr_cli.delivery.leases import Holder
    from lettr_cli.delivery.run_outcome import Left, describe_result
    from lettr_cli.errors import CampaignNotSendable, StoreUnavailable
    from lettr_cli.store.failures import with_next_step

    if isinstance(taken, Holder):
        raise CampaignNotSendable(
            f"the campaign is being sent by another process ({taken.describe()}); "
            "`lettr campaign show ID --watch` follows it"
        )
    try:
        with display() as shown:
            result, signalled = run_until_signal(
                lambda stop: CampaignRun(ws, taken, observer=shown, stop=stop).drive()
            )
    except StoreUnavailable as error:
        # The campaign has left draft: it keeps its state, and the daemon picks it up again.
        raise with_next_step(error, "run `lettr daemon tick` to finish the send") from None
    body = _show(ws, campaign_id, as_json)
    left = Left(body["id"], body["status"], body["outbox"])
    outcome = describe_result(result, signalled=signalled, left=left)
    if outcome.error is not None:
        raise outcome.error
    for line in outcome.lines:
        say(line)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


def send(
    ctx: typer.Context,
    ref: CampaignRef,
    detach: Detach = False,
    yes: YesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Send a draft now: check it, resolve its audience, and send it with live progress."""
    import asyncio

    from lettr_cli.delivery.control import sendable, start_send

    ws = workspace(ctx)
    if not yes:
        # The question needs the checks' answer; with --yes the send's own checks (the same
        # ones, with the same refusals) run once, which spares a render and an audience count.
        checked, _ = confirm_checked(
            ws,
            lambda session: sendable(ws, session, ref),
            lambda found: f"Send '{found[0].name}' to about {found[1]} recipients now?",
            yes=yes,
        )
        ref = checked.id
    started = asyncio.run(start_send(ws, ref, detach=detach))
    campaign = started.campaign
    if started.handle is None:
        say(f"Queued: `lettr daemon tick` sends '{campaign.name}'.")
        _show(ws, campaign.id, as_json)
        return
    follow(ws, campaign.id, started.handle, as_json)


def approve(
    ctx: typer.Context, ref: CampaignRef, detach: Detach = False, as_json: JsonFlag = False
) -> None:
    """Let a campaign in review go on sending (and send it now, unless --detach)."""
    from lettr_cli.delivery.control import approve as approve_campaign
    from lettr_cli.delivery.control import take_lease

    ws = workspace(ctx)
    campaign = approve_campaign(ws, ref)
    say(f"Approved '{campaign.name}'.")
    if detach:
        _show(ws, campaign.id, as_json)
        return
    follow(ws, campaign.id, take_lease(ws, campaign.id), as_json)


def reject(
    ctx: typer.Context,
    ref: CampaignRef,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept as the failure reason).")],
    yes: YesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Stop a campaign in review: it fails and nothing is sent."""
    from lettr_cli.delivery.control import reject as reject_campaign
    from lettr_cli.delivery.control import rejectable

    ws = workspace(ctx)
    found = confirm_checked(
        ws,
        lambda session: rejectable(session, ref, reason),
        lambda campaign: f"Reject '{campaign.name}'? It fails and nothing is sent.",
        yes=yes,
    )
    campaign = reject_campaign(ws, found.id, reason)
    _show(ws, campaign.id, as_json)


def retry(
    ctx: typer.Context,
    ref: CampaignRef,
    in_doubt: Annotated[
        bool, typer.Option("--in-doubt", help="Send again to the rows whose outcome is unknown.")
    ] = False,
    failed_rows: Annotated[
        bool,
        typer.Option("--failed-rows", help="Send again to rows that failed after soft replies."),
    ] = False,
    detach: Detach = False,
    yes: YesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Requeue a sent campaign's in-doubt or soft-failed rows and send them."""
    from lettr_cli.delivery.control import retry as retry_campaign
    from lettr_cli.delivery.control import retryable, take_lease

    ws = workspace(ctx)
    which = "in-doubt rows" if in_doubt else "rows that failed after soft replies"
    found = confirm_checked(
        ws,
        lambda session: retryable(session, ref, in_doubt=in_doubt, failed_rows=failed_rows),
        lambda campaign: f"Send '{campaign.name}' again to its {which}? They may get it twice.",
        yes=yes,
    )
    campaign, count = retry_campaign(ws, found.id, in_doubt=in_doubt, failed_rows=failed_rows)
    say(f"Requeued {count} rows of '{campaign.name}'.")
    if detach:
        _show(ws, campaign.id, as_json)
        return
    follow(ws, campaign.id, take_lease(ws, campaign.id), as_json)
