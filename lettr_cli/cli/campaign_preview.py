"""`lettr campaign preview`: the message as a recipient would get it, links with test tokens;
`--links` lists where each tracked link's click goes (UTM-tagged when the campaign tags)."""

from __future__ import annotations

from typing import Annotated

import typer

from lettr_cli.cli.command import JsonFlag
from lettr_cli.cli.inputs import CampaignRef
from lettr_cli.cli.output import emit_json, emit_line, say, show_table
from lettr_cli.cli.runtime import workspace


def preview(
    ctx: typer.Context,
    ref: CampaignRef,
    as_email: Annotated[
        str | None, typer.Option("--as", help="Render for this contact (default: sample data).")
    ] = None,
    html: Annotated[bool, typer.Option("--html", help="Print the HTML part.")] = False,
    text: Annotated[bool, typer.Option("--text", help="Print the text part.")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Write the message bytes as sent.")] = False,
    links: Annotated[
        bool, typer.Option("--links", help="List each tracked link and where a click goes.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show exactly what a recipient would receive (links carry test tokens)."""
    import sys

    from lettr_cli.campaigns.campaigns import find_campaign
    from lettr_cli.campaigns.rendering import preview as render_preview
    from lettr_cli.errors import ValidationError

    if sum((html, text, raw, links)) > 1:
        raise ValidationError.field("format", "choose one of --html, --text, --raw and --links")
    ws = workspace(ctx)
    with ws.store.write() as session:
        result = render_preview(session, find_campaign(session, ref), ws.settings(), as_email)
    if raw:
        from lettr_cli.domains.service import sign_as_sender

        signed = sign_as_sender(ws, str(result.sender), result.raw)
        sys.stdout.buffer.write(signed)
        sys.stdout.buffer.flush()
    elif as_json:
        emit_json({"to": result.to, "subject": result.rendered.subject,
                   "html": result.rendered.html, "text": result.rendered.text,
                   "links": [{"number": link.number, "url": link.url}
                             for link in result.rendered.links if not link.own]})  # fmt: skip
    elif links:
        rows = [[link.number, link.url] for link in result.rendered.links if not link.own]
        if rows:
            show_table(["link", "a click goes to"], rows)
        else:
            say("No tracked links.")
    elif html:
        emit_line(result.rendered.html)
    else:
        if not text:
            emit_line(f"To: {result.to}")
            emit_line(f"Subject: {result.rendered.subject}")
            emit_line("")
        emit_line(result.rendered.text.rstrip("\n"))
