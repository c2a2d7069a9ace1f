"""`lettr init` and `lettr store`: where the store is, and consistent copies of it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper, YesFlag
from lettr_cli.cli.output import confirm, emit_json, emit_line, say, show_table
from lettr_cli.cli.runtime import workspace

app = LettrTyper(help="Look after the store: backups, and copies to another engine.")


def init(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Create and migrate the store if needed, and say where it is. Safe to run again."""
    ws = workspace(ctx)
    result = {
        "db": ws.store.where,
        "schema_version": ws.schema_version,
        "created": ws.store.created,
    }
    if as_json:
        emit_json(result)
        return
    state = "created" if ws.store.created else "already there"
    emit_line(f"Store {state}: {ws.store.where} (schema version {ws.schema_version})")


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


@app.command("copy")
def copy(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The empty store to copy into: a file path, sqlite:///PATH or postgresql://URL.",
        ),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Copy every table of the store (config, secrets, DKIM and tracking keys included) into an
    empty store of either engine: SQLite to PostgreSQL and back. Rows are counted on both sides."""
    from lettr_cli.errors import ValidationError
    from lettr_cli.store.copying import copy_store
    from lettr_cli.store.location import parse_location

    try:
        target = parse_location(to)
    except ValidationError as exc:  # the message names no password; the field is --to here
        raise ValidationError.field("to", exc.message) from None
    ws = workspace(ctx)
    result = copy_store(ws.store, target)
    if as_json:
        emit_json(result.to_json())
        return
    show_table(["table", "rows"], [[t.table, t.rows] for t in result.tables])
    say(
        f"Copied {sum(t.rows for t in result.tables)} rows in {len(result.tables)} tables from "
        f"{result.source} to {result.target} (schema version {result.schema_version}); every "
        "table's count matches the source."
    )
