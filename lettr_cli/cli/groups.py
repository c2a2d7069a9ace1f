"""`lettr list` and `lettr topic`: named groups of contacts (reference §10, §11)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper, YesFlag
from lettr_cli.cli.output import confirm_checked, emit_deleted, emit_json, show_table
from lettr_cli.cli.runtime import workspace

if TYPE_CHECKING:
    from sqlmodel import Session

    from lettr_cli.audience.groups import Group, GroupKind

lists_app = LettrTyper(help="Static lists of contacts that campaigns can target.")
topics_app = LettrTyper(help="Topics: subscription categories contacts opt in to or out of.")

Name = Annotated[str, typer.Argument(help="The exact name.")]
Emails = Annotated[list[str], typer.Argument(help="Contact addresses.")]


def _kind(noun: str) -> GroupKind:
    from lettr_cli.audience import groups

    return groups.LISTS if noun == "list" else groups.TOPICS


def _body(session: Session, kind: GroupKind, group: Group) -> dict[str, Any]:
    from lettr_cli.audience import groups

    return groups.to_json(kind, group, groups.counts(session, kind).get(group.id, 0))


def _print(items: list[dict[str, Any]], as_json: bool, *, single: bool) -> None:
    if as_json:
        emit_json(items[0] if single else items)
        return
    columns = ["name", "contacts_count"]
    if items and "visibility" in items[0]:
        columns += ["default_subscription", "visibility", "description"]
    show_table(columns, ([item[c] for c in columns] for item in items))


def _register_common(app: LettrTyper, noun: str) -> None:
    @app.command("list")
    def listing(ctx: typer.Context, as_json: JsonFlag = False) -> None:
        from lettr_cli.audience import groups

        kind = _kind(noun)
        with workspace(ctx).store.read() as session:
            sizes = groups.counts(session, kind)
            items = [
                groups.to_json(kind, g, sizes.get(g.id, 0)) for g in groups.listing(session, kind)
            ]
        _print(items, as_json, single=False)

    listing.__doc__ = f"List every {noun} with its number of contacts."

    @app.command("show")
    def show(ctx: typer.Context, name: Name, as_json: JsonFlag = False) -> None:
        from lettr_cli.audience import groups

        kind = _kind(noun)
        with workspace(ctx).store.read() as session:
            body = _body(session, kind, groups.find(session, kind, name))
        _print([body], as_json, single=True)

    show.__doc__ = f"Show one {noun}."

    @app.command("rename")
    def rename(
        ctx: typer.Context,
        name: Name,
        new_name: Annotated[str, typer.Argument(help="The new name.")],
        as_json: JsonFlag = False,
    ) -> None:
        from lettr_cli.audience import groups

        kind = _kind(noun)
        with workspace(ctx).store.write() as session:
            body = _body(session, kind, groups.rename(session, kind, name, new_name))
        _print([body], as_json, single=True)

    rename.__doc__ = f"Rename a {noun}; its members and the segments using it are kept."

    @app.command("delete")
    def delete(
        ctx: typer.Context, name: Name, yes: YesFlag = False, as_json: JsonFlag = False
    ) -> None:
        from lettr_cli.audience import groups

        ws = workspace(ctx)
        confirm_checked(
            ws,
            lambda session: groups.deletable(session, _kind(noun), name),
            lambda _: f"Delete the {noun} '{name}'? Its contacts are kept.",
            yes=yes,
        )
        with ws.store.write() as session:
            deleted = groups.delete(session, _kind(noun), name)
        emit_deleted([deleted], [name], as_json=as_json, noun=noun)

    delete.__doc__ = f"Delete a {noun} and its memberships; the contacts stay."


@lists_app.command("create")
def create_list(ctx: typer.Context, name: Name, as_json: JsonFlag = False) -> None:
    """Create an empty list."""
    from lettr_cli.audience import groups

    with workspace(ctx).store.write() as session:
        body = _body(session, groups.LISTS, groups.create(session, groups.LISTS, name))
    _print([body], as_json, single=True)


def _change_members(
    ctx: typer.Context, name: str, emails: list[str], *, add: bool
) -> dict[str, Any]:
    from lettr_cli.audience import groups
    from lettr_cli.audience.contacts import find_contacts

    with workspace(ctx).store.write() as session:
        group = groups.find(session, groups.LISTS, name)
        for contact in find_contacts(session, emails):
            if add:
                groups.join(session, groups.LISTS, group, contact, log=True)
            else:
                groups.leave(session, groups.LISTS, group, contact)
        session.flush()
        return _body(session, groups.LISTS, group)


@lists_app.command("add")
def add_members(ctx: typer.Context, name: Name, emails: Emails, as_json: JsonFlag = False) -> None:
    """Add contacts to a list (all must exist; members already there are left as they are)."""
    _print([_change_members(ctx, name, emails, add=True)], as_json, single=True)


@lists_app.command("remove")
def remove_members(
    ctx: typer.Context, name: Name, emails: Emails, yes: YesFlag = False, as_json: JsonFlag = False
) -> None:
    """Remove contacts from a list; the contacts themselves stay."""
    from lettr_cli.audience import groups
    from lettr_cli.audience.contacts import find_contacts

    def check(session: Session) -> None:
        groups.find(session, groups.LISTS, name)
        find_contacts(session, emails)

    confirm_checked(
        workspace(ctx),
        check,
        lambda _: f"Remove {len(emails)} contact(s) from the list '{name}'?",
        yes=yes,
    )
    _print([_change_members(ctx, name, emails, add=False)], as_json, single=True)


@topics_app.command("create")
def create_topic(
    ctx: typer.Context,
    name: Name,
    description: Annotated[str | None, typer.Option(help="What the topic is about.")] = None,
    default: Annotated[
        str,
        typer.Option(
            "--default",
            help="opt-in: contacts must opt in; opt-out: every new contact is attached. Fixed.",
        ),
    ] = "opt-in",
    visibility: Annotated[str, typer.Option(help="public or private (advisory).")] = "private",
    as_json: JsonFlag = False,
) -> None:
    """Create a topic."""
    from lettr_cli.audience import groups

    fields = groups.topic_fields(default=default, visibility=visibility, description=description)
    with workspace(ctx).store.write() as session:
        body = _body(session, groups.TOPICS, groups.create(session, groups.TOPICS, name, **fields))
    _print([body], as_json, single=True)


@topics_app.command("update")
def update_topic(
    ctx: typer.Context,
    name: Name,
    description: Annotated[str | None, typer.Option(help="A new description.")] = None,
    visibility: Annotated[str | None, typer.Option(help="public or private.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a topic's description or visibility (its default subscription is fixed)."""
    from lettr_cli.audience import groups

    with workspace(ctx).store.write() as session:
        topic = groups.update_topic(session, name, description=description, visibility=visibility)
        body = _body(session, groups.TOPICS, topic)
    _print([body], as_json, single=True)


_register_common(lists_app, "list")
_register_common(topics_app, "topic")
