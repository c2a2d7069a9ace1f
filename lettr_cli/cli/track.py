"""`lettr track serve`: the tracking server (opens, clicks, unsubscribes, web versions)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Annotated

import typer

from lettr_cli.cli.command import LettrTyper
from lettr_cli.cli.inputs import ListenHost
from lettr_cli.cli.output import say, warn
from lettr_cli.cli.runtime import workspace

if TYPE_CHECKING:
    from lettr_cli.workspace import Workspace

app = LettrTyper(help="The tracking server that tracked links, the pixel and unsubscribes reach.")


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: ListenHost = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="The port to listen on.")
    ] = 8025,
) -> None:
    """Serve /o (opens), /c (clicks), /u (unsubscribes) and /v (web versions) until Ctrl-C.

    Links in messages point at tracking.base_url: put this server there (behind an https
    proxy for anything but loopback). The source address of an open is the connection's, so
    the proxy must pass the client's address on the connection (Apple's 17.0.0.0/8 rule).
    """
    import uvicorn

    from lettr_cli.settings import is_loopback_host
    from lettr_cli.tracking.app import create_app

    current = workspace(ctx)
    base_url = str(current.settings()["tracking.base_url"])
    if not is_loopback_host(host):
        warn(f"{host} is not a loopback address: serve tracking through an https proxy")
    say(f"lettr track: listening on http://{host}:{port}; links point at {base_url}")
    say("Ctrl-C stops it. One line per request: time, method, path (tokens cut), status, duration.")
    log_to_stderr(operator_zone_of(current), "lettr.tracking")
    app = create_app(current)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, server_header=False)


class _StderrLines(logging.Handler):
    """The tracking app's log records (one access line per request, warnings) on stderr, each
    after its time in the operator's zone."""

    def __init__(self, zone: tzinfo) -> None:
        super().__init__(logging.INFO)
        self.zone = zone

    def emit(self, record: logging.LogRecord) -> None:
        at = datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="seconds")
        warning = "Warning: " if record.levelno >= logging.WARNING else ""
        say(f"{at} {warning}{record.getMessage()}")


def log_to_stderr(zone: tzinfo, *names: str) -> None:
    """The loggers ``names`` (and theirs below) write to stderr, each line after its time."""
    for name in names:
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.handlers = [_StderrLines(zone)]


def operator_zone_of(current: Workspace) -> tzinfo:
    """Config ``timezone``, else the system's (CONTRACT "Times"); UTC if neither is usable."""
    from lettr_cli.campaigns.times import load_zone, operator_zone
    from lettr_cli.errors import LettrError

    try:
        return load_zone(operator_zone(None, current.settings().text("timezone")))
    except LettrError:
        return UTC
