"""Double opt-in from the command line: `contact add --double-opt-in` and
`contact resend-confirmation` (issue 19). The rules are `lettr_cli.optin`'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lettr_cli.cli.command import JsonFlag
from lettr_cli.cli.contact import Email, _print_contacts, app
from lettr_cli.cli.output import emit_json, say
from lettr_cli.cli.runtime import workspace
from lettr_cli.errors import ValidationError

if TYPE_CHECKING:
    from lettr_cli.audience.importer import ImportRequest
    from lettr_cli.optin.message import MailSpec
    from lettr_cli.optin.queue import Queued
    from lettr_cli.workspace import Workspace

DoubleOptIn = Annotated[
    bool,
    typer.Option(
        "--double-opt-in",
        help="New contacts are unverified until they confirm; each gets a confirmation mail.",
    ),
]
Template = Annotated[
    str | None, typer.Option(help="Double opt-in: the confirmation mail's template.")
]
From = Annotated[str | None, typer.Option("--from", help="Double opt-in: the sender's address.")]
FromName = Annotated[
    str | None, typer.Option("--from-name", help="Double opt-in: the sender's name.")
]
Subject = Annotated[
    str | None, typer.Option(help="Double opt-in: the confirmation mail's subject.")
]
Redirect = Annotated[
    str | None, typer.Option(help="Double opt-in: where the link leads once confirmed.")
]

MAIL_OPTIONS = ("--template", "--from", "--from-name", "--subject", "--redirect")
REQUIRED = {"template": "--template", "from": "--from", "subject": "--subject",
            "redirect": "--redirect"}  # fmt: skip


def refuse_mail_options(*given: str | None) -> None:
    """The confirmation mail's options mean nothing without --double-opt-in."""
    named = [option for option, value in zip(MAIL_OPTIONS, given, strict=True) if value]
    if named:
        raise ValidationError.field(
            "double_opt_in", f"{', '.join(named)} only go with --double-opt-in"
        )


def mail_spec(mail: dict[str, str | None]) -> MailSpec:
    """The confirmation mail the options describe; a missing one is a ``validation_error``."""
    from lettr_cli.optin.message import MailSpec

    missing = [option for name, option in REQUIRED.items() if not mail[name]]
    if missing:
        raise ValidationError.field("double_opt_in", f"--double-opt-in needs {', '.join(missing)}")
    return MailSpec(
        template=str(mail["template"]),
        from_email=str(mail["from"]),
        subject=str(mail["subject"]),
        redirect_url=str(mail["redirect"]),
        from_name=mail["from_name"],
    )


def import_with_double_opt_in(
    ws: Workspace, request: ImportRequest, mail: dict[str, str | None]
) -> tuple[ImportRequest, Queued]:
    """The import request that creates contacts unverified and queues their confirmations,
    once the mail is checked (before any row is read)."""
    from lettr_cli.optin.queue import Queued, checked_for_import, queue_for

    spec = checked_for_import(ws, mail_spec(mail))
    queued = Queued()
    return replace(request, new_status="unverified", after_write=queue_for(spec, queued)), queued


def add_double_opt_in(
    ctx: typer.Context,
    emails: Sequence[str],
    mail: dict[str, str | None],
    *,
    lists: Sequence[str],
    topics: Sequence[str],
    props: Sequence[str],
    status: str,
) -> dict[str, Any]:
    import asyncio

    from lettr_cli.optin.service import add_with_double_opt_in

    if len(emails) != 1:
        raise ValidationError.field("email", "--double-opt-in adds one address at a time")
    if status != "subscribed":
        raise ValidationError.field(
            "status", "--double-opt-in adds the contact unverified; leave out --status"
        )
    spec = mail_spec(mail)
    body = asyncio.run(
        add_with_double_opt_in(
            workspace(ctx), emails[0], spec, lists=lists, topics=topics, assignments=props
        )
    )
    say(f"Confirmation mail sent to {body['email']}; the contact is unverified until it confirms.")
    return body


@app.command("resend-confirmation")
def resend_confirmation(ctx: typer.Context, email: Email, as_json: JsonFlag = False) -> None:
    """Send an unverified contact its confirmation mail again (once per 10 minutes)."""
    import asyncio

    from lettr_cli.optin.service import resend_confirmation as resend

    body = asyncio.run(resend(workspace(ctx), email))
    say(f"Confirmation mail sent again to {body['email']}.")
    if as_json:
        emit_json(body)
    else:
        _print_contacts([body])
