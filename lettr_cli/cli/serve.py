"""`lettr serve`: Lettr's HTTP API under /api and the tracking endpoints at /, in one process."""

from __future__ import annotations

from typing import Annotated

import typer

from lettr_cli.cli.command import NameserverOption
from lettr_cli.cli.inputs import ListenHost
from lettr_cli.cli.output import say, warn
from lettr_cli.cli.runtime import workspace
from lettr_cli.cli.track import log_to_stderr, operator_zone_of


def serve(
    ctx: typer.Context,
    host: ListenHost = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="The port to listen on.")
    ] = 8025,
    nameserver: NameserverOption = None,
) -> None:
    """Serve Lettr's API under /api (bearer keys: `lettr apikey create`) and the tracking
    endpoints at / until Ctrl-C or SIGTERM.

    Programs written for Lettr's SDK run against it with base_url http://HOST:PORT/api. It sends
    nothing itself: a send asked for over the API is left to the daemon (`lettr daemon run`).
    A domain verified over the API is looked up at --nameserver, else the system's resolver.
    """
    import uvicorn

    from lettr_cli.addressing.domains import nameserver_address
    from lettr_cli.api.app import create_app
    from lettr_cli.settings import is_loopback_host

    if nameserver is not None:
        nameserver_address(nameserver)  # refused before the server starts, not per request
    current = workspace(ctx)
    if not is_loopback_host(host):
        warn(
            f"{host} is not a loopback address: API keys and audience data cross the network "
            "unencrypted unless a TLS proxy (https) fronts this server"
        )
    say(f"lettr serve: API at http://{host}:{port}/api, tracking at http://{host}:{port}/")
    say("Ctrl-C stops it. One line per request: time, method, path (tokens cut), status, duration.")
    log_to_stderr(operator_zone_of(current), "lettr.tracking", "lettr.api")
    app = create_app(current, nameserver=nameserver)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, server_header=False)
