"""`lettr dns serve`: the loopback DNS responder, serving the records of the store's domains, so
that `lettr domain verify --nameserver` can be tried with no DNS provider at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from lettr_cli.cli.command import LettrTyper
from lettr_cli.cli.inputs import AnyPort, ListenHost
from lettr_cli.cli.output import say, warn
from lettr_cli.cli.runtime import workspace

if TYPE_CHECKING:
    import asyncio

    from lettr_cli.domains.responder import DnsResponder
    from lettr_cli.workspace import Workspace

app = LettrTyper(help="A DNS responder on loopback for trying domain verification offline.")

DEFAULT_PORT = 8053
REFRESH_SECONDS = 1.0


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: ListenHost = "127.0.0.1",
    port: AnyPort = DEFAULT_PORT,
) -> None:
    """Answer DNS TXT questions with the records of every domain in the store, until Ctrl-C.

    The records are the ones `lettr domain records` prints (DKIM, SPF, DMARC), read again from
    the store every second, over UDP and TCP; other names get NXDOMAIN. Nothing is forwarded.
    Try it with `lettr domain verify example.com --nameserver 127.0.0.1:8053`.
    """
    from lettr_cli.cli.live import run_until_signal
    from lettr_cli.domains.responder import DnsResponder
    from lettr_cli.domains.service import published_records
    from lettr_cli.errors import ValidationError
    from lettr_cli.settings import is_loopback_host

    ws = workspace(ctx)
    if not is_loopback_host(host):
        warn(f"{host} is not a loopback address: anyone who can reach it can ask it")
    responder = DnsResponder(published_records(ws), host=host, port=port)
    try:
        responder.start()
    except (OSError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValidationError.field("port", f"cannot listen on {host}:{port}: {reason}") from None

    async def serving(stop: asyncio.Event) -> None:
        import asyncio

        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=REFRESH_SECONDS)
            except TimeoutError:
                responder.serve_only(await asyncio.to_thread(published_records, ws))

    try:
        _listening(ws, responder)
        _, signalled = run_until_signal(serving)
    finally:
        responder.stop()
    say("Stopped.")
    if signalled is not None:
        raise typer.Exit(signalled)


def _listening(ws: Workspace, responder: DnsResponder) -> None:
    from lettr_cli.domains.service import list_domains

    names = [domain.domain for domain in list_domains(ws)[0]]
    say(f"lettr dns serve: listening on {responder.nameserver} (UDP and TCP; TXT records only)")
    if names:
        plural = "domain" if len(names) == 1 else "domains"
        say(f"Serving the records of {len(names)} {plural}: {', '.join(names)}")
        say(f"Try: lettr domain verify {names[0]} --nameserver {responder.nameserver}")
    else:
        say("No sending domain yet: `lettr domain add example.com` adds one; it is served at once.")
    say("Ctrl-C stops it.")
