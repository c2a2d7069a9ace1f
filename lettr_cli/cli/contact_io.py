"""`lettr contact import` and `lettr contact export`: contacts in and out as CSV (reference §13)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from lettr_cli.cli.command import JsonFlag, YesFlag
from lettr_cli.cli.contact import app
from lettr_cli.cli.contact_optin import (
    DoubleOptIn,
    From,
    FromName,
    Redirect,
    Subject,
    Template,
    import_with_double_opt_in,
    refuse_mail_options,
)
from lettr_cli.cli.output import confirm, emit_json, emit_line, say, warn
from lettr_cli.cli.runtime import workspace
from lettr_cli.errors import ConfirmationRequired, ValidationError

if TYPE_CHECKING:
    from lettr_cli.audience.importer import ImportSummary

SHOWN_ERRORS = 10


class OnDuplicate(StrEnum):
    skip = "skip"
    update = "update"


@app.command("import")
def import_contacts(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="The CSV file, or - to read it from stdin.")],
    lists: Annotated[
        list[str] | None, typer.Option("--list", help="Add every imported contact to this list.")
    ] = None,
    topics: Annotated[
        list[str] | None,
        typer.Option("--topic", help="Opt every imported contact in to this topic."),
    ] = None,
    on_duplicate: Annotated[
        OnDuplicate,
        typer.Option(
            "--on-duplicate",
            help="For addresses that exist already: leave them (skip) or overwrite their "
            "properties and status (update; asks first).",
        ),
    ] = OnDuplicate.skip,
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="COLUMN=FIELD: read a column as email, status, a property, or - to ignore it.",
        ),
    ] = None,
    create_properties: Annotated[
        bool,
        typer.Option(
            "--create-properties",
            help="Create a property for each unknown column, its type inferred from its values.",
        ),
    ] = False,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="The file's encoding (default UTF-8).")
    ] = None,
    double_opt_in: DoubleOptIn = False,
    template: Template = None,
    from_email: From = None,
    from_name: FromName = None,
    subject: Subject = None,
    redirect: Redirect = None,
    yes: YesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Import contacts from a CSV file with a header row; bad rows are reported and skipped.

    The email column is found by its header; a status column is honoured (an import never
    re-subscribes anyone); other columns fill the properties whose names match their headers.
    The import is one transaction: refused or interrupted, it changes nothing.
    """
    from lettr_cli.audience.importer import ImportRequest, check_import
    from lettr_cli.audience.importer import import_contacts as run_import
    from lettr_cli.audience.plan import usage
    from lettr_cli.cli.progress import progress

    name = "stdin" if file == "-" else file
    request = ImportRequest(
        name=name,
        lists=lists or (),
        topics=topics or (),
        on_duplicate=on_duplicate.value,
        maps=maps or (),
        create_properties=create_properties,
        encoding=encoding,
    )
    ws = workspace(ctx)
    queued = None
    if double_opt_in:
        mail = {"template": template, "from": from_email, "subject": subject}
        request, queued = import_with_double_opt_in(
            ws, request, mail | {"from_name": from_name, "redirect": redirect}
        )
    else:
        refuse_mail_options(template, from_email, from_name, subject, redirect)
    label = f"Importing {'stdin' if file == '-' else Path(file).name}"
    with _open_input(file) as source:
        if on_duplicate is OnDuplicate.update:
            check_import(ws.store, source, request)  # refusals come before the question
            if file == "-" and not yes:
                raise ConfirmationRequired(
                    "--on-duplicate update overwrites existing contacts; with the file on "
                    "stdin, pass --yes to confirm."
                )
            confirm(
                f"Update the contacts of {name} that exist already (their properties, and "
                "their status where the file gives one)?",
                yes=yes,
            )
        with progress(label) as report:
            summary = run_import(ws.store, source, request, report)
    for message in summary.warnings:
        warn(message)
    for prop, kind in summary.new_properties.items():
        say(f"Created the property {prop} ({kind})")
    if queued is not None:
        say(
            f"{queued.count} confirmation mail(s) queued; `lettr daemon tick` sends them "
            "(at most sending.rate a second)"
        )
    if as_json:
        emit_json(summary.to_json())
    else:
        _print_summary(name, summary)
    with ws.store.read() as session:
        plan = usage(session, ws.settings())
    if plan.over:
        warn(plan.describe())


@contextmanager
def _open_input(file: str) -> Iterator[BinaryIO]:
    if file == "-":
        yield sys.stdin.buffer
        return
    try:
        source = Path(file).expanduser().open("rb")
    except OSError as exc:
        raise ValidationError.field("file", f"cannot read {file}: {exc.strerror}") from None
    with source:
        yield source


def _print_summary(name: str, summary: ImportSummary) -> None:
    body = summary.to_json()
    reasons = body["skipped_by_reason"]
    emit_line(
        f"Imported {name}: {body['created']} created, {body['updated']} updated, "
        f"{body['skipped']} skipped, {body['invalid']} invalid"
    )
    if added := body["added_to_groups"]:
        who = "1 existing contact" if added == 1 else f"{added} existing contacts"
        emit_line(f"  {who} added to lists or topics")
    if body["skipped"] > reasons["empty_row"] or reasons["opt_out_kept"]:
        emit_line(
            f"  existing {reasons['existing']}, duplicate in the file "
            f"{reasons['duplicate_in_file']}, opt-out kept {reasons['opt_out_kept']}"
        )
    if empty := reasons["empty_row"]:
        emit_line(f"  {empty} empty {'row' if empty == 1 else 'rows'} skipped")
    for error in summary.errors[:SHOWN_ERRORS]:
        who = f"{error.email}: " if error.email else ""
        emit_line(f"  line {error.line}: {who}{error.error} [{error.error_code}]")
    if len(summary.errors) > SHOWN_ERRORS:
        emit_line(f"  … and {len(summary.errors) - SHOWN_ERRORS} more (--json lists them all)")


@app.command("export")
def export_contacts(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="The CSV file to write, or - for stdout.")],
    status: Annotated[str | None, typer.Option(help="Only contacts with this status.")] = None,
    list_name: Annotated[
        str | None, typer.Option("--list", help="Only members of this list.")
    ] = None,
    topic: Annotated[str | None, typer.Option(help="Only contacts opted in to this topic.")] = None,
    search: Annotated[str | None, typer.Option(help="Address or name contains this text.")] = None,
    segment: Annotated[str | None, typer.Option(help="Only members of this segment.")] = None,
    yes: YesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Export every matching contact as CSV (never cut by a limit); it imports back unchanged.

    With a FILE, prints how many contacts were written ({"path", "contacts"} with --json);
    with -, stdout carries the CSV itself.
    """
    from lettr_cli.audience.contacts import ContactFilter, filtered
    from lettr_cli.audience.csv_export import export_to_file, write_contacts

    chosen = ContactFilter(
        status=status, list_name=list_name, topic_name=topic, search=search, segment=segment
    )
    ws = workspace(ctx)
    if file == "-":
        sys.stdout.flush()
        # CSV text in UTF-8 with its own line ends, whatever the locale and platform.
        out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            with ws.store.read() as session:
                write_contacts(session, chosen, out)
            out.flush()
        finally:
            out.detach()
        return
    path = Path(file).expanduser().absolute()
    with ws.store.read() as session:
        filtered(session, chosen)  # an unknown list or topic is refused before anything is asked
    if path.exists():
        confirm(f"{file} exists. Overwrite it with the export?", yes=yes)
    with ws.store.read() as session:
        count = export_to_file(session, chosen, path)
    if as_json:
        emit_json({"path": str(path), "contacts": count})
    else:
        emit_line(f"Exported {count} contacts to {path}")
