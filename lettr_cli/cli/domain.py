"""`lettr domain`: sending domains, the DNS records to publish, and their verification."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lettr_cli.cli.command import (
    DnsTimeoutOption,
    JsonFlag,
    LettrTyper,
    LimitOption,
    NameserverOption,
    YesFlag,
)
from lettr_cli.cli.output import (
    confirm,
    emit_deleted,
    emit_json,
    emit_line,
    note_cut,
    say,
    show_table,
)
from lettr_cli.cli.runtime import workspace

if TYPE_CHECKING:
    from lettr_cli.domains.records import DnsRecord
    from lettr_cli.domains.service import Domain

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
    nameserver: NameserverOption = None,
    timeout: DnsTimeoutOption = 5.0,
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

    found, total = listing(workspace(ctx), limit=limit)
    if as_json:
        emit_json([item.to_json() for item in found])
    else:
        _print_summary(found)
    note_cut(len(found), total)


@app.command("show")
def show_domain(ctx: typer.Context, domain: DomainArgument, as_json: JsonFlag = False) -> None:
    """Show one sending domain, its status and its records."""
    from lettr_cli.domains.service import find_domain

    found = find_domain(workspace(ctx), domain)
    if as_json:
        emit_json(found.to_json())
        return
    _print_summary([found])
    emit_line("")
    _print_records(found.records)


@app.command("remove")
def remove(
    ctx: typer.Context, domain: DomainArgument, yes: YesFlag = False, as_json: JsonFlag = False
) -> None:
    """Remove a sending domain and its DKIM key, for good."""
    from lettr_cli.domains.service import removable_domain, remove_domain

    ws = workspace(ctx)
    found = removable_domain(ws, domain)
    key = " and its DKIM key (it cannot be recovered)" if found.dkim else ""
    confirm(f"Remove the sending domain {found.domain}{key}?", yes=yes)
    removed = remove_domain(ws, found.domain)
    emit_deleted([removed], [found.domain], as_json=as_json, noun="sending domain")


def _print_records(records: list[DnsRecord]) -> None:
    # Plain lines, not a table: values stay whole for copying into a DNS provider's form.
    for index, record in enumerate(records):
        if index:
            emit_line("")
        emit_line(f"{record.type} (TXT) {record.name}")
        emit_line(f"  value:  {record.value if record.value is not None else '(none)'}")
        detail = f" ({record.detail})" if record.detail else ""
        emit_line(f"  status: {record.status}{detail}")


def _print_summary(domains: list[Domain]) -> None:
    show_table(
        ["domain", "status", "dkim", "spf", "checked_at", "verified_at"],
        (
            [
                item.domain,
                item.status,
                f"selector {item.selector}" if item.dkim else "relay signs",
                f"include:{item.spf_include}" if item.spf_include else "smtp.host",
                item.checked_at or "never",
                item.verified_at,
            ]
            for item in domains
        ),
    )
