"""`lettr template`: reusable, versioned content for campaigns (reference §23)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper, YesFlag
from lettr_cli.cli.inputs import read_text
from lettr_cli.cli.output import confirm_checked, emit_deleted, emit_json, emit_line, show_table
from lettr_cli.cli.runtime import workspace

app = LettrTyper(help="Keep versioned HTML templates that campaigns start from.")

Name = Annotated[str, typer.Argument(help="The template's exact name.")]
HtmlFile = Annotated[str, typer.Option("--html", help="The HTML file (- for stdin).")]
TextFile = Annotated[
    str | None, typer.Option("--text", help="A plain-text part (default: derived from the HTML).")
]


def _print(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(body)
        return
    show_table(
        ["name", "active version", "versions", "updated_at"],
        [[body["name"], body["version"], len(body["versions"]), body["updated_at"]]],
    )
    if "html_content" in body:
        emit_line("")
        emit_line(body["html_content"])


def _content(html: str, text: str | None) -> tuple[str, str | None]:
    return read_text(html, "html_content"), None if text is None else read_text(
        text, "text_content"
    )


@app.command("create")
def create(
    ctx: typer.Context, name: Name, html: HtmlFile, text: TextFile = None, as_json: JsonFlag = False
) -> None:
    """Create a template (version 1) from an HTML file."""
    from lettr_cli.campaigns import templates

    html_content, text_content = _content(html, text)
    with workspace(ctx).store.write() as session:
        body = templates.template_json(
            session, templates.create_template(session, name, html_content, text_content)
        )
    _print(body, as_json)


@app.command("update")
def update(
    ctx: typer.Context, name: Name, html: HtmlFile, text: TextFile = None, as_json: JsonFlag = False
) -> None:
    """Add a new version with new content and make it the active one."""
    from lettr_cli.campaigns import templates

    html_content, text_content = _content(html, text)
    with workspace(ctx).store.write() as session:
        body = templates.template_json(
            session, templates.update_template(session, name, html_content, text_content)
        )
    _print(body, as_json)


@app.command("list")
def list_templates(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List templates with their active version."""
    from lettr_cli.campaigns import templates

    with workspace(ctx).store.read() as session:
        items = [templates.template_json(session, t) for t in templates.all_templates(session)]
    if as_json:
        emit_json(items)
    else:
        show_table(
            ["name", "active version", "versions", "updated_at"],
            ([t["name"], t["version"], len(t["versions"]), t["updated_at"]] for t in items),
        )


@app.command("show")
def show(ctx: typer.Context, name: Name, as_json: JsonFlag = False) -> None:
    """Show a template with the content of its active version."""
    from lettr_cli.campaigns import templates

    with workspace(ctx).store.read() as session:
        body = templates.template_json(
            session, templates.find_template(session, name), content=True
        )
    _print(body, as_json)


@app.command("versions")
def versions(ctx: typer.Context, name: Name, as_json: JsonFlag = False) -> None:
    """List a template's versions and which one is active."""
    from lettr_cli.campaigns import templates

    with workspace(ctx).store.read() as session:
        items = templates.template_json(session, templates.find_template(session, name))["versions"]
    if as_json:
        emit_json(items)
    else:
        show_table(
            ["version", "created_at", "active"],
            ([v["version"], v["created_at"], "yes" if v["active"] else ""] for v in items),
        )


@app.command("activate")
def activate(
    ctx: typer.Context,
    name: Name,
    version: Annotated[int, typer.Argument(help="The version to make active.", min=1)],
    as_json: JsonFlag = False,
) -> None:
    """Make an earlier (or later) version the active one: a roll back."""
    from lettr_cli.campaigns import templates

    with workspace(ctx).store.write() as session:
        body = templates.template_json(session, templates.activate(session, name, version))
    _print(body, as_json)


@app.command("delete")
def delete(ctx: typer.Context, name: Name, yes: YesFlag = False, as_json: JsonFlag = False) -> None:
    """Delete a template and all its versions."""
    from lettr_cli.campaigns import templates

    ws = workspace(ctx)
    confirm_checked(
        ws,
        lambda session: templates.deletable_template(session, name),
        lambda _: f"Delete the template '{name}' and all its versions?",
        yes=yes,
    )
    with ws.store.write() as session:
        deleted = templates.delete_template(session, name)
    emit_deleted([deleted], [name], as_json=as_json, noun="template")
