"""`lettr contact`: the people campaigns go to (reference §8)."""

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
    say,
    show_table,
    warn,
)
from lettr_cli.cli.runtime import workspace

app = LettrTyper(help="Add, find, change and remove contacts.")

Email = Annotated[str, typer.Argument(help="The contact's address (case does not matter).")]
Emails = Annotated[list[str], typer.Argument(help="One or more addresses.")]
Props = Annotated[
    list[str] | None, typer.Option("--prop", help="A property value, name=value (repeatable).")
]
Force = Annotated[
    bool,
    typer.Option(
        "--force", help="Allow re-subscribing a bounced, complained or suppressed address."
    ),
]


def _print_contacts(items: list[dict[str, Any]]) -> None:
    show_table(
        ["email", "status", "lists", "topics", "created_at"],
        (
            [
                c["email"],
                c["status"],
                ", ".join(g["name"] for g in c["lists"]),
                ", ".join(g["name"] for g in c["topics"]),
                c["created_at"],
            ]
            for c in items
        ),
    )


def _print_detail(body: dict[str, Any]) -> None:
    rows: list[list[object]] = [
        ["email", body["email"]],
        ["status", body["status"]],
        ["lists", ", ".join(g["name"] for g in body["lists"])],
        ["topics", ", ".join(g["name"] for g in body["topics"])],
        ["created_at", body["created_at"]],
        ["updated_at", body["updated_at"]],
    ]
    rows += [[f"properties.{k}", v] for k, v in sorted(body["properties"].items())]
    show_table(["field", "value"], rows)
    if "activity" in body:
        emit_line("")
        show_table(
            ["at", "activity", "detail"],
            ([a["at"], a["kind"], a["detail"]] for a in body["activity"]),
        )


@app.command("add")
def add(
    ctx: typer.Context,
    emails: Emails,
    lists: Annotated[list[str] | None, typer.Option("--list", help="Add to this list.")] = None,
    topics: Annotated[
        list[str] | None, typer.Option("--topic", help="Opt in to this topic.")
    ] = None,
    props: Props = None,
    status: Annotated[str, typer.Option(help="The status of the new contacts.")] = "subscribed",
    double_opt_in: Annotated[
        bool,
        typer.Option(
            "--double-opt-in",
            help="Add it unverified and send it a confirmation mail (one address).",
        ),
    ] = False,
    template: Annotated[
        str | None, typer.Option(help="Double opt-in: the confirmation mail's template.")
    ] = None,
    from_email: Annotated[
        str | None, typer.Option("--from", help="Double opt-in: the sender's address.")
    ] = None,
    from_name: Annotated[
        str | None, typer.Option("--from-name", help="Double opt-in: the sender's name.")
    ] = None,
    subject: Annotated[
        str | None, typer.Option(help="Double opt-in: the confirmation mail's subject.")
    ] = None,
    redirect: Annotated[
        str | None, typer.Option(help="Double opt-in: where the link leads once confirmed.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add contacts: all of them, or none if any exists already."""
    from lettr_cli.audience.contacts import add_contacts, contacts_json
    from lettr_cli.cli.contact_optin import add_double_opt_in, refuse_mail_options

    if double_opt_in:
        mail = {"template": template, "from": from_email, "subject": subject}
        body = add_double_opt_in(
            ctx, emails, mail | {"from_name": from_name, "redirect": redirect},
            lists=lists or (), topics=topics or (), props=props or (), status=status,
        )  # fmt: skip
        if as_json:
            emit_json(body)
        else:
            _print_contacts([body])
        return
    refuse_mail_options(template, from_email, from_name, subject, redirect)
    with workspace(ctx).store.write() as session:
        added = add_contacts(
            session,
            emails,
            lists=lists or (),
            topics=topics or (),
            assignments=props or (),
            status=status,
        )
        items = contacts_json(session, added.contacts)
    for email in added.opt_out_kept:
        warn(f"{email} opted out before it was deleted; its status is kept (opt_out_kept)")
    if as_json:
        emit_json(items[0] if len(emails) == 1 and len(items) == 1 else items)
    else:
        _print_contacts(items)


@app.command("list")
def list_contacts(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only contacts with this status.")] = None,
    list_name: Annotated[
        str | None, typer.Option("--list", help="Only members of this list.")
    ] = None,
    topic: Annotated[str | None, typer.Option(help="Only contacts opted in to this topic.")] = None,
    search: Annotated[str | None, typer.Option(help="Address or name contains this text.")] = None,
    segment: Annotated[
        str | None, typer.Option(help="Only members of this segment (any status).")
    ] = None,
    limit: LimitOption = 100,
    as_json: JsonFlag = False,
) -> None:
    """List contacts, oldest first."""
    from lettr_cli.audience.plan import usage

    ws = workspace(ctx)
    if list_name or topic or search or segment:
        from lettr_cli.audience.contacts import ContactFilter, contacts_json, list_contacts

        chosen = ContactFilter(
            status=status, list_name=list_name, topic_name=topic, search=search, segment=segment
        )
        with ws.store.read() as session:
            contacts, total = list_contacts(session, chosen, limit or None)
            items = contacts_json(session, contacts)
            plan = usage(session, ws.settings())
    else:  # the everyday listing, read without the ORM: it starts quicker
        from lettr_cli.audience.contact_rows import contact_page
        from lettr_cli.audience.contact_rows import contacts_json as rows_json

        with ws.store.connect() as conn, conn.begin():
            rows, total = contact_page(conn, status, limit or None)
            items = rows_json(conn, rows)
            plan = usage(conn, ws.settings())
    if as_json:
        emit_json(items)
    else:
        _print_contacts(items)
        say(plan.describe())
    note_cut(len(items), total)


@app.command("show")
def show(ctx: typer.Context, email: Email, as_json: JsonFlag = False) -> None:
    """Show one contact with its properties, lists, topics and activity log."""
    from lettr_cli.audience.contacts import contact_detail, find_contact

    with workspace(ctx).store.read() as session:
        body = contact_detail(session, find_contact(session, email))
    if as_json:
        emit_json(body)
    else:
        _print_detail(body)


@app.command("edit")
def edit(
    ctx: typer.Context,
    email: Email,
    new_email: Annotated[str | None, typer.Option("--email", help="A new address.")] = None,
    status: Annotated[str | None, typer.Option(help="A new status.")] = None,
    force: Force = False,
    props: Props = None,
    unset: Annotated[list[str] | None, typer.Option("--unset", help="Clear a property.")] = None,
    add_list: Annotated[list[str] | None, typer.Option("--add-list", help="Add to a list.")] = None,
    remove_list: Annotated[
        list[str] | None, typer.Option("--remove-list", help="Remove from a list.")
    ] = None,
    add_topic: Annotated[
        list[str] | None, typer.Option("--add-topic", help="Opt in to a topic.")
    ] = None,
    remove_topic: Annotated[
        list[str] | None, typer.Option("--remove-topic", help="Opt out of a topic.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a contact: every change is logged; all apply or none."""
    from lettr_cli.audience.contacts import contacts_json
    from lettr_cli.audience.editing import ContactChanges, edit_contact

    changes = ContactChanges(
        email=new_email,
        status=status,
        force=force,
        assignments=props or (),
        unset=unset or (),
        add_lists=add_list or (),
        remove_lists=remove_list or (),
        add_topics=add_topic or (),
        remove_topics=remove_topic or (),
    )
    with workspace(ctx).store.write() as session:
        body = contacts_json(session, [edit_contact(session, email, changes)])[0]
    if as_json:
        emit_json(body)
    else:
        _print_detail(body)


@app.command("delete")
def delete(
    ctx: typer.Context, emails: Emails, yes: YesFlag = False, as_json: JsonFlag = False
) -> None:
    """Delete contacts; addresses that had opted out stay suppressed."""
    from lettr_cli.audience.contacts import delete_contacts, find_contacts

    ws = workspace(ctx)
    confirm_checked(
        ws,
        lambda session: find_contacts(session, emails),
        lambda found: f"Delete {len(found)} contact(s) and their activity logs?",
        yes=yes,
    )
    with ws.store.write() as session:
        deleted = delete_contacts(session, emails)
    emit_deleted(deleted, emails, as_json=as_json, noun="contacts")


@app.command("forget")
def forget(
    ctx: typer.Context, email: Email, yes: YesFlag = False, as_json: JsonFlag = False
) -> None:
    """Erase everything lettr holds about an address (a request to be forgotten)."""
    from lettr_cli.audience.contacts import forget_contact, held_for

    ws = workspace(ctx)
    confirm_checked(
        ws,
        lambda session: held_for(session, email),
        lambda _: f"Erase every trace of {email}, including its opt-out?",
        yes=yes,
    )
    with ws.store.write() as session:
        deleted = forget_contact(session, email)
    emit_deleted(deleted, [email], as_json=as_json, noun="contact")
