"""`lettr campaign list`: campaigns newest first, with what Lettr's list shows (status,
recipients, when scheduled or sent, open and click rates), as ``analytics.listing_rows``
computes them; this module only formats."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from lettr_cli.cli.command import JsonFlag, LimitOption
from lettr_cli.cli.output import display_time, emit_json, note_cut, show_table
from lettr_cli.cli.runtime import workspace


def list_all(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only campaigns in this state.")] = None,
    limit: LimitOption = 100,
    as_json: JsonFlag = False,
) -> None:
    """List campaigns, newest first, with their open and click rates."""
    # Read through SQLAlchemy Core, without the ORM: it starts quicker (issue 18).
    from lettr_cli.analytics.listing_rows import listing_rows
    from lettr_cli.delivery.campaign_body import campaign_body

    with workspace(ctx).store.connect() as conn, conn.begin():
        rows, total = listing_rows(conn, status, limit or None)
        items = [campaign_body(conn, row.campaign) for row in rows] if as_json else []
    if as_json:
        emit_json(items)
    else:
        show_table(
            ["id", "name", "status", "recipients", "when", "open_rate", "click_rate"],
            ([row.id[:8], row.name, row.status, row.recipients, _when(row.when),
              _percent(row.open_rate), _percent(row.click_rate)] for row in rows),
        )  # fmt: skip
    note_cut(len(rows), total)


def _when(when: tuple[str, datetime] | None) -> str:
    return "" if when is None else f"{when[0]} {display_time(when[1])}"


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.1%}"
