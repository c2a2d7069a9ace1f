"""Double opt-in from the command line: `contact add --double-opt-in` and
`contact resend-confirmation` (issue 19). The rules are `lettr_cli.optin`'s."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import typer

from lettr_cli.cli.command import JsonFlag
from lettr_cli.cli.contact import Email, _print_contacts, app
from lettr_cli.cli.output import emit_json, say
from lettr_cli.cli.runtime import workspace
from lettr_cli.errors import ValidationError

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
    from lettr_cli.optin.message import MailSpec
    from lettr_cli.optin.service import add_with_double_opt_in

    if len(emails) != 1:
        raise ValidationError.field("email", "--double-opt-in adds one address at a time")
    if status != "subscribed":
        raise ValidationError.field(
            "status", "--double-opt-in adds the contact unverified; leave out --status"
        )
    missing = [option for name, option in REQUIRED.items() if not mail[name]]
    if missing:
        raise ValidationError.field("double_opt_in", f"--double-opt-in needs {', '.join(missing)}")
    spec = MailSpec(
        template=str(mail["template"]),
        from_email=str(mail["from"]),
        subject=str(mail["subject"]),
        redirect_url=str(mail["redirect"]),
        from_name=mail["from_name"],
    )
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
    from lettr_cli.optin.service import resend_confirmation as resend

    body = asyncio.run(resend(workspace(ctx), email))
    say(f"Confirmation mail sent again to {body['email']}.")
    if as_json:
        emit_json(body)
    else:
        _print_contacts([body])
