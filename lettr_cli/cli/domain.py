"""`lettr domain`: sending domains, the DNS records to publish, and their verification."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from lettr_cli.cli.command import JsonFlag, LettrTyper, LimitOption, YesFlag
from lettr_cli.cli.output import confirm, emit_json, emit_line, say, show
from lettr_cli.cli.runtime import workspace

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from lettr_cli.domains.records import DnsRecord
    from lettr_cli.domains.service import Domain
    from lettr_cli.workspace import Workspace

app = LettrTyper(help="Sending domains: DKIM keys, the DNS records to publish, verification.")

DomainArgument = Annotated[
    str, typer.Argument(help="The sending domain, such as example.com (any case).")
]


@app.command("add")
def add(
    ctx: typer.Context,
    domain: DomainArgument,
    *,
    selector: Annotated[
        str | None,
        typer.Option("--selector", help="The DKIM selector (default: lettr).", show_default=False),
    ] = None,
    no_dkim: Annotated[
        bool,
        typer.Option("--no-dkim", help="Make no DKIM key: the relay signs this domain's mail."),
    ] = False,
    spf_include: Annotated[
        str | None,
        typer.Option(
            "--spf-include",
            metavar="HOST",
            help="The relay's SPF host for include: (default: authorise smtp.host).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a sending domain and make its DKIM key (RSA-2048); prints the records to publish."""
    from lettr_cli.domains.service import add_domain

    added = add_domain(
        workspace(ctx), domain, selector=selector, dkim=not no_dkim, spf_include=spf_include
    )
    if as_json:
        emit_json(added.to_json())
        return
    say(
        f"Added {added.domain}. Publish these DNS records, then run: lettr domain verify "
        f"{added.domain}"
    )
    _print_records(added.records)


@app.command("records")
def records(ctx: typer.Context, domain: DomainArgument, as_json: JsonFlag = False) -> None:
    """Print the DNS records to publish (DKIM, SPF, DMARC), each with its last status."""
    from lettr_cli.domains.service import find_domain

    found = find_domain(workspace(ctx), domain)
    if as_json:
        emit_json([record.to_json() for record in found.records])
        return
    _print_records(found.records)


@app.command("verify")
def verify(
    ctx: typer.Context,
    domain: DomainArgument,
    nameserver: Annotated[
        str | None,
        typer.Option(
            "--nameserver",
            metavar="HOST[:PORT]",
            help="Ask this nameserver (default: the system's resolver).",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each DNS answer.")
    ] = 5.0,
    as_json: JsonFlag = False,
) -> None:
    """Look the records up in DNS; exits 1 (unconfigured_domain) unless all are valid."""
    from lettr_cli.domains.service import not_verified, verify_domain

    checked = verify_domain(workspace(ctx), domain, nameserver=nameserver, timeout=timeout)
    if as_json:
        emit_json(checked.to_json())
    else:
        _print_records(checked.records)
    if checked.status != "verified":
        raise not_verified(checked)
    if not as_json:
        emit_line(f"{checked.domain} is verified.")


@app.command("list")
def list_domains(ctx: typer.Context, limit: LimitOption = 100, as_json: JsonFlag = False) -> None:
    """List sending domains with their status."""
    from lettr_cli.domains.service import list_domains as listing

    ws = workspace(ctx)
    found, total = listing(ws, limit=limit)
    if len(found) < total:
        say(f"{len(found)} of {total} shown")
    if as_json:
        emit_json([item.to_json() for item in found])
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    table.add_column("domain", overflow="fold")
    for column in ("status", "dkim", "checked"):
        table.add_column(column, no_wrap=True)
    zone = _zone(ws)
    for item in found:
        dkim = f"selector {item.selector}" if item.dkim else "relay signs"
        table.add_row(item.domain, item.status, dkim, _when(zone, item.checked_at))
    show(table)


@app.command("show")
def show_domain(ctx: typer.Context, domain: DomainArgument, as_json: JsonFlag = False) -> None:
    """Show one sending domain, its status and its records."""
    from lettr_cli.domains.service import find_domain

    ws = workspace(ctx)
    found = find_domain(ws, domain)
    if as_json:
        emit_json(found.to_json())
        return
    _print_domain(ws, found)
    emit_line("")
    _print_records(found.records)


@app.command("remove")
def remove(
    ctx: typer.Context, domain: DomainArgument, yes: YesFlag = False, as_json: JsonFlag = False
) -> None:
    """Remove a sending domain and its DKIM key, for good."""
    from lettr_cli.domains.service import find_domain, remove_domain

    ws = workspace(ctx)
    found = find_domain(ws, domain)
    key = " and its DKIM key (it cannot be recovered)" if found.dkim else ""
    confirm(f"Remove the sending domain {found.domain}{key}?", yes=yes)
    removed = remove_domain(ws, found.domain)
    if as_json:
        emit_json({"deleted": [removed]})
    else:
        emit_line(f"Removed {found.domain}")


def _print_records(records: list[DnsRecord]) -> None:
    # Plain lines, not a table: values stay whole for copying into a DNS provider's form.
    for index, record in enumerate(records):
        if index:
            emit_line("")
        emit_line(f"{record.type} (TXT) {record.name}")
        emit_line(f"  value:  {record.value if record.value is not None else '(none)'}")
        detail = f" ({record.detail})" if record.detail else ""
        emit_line(f"  status: {record.status}{detail}")


def _print_domain(ws: Workspace, found: Domain) -> None:
    spf = f"include:{found.spf_include}" if found.spf_include else "authorises smtp.host"
    dkim = f"selector {found.selector}" if found.dkim else "none (the relay signs)"
    emit_line(found.domain)
    emit_line(f"  status:   {found.status}")
    emit_line(f"  dkim:     {dkim}")
    emit_line(f"  spf:      {spf}")
    zone = _zone(ws)
    emit_line(f"  added:    {_when(zone, found.created_at)}")
    emit_line(f"  checked:  {_when(zone, found.checked_at)}")
    emit_line(f"  verified: {_when(zone, found.verified_at)}")


def _zone(ws: Workspace) -> ZoneInfo:
    """The operator's zone (config ``timezone``), in which times are shown."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(str(ws.settings()["timezone"]))


def _when(zone: ZoneInfo, moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
