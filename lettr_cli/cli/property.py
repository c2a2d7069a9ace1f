"""`lettr property`: custom properties, the fields every contact may hold (reference §9)."""

from __future__ import annotations

from typing import Annotated

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper, YesFlag
from lettr_cli.cli.output import confirm_checked, emit_deleted, emit_json, show_table
from lettr_cli.cli.runtime import workspace

app = LettrTyper(help="Define the custom properties that contacts hold and templates use.")

Name = Annotated[str, typer.Argument(help="The property name (lower-case letters, digits, _).")]
PropertyType = typer.Option(
    "--type", "-t", help="string, number, boolean, date or json; never changes later."
)
Fallback = Annotated[
    str | None, typer.Option("--fallback", help="Rendered when a contact has no value.")
]


def _emit(items: list[dict[str, object]], as_json: bool, *, single: bool) -> None:
    if as_json:
        emit_json(items[0] if single else items)
    else:
        show_table(
            ["name", "type", "fallback"],
            ([p["name"], p["type"], p["fallback_value"]] for p in items),
        )


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    kind: Annotated[str, PropertyType] = "string",
    fallback: Fallback = None,
    as_json: JsonFlag = False,
) -> None:
    """Define a property; its name and type are fixed from then on."""
    from lettr_cli.audience.properties import create_property, property_json

    with workspace(ctx).store.write() as session:
        body = property_json(create_property(session, name, kind, fallback))
    _emit([body], as_json, single=True)


@app.command("list")
def list_properties(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List every property with its type and fallback."""
    from lettr_cli.audience.properties import all_properties, property_json

    with workspace(ctx).store.read() as session:
        items = [property_json(p) for p in all_properties(session).values()]
    _emit(items, as_json, single=False)


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    fallback: Annotated[
        str | None, typer.Option("--fallback", help="The new fallback value.")
    ] = None,
    no_fallback: Annotated[
        bool, typer.Option("--no-fallback", help="Remove the fallback.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Change a property's fallback (the only thing that can change)."""
    from lettr_cli.audience.properties import property_json, update_fallback
    from lettr_cli.errors import ValidationError

    if (fallback is None) == (not no_fallback):
        raise ValidationError.field("fallback_value", "give either --fallback V or --no-fallback")
    with workspace(ctx).store.write() as session:
        body = property_json(update_fallback(session, name, None if no_fallback else fallback))
    _emit([body], as_json, single=True)


@app.command("delete")
def delete(ctx: typer.Context, name: Name, yes: YesFlag = False, as_json: JsonFlag = False) -> None:
    """Delete a property and every contact's value for it."""
    from lettr_cli.audience.properties import deletable_property, delete_property

    ws = workspace(ctx)
    confirm_checked(
        ws,
        lambda session: deletable_property(session, name),
        lambda _: f"Delete the property '{name}' and every contact's value for it?",
        yes=yes,
    )
    with ws.store.write() as session:
        deleted = delete_property(session, name)
    emit_deleted([deleted], [name], as_json=as_json, noun="property")
