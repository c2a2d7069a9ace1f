"""`lettr apikey`: the keys programs present to the HTTP API (`lettr serve`)."""

from __future__ import annotations

from typing import Annotated

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper
from lettr_cli.cli.output import emit_json, emit_line, say, show_table
from lettr_cli.cli.runtime import workspace

app = LettrTyper(help="Make, list and revoke the keys of the HTTP API (lettr serve).")

ALL_SCOPES = (
    "campaigns:read,campaigns:write,audience:read,audience:write,domains:read,domains:write"
)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name to tell it by.")],
    scopes: Annotated[
        str,
        typer.Option(
            "--scopes",
            help="Comma-separated: campaigns:read, campaigns:write, audience:read, "
            "audience:write, domains:read, domains:write (all six by default).",
        ),
    ] = ALL_SCOPES,
    as_json: JsonFlag = False,
) -> None:
    """Make a key and print it once: only its hash is kept, it cannot be shown again."""
    from lettr_cli.signing.api_keys import create_key, key_json

    with workspace(ctx).store.write() as session:
        made = create_key(session, name, [scopes])
        body = {"key": made.key, **key_json(made.row)}
    if as_json:
        emit_json(body)
        return
    emit_line(made.key)
    say(
        f"API key '{body['name']}' ({', '.join(body['scopes'])}): "
        "copy it now, it is not shown again."
    )


@app.command("list")
def list_keys(
    ctx: typer.Context,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked keys.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List the keys (never the keys themselves): name, scopes, when made and revoked."""
    from lettr_cli.signing.api_keys import active, all_keys, key_json

    with workspace(ctx).store.read() as session:
        items = [key_json(row) for row in (all_keys(session) if revoked else active(session))]
    if as_json:
        emit_json(items)
        return
    show_table(
        ["id", "name", "scopes", "created", "revoked"],
        (
            [k["id"], k["name"], ",".join(k["scopes"]), k["created_at"], k["revoked_at"] or ""]
            for k in items
        ),
    )


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The key's id or name.")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke a key: requests presenting it are refused from now on (401)."""
    from lettr_cli.signing.api_keys import key_json, revoke_key

    with workspace(ctx).store.write() as session:
        body = key_json(revoke_key(session, ref))
    if as_json:
        emit_json(body)
    else:
        emit_line(f"Revoked API key: {body['name']}")
