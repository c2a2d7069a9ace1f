"""`lettr daemon tick|run`: the cron-driven pass, and a loop of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper, report_error
from lettr_cli.cli.output import emit_json, say
from lettr_cli.cli.runtime import workspace

if TYPE_CHECKING:
    from lettr_cli.daemon import TickResult
    from lettr_cli.workspace import Workspace

app = LettrTyper(help="Send what is due: scheduled campaigns, queued sends and retries.")


def _report(ws: Workspace, result: TickResult, as_json: bool) -> None:
    body = result.to_json(ws)
    if as_json:
        emit_json(body)
    if result.archive_failure is not None:
        say(f"Warning: the event archive failed: {result.archive_failure}")
    for campaign_id, moved in result.archived.items():
        say(f"archived {moved} events of campaign {campaign_id} (past its 30-day window)")
    if result.paused:
        say("paused: sending.paused or the PAUSE file is set; nothing was claimed")
    for item in body["campaigns"]:
        retry = f", next retry at {item['retry_at'].isoformat()}" if item["retry_at"] else ""
        say(
            f"{item['name']}: {item['status']}; {item['sent']} sent, {item['failed']} failed, "
            f"{item['bounced']} bounced, {item['in_doubt']} in doubt{retry}"
        )
        if item["in_doubt"]:
            from lettr_cli.delivery.run_outcome import in_doubt_advice

            say(in_doubt_advice(item["id"], item["in_doubt"], item["status"]))
    for skipped in result.skipped:
        say(f"{skipped.name}: skipped, being prepared by {skipped.holder.describe()}")
    sent = result.confirmations
    if sent.anything:
        say(
            f"confirmation mails: {sent.sent} sent, {len(sent.refused)} refused, "
            f"{sent.queued} still queued"
        )
    for refused in sent.refused:
        say(f"confirmation mail to {refused['email']} refused: {refused['reply']}")
    if sent.failure is not None:
        say(f"Warning: queued confirmation mails were not sent: {sent.failure}")


def _exit_code(result: TickResult, signalled: int | None, as_json: bool) -> int:
    if signalled is not None:
        return signalled
    if result.relay_failure is not None:
        from lettr_cli.errors import TransmissionFailed

        report_error(TransmissionFailed(result.relay_failure), as_json=as_json)
        return 1
    return 0


@app.command("tick")
def tick(
    ctx: typer.Context,
    max_seconds: Annotated[
        float | None,
        typer.Option("--max-seconds", min=1, help="Stop claiming after this many seconds."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """One pass for cron: start due campaigns and send until nothing is due."""
    from lettr_cli.cli.live import display, run_until_signal
    from lettr_cli.daemon import tick as run_tick

    ws = workspace(ctx)
    with display() as shown:
        result, signalled = run_until_signal(
            lambda stop: run_tick(ws, observer=shown, stop=stop, max_seconds=max_seconds)
        )
    _report(ws, result, as_json)
    code = _exit_code(result, signalled, as_json)
    if code:
        raise typer.Exit(code)


@app.command("run")
def run(
    ctx: typer.Context,
    interval: Annotated[
        float | None,
        typer.Option("--interval", min=1, help="Seconds between passes (config daemon.interval)."),
    ] = None,
) -> None:
    """Pass after pass until SIGINT or SIGTERM, which drain the send in progress."""
    import asyncio

    from lettr_cli.cli.live import display, run_until_signal
    from lettr_cli.daemon import tick as run_tick
    from lettr_cli.errors import StoreUnavailable
    from lettr_cli.store.failures import with_next_step

    ws = workspace(ctx)
    pause = interval or float(ws.settings().integer("daemon.interval"))

    async def loop(stop: asyncio.Event) -> None:
        with display() as shown:
            while not stop.is_set():
                try:
                    result = await run_tick(ws, observer=shown, stop=stop)
                except StoreUnavailable as error:
                    # A full disk or a store made read-only may be fixed while the daemon waits.
                    say(with_next_step(error, f"the daemon tries again in {pause:.0f}s").message)
                else:
                    if result.relay_failure is not None:
                        say(
                            f"the relay failed: {result.relay_failure}; "
                            f"trying again in {pause:.0f}s"
                        )
                try:
                    await asyncio.wait_for(stop.wait(), timeout=pause)
                except TimeoutError:
                    continue

    _, signalled = run_until_signal(loop)
    if signalled is not None:
        raise typer.Exit(signalled)
