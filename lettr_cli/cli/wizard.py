"""`lettr wizard [CAMPAIGN]`: the Textual builder (``lettr_cli.tui``), imported only here so that
no other command loads Textual."""

from __future__ import annotations

from typing import Annotated

import typer

from lettr_cli.cli.output import stdin_is_terminal
from lettr_cli.cli.runtime import workspace


def wizard(
    ctx: typer.Context,
    ref: Annotated[
        str | None,
        typer.Argument(help="Reopen this campaign (id, name or id prefix); default: a new draft."),
    ] = None,
) -> None:
    """Build a campaign in four steps (Compose, Audience, Schedule, Review) in the terminal."""
    import sys

    from lettr_cli.errors import ValidationError

    if not (stdin_is_terminal() and sys.stdout.isatty()):
        raise ValidationError.field(
            "terminal",
            "lettr wizard needs a terminal; without one, use `lettr campaign create`, "
            "`campaign audience`, `campaign review` and `campaign send`",
        )
    ws = workspace(ctx)
    if ref is not None:
        from lettr_cli.tui.draft import Draft

        Draft.open(ws, ref)  # an unknown campaign is refused before the screen opens
    from lettr_cli.tui.app import WizardApp

    code = WizardApp(ws, ref).run()
    raise typer.Exit(code or 0)
