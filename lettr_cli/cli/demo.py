"""`lettr demo`: lettr end to end on embedded data, touching nothing of the user's."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lettr_cli.cli.output import emit_line, say

if TYPE_CHECKING:
    from lettr_cli.delivery.observer import RunResult
    from lettr_cli.sink import Sink
    from lettr_cli.workspace import Workspace

SINK_HOST = "127.0.0.1"


def demo(
    recipients: Annotated[
        int | None,
        typer.Option(
            "--recipients",
            min=1,
            max=100_000,
            help="How many recipients the campaign goes to (default: the sample's subscribed "
            "contacts); beyond them, demo-0001@example.org... are generated.",
        ),
    ] = None,
    maildir: Annotated[
        Path | None,
        typer.Option(
            "--maildir",
            file_okay=False,
            help="Where the sink keeps the messages (default: a new lettr-demo-mail-* folder "
            "in the temporary directory). Kept after the demo.",
        ),
    ] = None,
) -> None:
    """Build a temporary store, verify a sender domain, and send a real campaign to a sink.

    Everything happens in a temporary store (removed at the end) and on loopback, on ephemeral
    ports: the bundled sample audience goes into a list, a segment is made over it, the domain
    example.com is verified through a DNS responder on loopback, and a campaign from the
    bundled template is sent through the real engine to an SMTP sink running in this process.
    The messages stay in a Maildir, one file per recipient, whose path is printed at the end.
    Your own store and LETTR_* settings are never read or changed.
    """
    from lettr_cli.cli.progress import progress
    from lettr_cli.demo.build import add_audience, add_campaign, audience_steps, open_store
    from lettr_cli.demo.engage import engage, running_tracker
    from lettr_cli.sink import running_sink

    def step(text: str) -> None:
        say(f"✓ {text}")

    mail = maildir if maildir is not None else Path(tempfile.mkdtemp(prefix="lettr-demo-mail-"))
    with (
        tempfile.TemporaryDirectory(prefix="lettr-demo-") as folder,
        running_sink(mail, host=SINK_HOST) as sink,
    ):
        step(f"started an SMTP sink on {sink.address}, keeping messages in {sink.maildir}")
        workspace = open_store(Path(folder))
        try:
            step(f"created a temporary store {workspace.store.where} (plan.tier enterprise)")
            with progress("Importing the audience") as importing:
                audience = add_audience(workspace, recipients, importing=importing)
            for text in audience_steps(audience):
                step(text)
            with running_tracker(workspace) as base_url:
                step(f"started the tracking server on {base_url} (lettr track serve)")
                campaign_id, _ = add_campaign(
                    workspace, relay_host=sink.host, relay_port=sink.port, step=step
                )
                _send(workspace, campaign_id, sink)
                read = engage(sink.maildir, base_url)
                step(
                    f"read the kept messages as people would, after the machine-open window: "
                    f"{read.opens} opened, {read.clicks} clicked, through {base_url}"
                )
            _show_report(workspace, campaign_id)
        finally:
            workspace.close()
        emit_line(f"Demo store: {Path(folder) / 'lettr.db'} (removed on exit)")


def _show_report(workspace: Workspace, campaign_id: str) -> None:
    """`lettr campaign report` of the demo's campaign, opens and clicks included."""
    from lettr_cli.analytics.stats import report
    from lettr_cli.cli.analytics import print_report

    with workspace.store.read() as session:
        body = report(session, campaign_id)
    emit_line("")
    print_report(body)
    emit_line("")


def _send(workspace: Workspace, campaign_id: str, sink: Sink) -> None:
    from lettr_cli.cli.live import display, run_until_signal
    from lettr_cli.demo.send import outcome, send_campaign

    began = time.monotonic()
    with display() as shown:
        result, signalled = run_until_signal(
            lambda stop: send_campaign(workspace, campaign_id, observer=shown, stop=stop)
        )
    seconds = time.monotonic() - began
    body = outcome(workspace, campaign_id)
    _report(body, sink, seconds)
    if signalled is not None:
        say("Stopped before the end of the send; the temporary store is removed.")
        raise typer.Exit(signalled)
    _refuse_unfinished(result, body)


def _report(body: dict[str, Any], sink: Sink, seconds: float) -> None:
    from lettr_cli.delivery.outbox import describe_counts

    stats = body["stats"]
    outbox = describe_counts(body["outbox"], body["total_recipients"])
    emit_line(
        f"Campaign '{body['name']}' ({body['id']}): {body['status']}; {outbox} recipients, "
        f"in {seconds:.1f} s"
    )
    emit_line("Stats: " + ", ".join(f"{stats[key]} {key.replace('_', ' ')}" for key in _STATS))
    emit_line(f"Messages: {sink.files} kept in the Maildir {sink.maildir} (not removed)")
    say(
        "Each recipient's copy is a file in new/, with Return-Path and Delivered-To on top; "
        f"any Maildir reader opens them (mutt -f {sink.maildir})."
    )
    say("To try lettr with your own store and no relay: `lettr sink` (see lettr sink --help).")


# Opens, clicks and unsubscribes come later (the readers run after the send): the report
# at the end shows them.
_STATS = ("injections", "deliveries", "bounces")


def _refuse_unfinished(result: RunResult, body: dict[str, Any]) -> None:
    from lettr_cli.campaigns import lifecycle
    from lettr_cli.errors import CampaignNotSendable, TransmissionFailed

    if result.relay_failure is not None:
        raise TransmissionFailed(f"the sink refused the messages: {result.relay_failure}")
    if body["status"] == lifecycle.FAILED:
        raise CampaignNotSendable(f"the campaign failed: {body['failure_reason']}")
    if body["status"] != lifecycle.SENT:
        raise CampaignNotSendable(f"the demo's campaign ended {body['status']}, not sent")
