"""`lettr campaign report`, `events` and `compare` (reference §16, §17)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lettr_cli.cli.command import JsonFlag
from lettr_cli.cli.inputs import CampaignRef
from lettr_cli.cli.output import emit_json, emit_line, say, show_table, warn
from lettr_cli.cli.runtime import workspace


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def _verdict(healthy: bool | None) -> str:
    return {True: "healthy", False: "outside the healthy range", None: "-"}[healthy]


def report(
    ctx: typer.Context,
    ref: CampaignRef,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write a self-contained HTML page to this file."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Counters, rates against Lettr's healthy ranges, top links, unsubscribes and a chart."""
    from lettr_cli.analytics.html import render_page, write_page
    from lettr_cli.analytics.stats import report as build_report
    from lettr_cli.errors import ValidationError

    with workspace(ctx).store.read() as session:
        body = build_report(session, ref)
    if html is not None:
        try:
            write_page(html, render_page(body))
        except OSError as error:
            raise ValidationError.field(
                "html", f"cannot write {html}: {error.strerror or error}"
            ) from None
        say(f"Wrote {html}")
    for warning in body["warnings"]:
        warn(warning["message"])
    if as_json:
        emit_json(body)
        return
    print_report(body)


def print_report(body: dict[str, Any]) -> None:
    """The report for people: counters, rates, top links, unsubscribes, the chart."""
    from lettr_cli.analytics.chart import hours_chart, text_chart
    from lettr_cli.analytics.stats import RATES

    campaign = body["campaign"]
    sent_at = campaign["sent_at"]
    sent = sent_at.strftime("%Y-%m-%d %H:%M UTC") if sent_at else "-"
    emit_line(f"{campaign['name']} ({campaign['status']}, sent {sent})")
    emit_line("")
    stats = body["stats"]
    show_table(["counter", "value"], [[k, v] for k, v in stats.items() if "machine" not in k])
    emit_line(
        f"Machine opens (proxies and scanners, not in opens): {stats['machine_opens']}, "
        f"unique {stats['unique_machine_opens']}"
    )
    emit_line(f"Share of opens made by machines: {_percent(body['machine_open_share'])}")
    emit_line("")
    show_table(
        ["rate", "value", "healthy range", "verdict"],
        ([rate.label, _percent(body["rates"][rate.name]), rate.healthy_range,
          _verdict(body["health"][rate.name]["healthy"])] for rate in RATES),
    )  # fmt: skip
    emit_line("")
    if body["top_links"]:
        show_table(
            ["top link", "clicks", "unique clicks"],
            ([link["url"], link["clicks"], link["unique_clicks"]]
             for link in body["top_links"][:10]),
        )  # fmt: skip
    else:
        emit_line("No clicks recorded.")
    methods = body["unsubscribes_by_method"]
    emit_line("Unsubscribes by method:")
    emit_line(f"  {methods['list_unsubscribe']} list_unsubscribe (the mail client's button)")
    emit_line(f"  {methods['link_unsubscribe']} link_unsubscribe (the link in the message)")
    emit_line("")
    _print_resends(body)
    series = body["series"]
    origin = series[0]["bucket_start"].strftime("%Y-%m-%d %H:%M UTC") if series else ""
    for line in text_chart(body["series"], origin):
        emit_line(line)
    emit_line("")
    for line in hours_chart(body["engagement_by_hour"]):
        emit_line(line)


def _print_resends(body: dict[str, Any]) -> None:
    if not body["resends"]:
        return
    show_table(
        ["resend", "status", "deliveries", "unique opens"],
        ([r["name"], r["status"], r["deliveries"], r["unique_opens"]] for r in body["resends"]),
    )
    reach = body["combined_reach"]
    emit_line(
        f"Together with its resends: {reach['delivered']} contacts delivered, "
        f"{reach['opened']} opened (each counted once)."
    )
    emit_line("")


def events(
    ctx: typer.Context,
    ref: CampaignRef,
    event_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            help="Only this event type (injection, delivery, "
            "bounce, spam_complaint, open, click, list_unsubscribe, "
            "link_unsubscribe).",
        ),
    ] = None,
    email: Annotated[str | None, typer.Option("--email", help="Only this recipient.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="At or after: YYYY-MM-DD (UTC) or ISO 8601.")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="At or before: YYYY-MM-DD (the whole UTC day) or ISO 8601."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="At most N events a page; 0 gives all.")
    ] = 100,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="Go on after the page that printed it.")
    ] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (the JSON keys).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The campaign's events (the 30 days after its send), oldest first, a page at a time."""
    from lettr_cli.analytics.events import list_events, make_filters
    from lettr_cli.campaigns.campaigns import find_campaign
    from lettr_cli.campaigns.times import operator_zone
    from lettr_cli.errors import ValidationError

    if as_csv and as_json:
        raise ValidationError.field("format", "choose one of --json and --csv")
    ws = workspace(ctx)
    zone = operator_zone(None, ws.settings().text("timezone"))
    filters = make_filters(event_type, email, since, until, zone)
    with ws.store.read() as session:
        campaign = find_campaign(session, ref)
        page = list_events(session.connection(), campaign.id, filters, limit=limit, cursor=cursor)
    if as_json:
        emit_json(page.to_json())
    elif as_csv:
        _emit_csv(page.events)
    else:
        show_table(
            ["timestamp", "type", "email", "detail"],
            ([e["timestamp"], e["event_type"], e["email"], _detail(e)] for e in page.events),
        )
    if page.next_cursor is not None and not as_json:
        say(f"More events: --cursor {page.next_cursor}")


def _detail(event: dict[str, Any]) -> str:
    parts = [
        f"class {event['bounce_class']}" if event["bounce_class"] else "",
        event["reason"] or "",
        event["target_link_url"] or "",
        "machine" if event["machine"] else "",
    ]
    return "; ".join(p for p in parts if p)


def _emit_csv(rows: list[dict[str, Any]]) -> None:
    import csv
    import io

    from lettr_cli.analytics.events import EVENT_KEYS

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EVENT_KEYS)
    for row in rows:
        writer.writerow(
            [
                row[k].isoformat(timespec="seconds")
                if k == "timestamp"
                else ("true" if row[k] else "false")
                if k == "machine"
                else ("" if row[k] is None else row[k])
                for k in EVENT_KEYS
            ]
        )
    emit_line(buffer.getvalue().rstrip("\n"))


def compare(
    ctx: typer.Context,
    refs: Annotated[list[str], typer.Argument(help="Two or more sent campaigns.")],
    as_json: JsonFlag = False,
) -> None:
    """Sent campaigns side by side: counters and rates."""
    from lettr_cli.analytics.stats import RATES
    from lettr_cli.analytics.stats import compare as build_compare

    with workspace(ctx).store.read() as session:
        items = build_compare(session, refs)
    if as_json:
        emit_json(items)
        return
    rows: list[list[object]] = [
        [key, *(c["stats"][key] for c in items)] for key in items[0]["stats"]
    ]
    rows += [[rate.label, *(_percent(c["rates"][rate.name]) for c in items)] for rate in RATES]
    show_table(["", *(c["name"] for c in items)], rows)
