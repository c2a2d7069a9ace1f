"""`lettr sink`: a local SMTP server that keeps what it accepts, for trying lettr with no relay."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lettr_cli.cli.inputs import AnyPort, ListenHost
from lettr_cli.cli.output import say, warn
from lettr_cli.cli.runtime import runtime

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Coroutine

    from lettr_cli.sink import Arrival, Sink

SINK_FOLDER = "sink"


def printable(text: str, limit: int = 120) -> str:
    """Text from the network made safe for a terminal: no control characters, not too long."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def arrival_line(arrival: Arrival) -> str:
    """One line per message: local time, envelope sender and recipients, subject, size."""
    stamp = time.strftime("%H:%M:%S", time.localtime(arrival.at.timestamp()))
    recipients = ", ".join(printable(r, 60) for r in arrival.recipients)
    return (
        f"{stamp} {printable(arrival.mail_from, 80) or '<>'} → {recipients} "
        f'"{printable(arrival.subject)}" {arrival.size} bytes'
    )


def sink(
    ctx: typer.Context,
    host: ListenHost = "127.0.0.1",
    port: AnyPort = 2525,
    maildir: Annotated[
        Path | None,
        typer.Option(
            "--maildir",
            help="The Maildir to keep messages in (default: $LETTR_HOME/sink).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Run an SMTP server that keeps every message in a Maildir, until Ctrl-C (or SIGTERM).

    Plain SMTP, no TLS, no AUTH, nothing relayed: point lettr at it with `lettr config set
    smtp.host 127.0.0.1`, `smtp.port 2525` and `smtp.security none`. One line per message
    goes to stderr; each recipient's copy is a file (0600) with Return-Path and Delivered-To.
    """
    from lettr_cli.cli.live import run_until_signal
    from lettr_cli.settings import is_loopback_host
    from lettr_cli.sink import serve

    folder = maildir if maildir is not None else runtime(ctx).home / SINK_FOLDER
    if not is_loopback_host(host):
        warn(f"{host} is not a loopback address: anyone who can reach it can leave mail here")

    def listening(sink: Sink) -> None:
        say(f"lettr sink: listening on {sink.address} (SMTP, no TLS, no AUTH; nothing relayed)")
        say(f"Messages go to the Maildir {sink.maildir}")
        say(
            f"Point lettr at it: lettr config set smtp.host {sink.host}; "
            f"lettr config set smtp.port {sink.port}; lettr config set smtp.security none"
        )
        say("Ctrl-C stops it.")

    def arrived(arrival: Arrival) -> None:
        say(arrival_line(arrival))

    def serving(stop: asyncio.Event) -> Coroutine[Any, Any, Sink]:
        return serve(folder, stop=stop, host=host, port=port, report=arrived, listening=listening)

    sink_state, signalled = run_until_signal(serving)
    say(f"Stopped: {sink_state.kept} messages kept in {sink_state.maildir}")
    if signalled is not None:
        raise typer.Exit(signalled)
