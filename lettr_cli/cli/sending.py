"""`lettr campaign send|approve|reject|retry`: start a send and follow it in the foreground
(CONTRACT "Sending, from the command line")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from lettr_cli.cli.command import JsonFlag, YesFlag
from lettr_cli.cli.output import confirm_checked, emit_json, emit_line, say
from lettr_cli.cli.runtime import workspace

if TYPE_CHECKING:
    from lettr_cli.delivery.leases import Holder, LeaseHandle
    from lettr_cli.delivery.observer import RunResult
    from lettr_cli.workspace import Workspace

Ref = Annotated[
    str, typer.Argument(help="The campaign's id, name, or an id prefix (6+ characters).")
]
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
        counts = body["outbox"]
        emit_line(
            f"{body['name']}: {body['status']}; {counts['sent']} sent, {counts['failed']} failed, "
            f"{counts['bounced']} bounced, {counts['skipped']} skipped, "
            f"{counts['in_doubt']} in doubt, {counts['queued']} queued of "
            f"{body['total_recipients']}"
        )
    return body


def in_doubt_advice(campaign_id: str, count: int, status: str) -> str:
    """What to do about ``count`` messages in doubt: the exact command that sends them again
    (``retry`` takes sent campaigns only)."""
    what = "1 message is" if count == 1 else f"{count} messages are"
    retry = f"`lettr campaign retry {campaign_id} --in-doubt` sends them again"
    when = "" if status == "sent" else "once the campaign is sent, "
    return (
        f"{what} in doubt (the relay may have them): `lettr campaign show {campaign_id}` "
        f"lists them; {when}{retry}."
    )


def _stopped(body: dict[str, Any]) -> None:
    """After SIGINT or SIGTERM: what the drain left, as the store has it."""
    counts, status = body["outbox"], body["status"]
    left = counts["queued"] + counts["claimed"]
    if status == "sent":
        say("Stopped: nothing was left to send; the campaign is sent.")
    elif left:
        say(f"Stopped: {left} rows are still queued; `lettr daemon tick` finishes the send.")
    else:
        say(f"Stopped while the campaign was {status}; `lettr daemon tick` goes on from there.")
    if counts["in_doubt"]:
        say(in_doubt_advice(body["id"], counts["in_doubt"], status))


def follow(ws: Workspace, campaign_id: str, taken: LeaseHandle | Holder, as_json: bool) -> None:
    """Drive the campaign in the foreground while holding its lease, then report and exit the
    contract's way: 0 when sent, parked in review, paused or waiting for retries; 1 when it
    failed or the relay failed; 130/143 after a signal."""
    from lettr_cli.cli.live import display, run_until_signal
    from lettr_cli.delivery.engine import CampaignRun
    from lettr_cli.delivery.leases import Holder
    from lettr_cli.errors import CampaignNotSendable, StoreUnavailable, TransmissionFailed
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
    if signalled is not None:
        _stopped(body)
        raise typer.Exit(signalled)
    if result.relay_failure is not None:
        raise TransmissionFailed(
            f"{result.relay_failure}. Nothing was marked failed; the campaign resumes with "
            "`lettr daemon tick` once the relay works."
        )
    if result.status == "failed":
        raise CampaignNotSendable(f"the campaign failed: {result.failure_reason}")
    _explain(result)


def _explain(result: RunResult) -> None:
    if result.status == "in_review":
        say(
            f"Parked in review: {result.failure_reason}. `lettr campaign approve "
            f"{result.campaign_id[:8]}` sends it; `lettr campaign reject` stops it."
        )
    elif result.paused:
        say("Paused: sending.paused or the PAUSE file is set; nothing new was claimed.")
    elif result.lease_lost:
        say("Another process took over this campaign's lease; it goes on sending it.")
    elif result.status == "sending":
        with_retry = ""
        if result.retry_at is not None:
            with_retry = f" the next is due at {result.retry_at.isoformat(timespec='seconds')};"
        say(f"Only scheduled retries remain:{with_retry} `lettr daemon tick` finishes them.")
    if result.in_doubt:
        say(in_doubt_advice(result.campaign_id, result.in_doubt, result.status))


def send(
    ctx: typer.Context,
    ref: Ref,
    detach: Detach = False,
    yes: YesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Send a draft now: check it, resolve its audience, and send it with live progress."""
    import asyncio

    from lettr_cli.delivery.control import sendable, start_send

    ws = workspace(ctx)
    campaign, _ = confirm_checked(
        ws,
        lambda session: sendable(ws, session, ref),
        lambda found: f"Send '{found[0].name}' to about {found[1]} recipients now?",
        yes=yes,
    )
    started = asyncio.run(start_send(ws, campaign.id, detach=detach))
    if started.handle is None:
        say(f"Queued: `lettr daemon tick` sends '{campaign.name}'.")
        _show(ws, campaign.id, as_json)
        return
    follow(ws, campaign.id, started.handle, as_json)


def approve(
    ctx: typer.Context, ref: Ref, detach: Detach = False, as_json: JsonFlag = False
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
    ref: Ref,
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
    ref: Ref,
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
