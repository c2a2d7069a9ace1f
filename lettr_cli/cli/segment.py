"""`lettr segment`: saved audiences defined by condition groups (reference §12)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper, LimitOption, YesFlag
from lettr_cli.cli.output import (
    confirm_checked,
    emit_deleted,
    emit_json,
    emit_line,
    note_cut,
    show_table,
)
from lettr_cli.cli.runtime import workspace

app = LettrTyper(
    help=(
        "Segments: contacts chosen by conditions, OR inside a group and AND across groups, "
        "e.g. --where '(city equals Paris or city equals Lyon) and vip is_true'."
    )
)

Name = Annotated[str, typer.Argument(help="The segment's exact name.")]
Where = Annotated[
    str | None,
    typer.Option(
        "--where",
        help="Conditions as text: FIELD OPERATOR VALUE, joined by 'and'; "
        "'or' inside parentheses. Quote values with spaces.",
    ),
]
Conditions = Annotated[
    str | None,
    typer.Option(
        "--conditions",
        metavar="FILE.json",
        help='Conditions as JSON: {"groups": [{"conditions": [{"field", "operator", "value"}]}]} '
        "(- reads stdin).",
    ),
]
ListScope = Annotated[
    str | None, typer.Option("--list", help="Only contacts of this list (by name).")
]


def _print(body: dict[str, Any]) -> None:
    rows: list[list[object]] = [
        ["name", body["name"]],
        ["list", body["list_name"] or "(all contacts)"],
        ["where", body.get("where", "")],
        ["contacts_count", body["contacts_count"]],
    ]
    if "sample" in body:
        rows.append(["sample", ", ".join(body["sample"])])
    show_table(["field", "value"], rows)


def _emit(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(body)
    else:
        _print(body)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    where: Where = None,
    conditions: Conditions = None,
    list_name: ListScope = None,
    as_json: JsonFlag = False,
) -> None:
    """Save a segment; its conditions are checked now, and lists and topics kept by id."""
    from lettr_cli.audience.segments import service

    definition = service.required(service.Definition.given(where, conditions))
    with workspace(ctx).store.write() as session:
        segment = service.create_segment(session, name, definition, list_name=list_name)
        body = service.segment_json(session, segment, detail=True)
    _emit(body, as_json)


@app.command("list")
def list_segments(ctx: typer.Context, limit: LimitOption = 100, as_json: JsonFlag = False) -> None:
    """List every segment with its live number of contacts."""
    from lettr_cli.audience.segments import service

    with workspace(ctx).store.read() as session:
        segments = service.list_segments(session)
        shown = segments[:limit] if limit else segments
        items = [service.segment_json(session, s) for s in shown]
        if not as_json:
            rows = [
                [i["name"], i["list_name"], i["contacts_count"], service.where_text(session, s)]
                for i, s in zip(items, shown, strict=True)
            ]
    if as_json:
        emit_json(items)
    else:
        show_table(["name", "list", "contacts_count", "where"], rows)
    note_cut(len(items), len(segments))


@app.command("show")
def show(ctx: typer.Context, name: Name, as_json: JsonFlag = False) -> None:
    """Show a segment: its conditions as text and JSON, its live count and a sample."""
    from lettr_cli.audience.segments import resolve, service

    with workspace(ctx).store.read() as session:
        body = service.segment_json(session, resolve.find_segment(session, name), detail=True)
    _emit(body, as_json)


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: Name,
    new_name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    where: Where = None,
    conditions: Conditions = None,
    list_name: ListScope = None,
    no_list: Annotated[
        bool, typer.Option("--no-list", help="Remove the list scope: all contacts.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Change a segment's name, conditions or list scope; what is not given stays."""
    from lettr_cli.audience.segments import service

    definition = service.Definition.given(where, conditions)
    with workspace(ctx).store.write() as session:
        segment = service.edit_segment(
            session,
            name,
            new_name=new_name,
            definition=definition,
            list_name=list_name,
            no_list=no_list,
        )
        body = service.segment_json(session, segment, detail=True)
    _emit(body, as_json)


@app.command("delete")
def delete(ctx: typer.Context, name: Name, yes: YesFlag = False, as_json: JsonFlag = False) -> None:
    """Delete a segment; its contacts, lists and topics stay."""
    from lettr_cli.audience.segments import service

    ws = workspace(ctx)
    confirm_checked(
        ws,
        lambda session: service.deletable_segment(session, name),
        lambda _: f"Delete the segment '{name}'? Its contacts are kept.",
        yes=yes,
    )
    with ws.store.write() as session:
        deleted = service.delete_segment(session, name)
    emit_deleted([deleted], [name], as_json=as_json, noun="segment")


@app.command("preview")
def preview(
    ctx: typer.Context,
    where: Where = None,
    conditions: Conditions = None,
    list_name: ListScope = None,
    as_json: JsonFlag = False,
) -> None:
    """Count the contacts that conditions match, with a sample, without saving a segment."""
    from lettr_cli.audience.segments import service

    definition = service.required(service.Definition.given(where, conditions))
    with workspace(ctx).store.read() as session:
        body = service.preview(session, definition, list_name=list_name)
    if as_json:
        emit_json(body)
        return
    count = body["count"]
    emit_line(f"{count} contact matches" if count == 1 else f"{count} contacts match")
    for email in body["sample"]:
        emit_line(email)
