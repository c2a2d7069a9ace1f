"""`lettr feedback import`: bounces (DSNs), complaints (ARF) and auto-replies read from files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper
from lettr_cli.cli.output import emit_json, emit_line, say
from lettr_cli.cli.runtime import workspace

app = LettrTyper(help="Bounces and spam complaints that come back by mail.")


def _printable(text: object) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="`.eml` files, mbox files or Maildir folders.", show_default=False),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Record bounces and complaints from delivery reports (RFC 3464) and feedback reports
    (RFC 5965); auto-replies are ignored, and a message imported before counts once."""
    from lettr_cli.tracking.feedback_import import import_feedback

    ws = workspace(ctx)
    step = 0

    def progress(done: int, total: int) -> None:
        nonlocal step
        if done == total or done - step >= 500:
            step = done
            say(f"{done} of {total} messages")

    summary = import_feedback(ws.store, paths, progress)
    if as_json:
        emit_json(summary.to_json())
        return
    emit_line(f"Messages: {summary.messages}")
    emit_line(f"Bounces: {summary.bounces}")
    emit_line(f"Complaints: {summary.complaints}")
    emit_line(f"Auto-replies: {summary.auto_replies}")
    emit_line(f"Duplicates: {summary.duplicates}")
    if summary.ignored:
        emit_line(f"Ignored (delays, reports about a message already counted): {summary.ignored}")
    emit_line(f"Unmatched: {len(summary.unmatched)}")
    for item in summary.unmatched:
        emit_line(f"  {_printable(item['source'])}: {_printable(item['reason'])}")
