"""`lettr track serve`: the tracking server (opens, clicks, unsubscribes, web versions)."""

from __future__ import annotations

from typing import Annotated

import typer

from lettr_cli.cli.command import LettrTyper
from lettr_cli.cli.output import say, warn
from lettr_cli.cli.runtime import workspace

app = LettrTyper(help="The tracking server that tracked links, the pixel and unsubscribes reach.")


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="The address to listen on (loopback by default).")
    ] = "127.0.0.1",
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
    say("Ctrl-C stops it.")
    uvicorn.run(create_app(current), host=host, port=port, log_level="info", server_header=False)
