"""`lettr config`: show, read and change configuration (CONTRACT "Configuration")."""

from __future__ import annotations

from typing import Annotated

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper
from lettr_cli.cli.output import emit_json, emit_line, show_table, warn
from lettr_cli.cli.runtime import workspace
from lettr_cli.settings import KEYS, Setting, to_text

app = LettrTyper(help="Show and change configuration; LETTR_<KEY> in the environment overrides.")

KeyArgument = Annotated[str, typer.Argument(help="A configuration key, such as smtp.host.")]


@app.command("show")
def show_config(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show every key with its effective value and where it comes from."""
    settings = workspace(ctx).settings()
    if as_json:
        emit_json([item.to_json() for item in settings.all()])
        return
    show_table(
        ["key", "value", "source", "meaning"],
        (
            [item.key, to_text(item.value), item.source, KEYS[item.key].meaning]
            for item in settings.all()
        ),
    )
    if settings.smtp_password:
        emit_line("(an SMTP password is set in LETTR_SMTP_PASSWORD)")


@app.command("get")
def get_config(ctx: typer.Context, key: KeyArgument, as_json: JsonFlag = False) -> None:
    """Print one key's effective value (bare, for $(lettr config get KEY))."""
    item = workspace(ctx).settings().setting(key)
    if as_json:
        emit_json(item.value)
    else:
        emit_line(to_text(item.value))


@app.command("set")
def set_config(
    ctx: typer.Context,
    key: KeyArgument,
    value: Annotated[str, typer.Argument(help="The new value; checked against the key's range.")],
    as_json: JsonFlag = False,
) -> None:
    """Store a value for every process that opens this store."""
    _report(workspace(ctx).set_config(key, value), as_json)


@app.command("unset")
def unset_config(ctx: typer.Context, key: KeyArgument, as_json: JsonFlag = False) -> None:
    """Remove a stored value, so the default applies again."""
    _report(workspace(ctx).unset_config(key), as_json)


def _report(item: Setting, as_json: bool) -> None:
    if item.source == "env":
        warn(f"{KEYS[item.key].env_var} overrides the stored value in this environment")
    if as_json:
        emit_json(item.to_json())
    else:
        shown = to_text(item.value) if item.value not in (None, "") else "(unset)"
        emit_line(f"{item.key} = {shown} ({item.source})")


@app.command("rotate-secret")
def rotate_secret(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Add a new tracking key: new links use it, links already sent keep working."""
    from lettr_cli.signing import keys

    with workspace(ctx).store.write() as session:
        keys.signer(session)  # the first key, if there was none
        kid = keys.rotate(session)
    if as_json:
        emit_json({"kid": kid})
    else:
        emit_line(f"tracking key {kid} is now used for new links; older keys keep verifying")
