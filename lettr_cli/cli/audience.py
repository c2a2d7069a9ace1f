"""`lettr audience`: the audience as a whole (issue "Engagement": `audience health`)."""

from __future__ import annotations

from typing import Annotated

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper
from lettr_cli.cli.output import display_time, emit_json, emit_line
from lettr_cli.cli.runtime import workspace

app = LettrTyper(help="The audience as a whole: how engaged it is.")


@app.command("health")
def health(
    ctx: typer.Context,
    list_name: Annotated[
        str | None, typer.Option("--list", help="Only the subscribed members of this list.")
    ] = None,
    segment: Annotated[
        str | None, typer.Option("--segment", help="Only the subscribed members of this segment.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Subscribed contacts by when they last opened or clicked; machine opens do not count.

    Buckets: within 7 days, 8-30, 31-90, 91-180 days, older, never."""
    from lettr_cli.analytics.chart import bar_chart
    from lettr_cli.analytics.health import audience_health

    ws = workspace(ctx)
    with ws.store.read() as session:
        body = audience_health(session, list_name=list_name, segment_name=segment)
    if as_json:
        emit_json(body)
        return
    scope = (
        f"list {list_name}"
        if list_name is not None
        else f"segment {segment}"
        if segment is not None
        else "all contacts"
    )
    emit_line(f"Audience health: {body['total']} subscribed ({scope}), as of "
              f"{display_time(body['as_of'])}")  # fmt: skip
    emit_line("Last open or click (machine opens not counted):")
    rows = [(bucket["label"], bucket["contacts"]) for bucket in body["buckets"]]
    for line in bar_chart(rows):
        emit_line(line)
