"""`lettr init` and `lettr store`: where the store is, and consistent copies of it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper, YesFlag
from lettr_cli.cli.output import confirm, emit_json, emit_line
from lettr_cli.cli.runtime import workspace

app = LettrTyper(help="Look after the store file.")


def init(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Create and migrate the store if needed, and say where it is. Safe to run again."""
    ws = workspace(ctx)
    result = {
        "db": str(ws.store.path),
        "schema_version": ws.schema_version,
        "created": ws.store.created,
    }
    if as_json:
        emit_json(result)
        return
    state = "created" if ws.store.created else "already there"
    emit_line(f"Store {state}: {ws.store.path} (schema version {ws.schema_version})")


@app.command("backup")
def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the copy.", dir_okay=False)],
    yes: YesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Write a consistent copy of the store, safe while other processes use it."""
    ws = workspace(ctx)
    ws.store.backup_destination(file)  # refusals come before the question
    if file.exists():
        confirm(f"{file} exists. Overwrite it with a backup of the store?", yes=yes)
    size = ws.store.backup(file)
    result = {"path": str(file.expanduser().absolute()), "bytes": size}
    if as_json:
        emit_json(result)
    else:
        emit_line(f"Backup written: {result['path']} ({size} bytes)")
