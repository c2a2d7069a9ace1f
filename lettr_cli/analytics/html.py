"""``campaign report --html``: one self-contained page (no scripts, fonts, images or styles
from elsewhere) with the report's figures and the series as an inline SVG chart."""

from __future__ import annotations

import os
from datetime import UTC, datetime, tzinfo
from html import escape
from pathlib import Path
from typing import Any

from lettr_cli.analytics.stats import RATES
from lettr_cli.analytics.svg_chart import svg_chart
from lettr_cli.store.location import PRIVATE_FILE_MODE

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
td.n { text-align: right; }
.bad { color: #b00020; } .good { color: #146c2e; }
.warning { background: #fff3cd; border: 1px solid #b08800; padding: 8px; }
"""


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def _when(value: datetime | None, zone: tzinfo) -> str:
    if value is None:
        return "-"
    return value.astimezone(zone).isoformat(sep=" ", timespec="minutes")


def render_page(body: dict[str, Any], zone: tzinfo = UTC) -> str:
    campaign = body["campaign"]
    name = escape(campaign["name"])
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Report: {name}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{name}</h1>",
        f"<p>Status {escape(campaign['status'])}; sent {escape(_when(campaign['sent_at'], zone))}"
        "</p>",
    ]
    for warning in body["warnings"]:
        out.append(f'<p class="warning">{escape(warning["message"])}</p>')
    out.append("<h2>Counters</h2><table>")
    out += [
        f'<tr><th>{escape(key)}</th><td class="n">{value}</td></tr>'
        for key, value in body["stats"].items()
    ]
    out.append("</table><h2>Rates</h2><table>")
    out.append("<tr><th>rate</th><th>value</th><th>healthy range</th><th>verdict</th></tr>")
    for rate in RATES:
        verdict = body["health"][rate.name]["healthy"]
        word, css = {True: ("healthy", "good"), False: ("outside", "bad"), None: ("-", "")}[verdict]
        out.append(
            f'<tr><th>{escape(rate.label)}</th><td class="n">'
            f"{percent(body['rates'][rate.name])}</td><td>{escape(rate.healthy_range)}</td>"
            f'<td class="{css}">{word}</td></tr>'
        )
    out.append("</table><h2>Top links</h2>")
    if body["top_links"]:
        out.append("<table><tr><th>url</th><th>clicks</th><th>unique clicks</th></tr>")
        for link in body["top_links"]:
            url = escape(link["url"])
            out.append(f'<tr><td><a href="{url}">{url}</a></td><td class="n">{link["clicks"]}'
                       f'</td><td class="n">{link["unique_clicks"]}</td></tr>')  # fmt: skip
        out.append("</table>")
    else:
        out.append("<p>No clicks recorded.</p>")
    out.append("<h2>Unsubscribes by method</h2><table>")
    out += [
        f'<tr><th>{escape(method)}</th><td class="n">{n}</td></tr>'
        for method, n in body["unsubscribes_by_method"].items()
    ]
    out.append("</table><h2>Opens and clicks over time</h2>")
    out.append(svg_chart(body["series"], zone))
    out += _timing(body)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _timing(body: dict[str, Any]) -> list[str]:
    """The share of machine opens, and first opens and clicks by hours since sending (the
    hours with any, then later)."""
    out = [
        "<h2>How soon people engaged</h2>",
        f"<p>Share of opens made by machines: {percent(body['machine_open_share'])}</p>",
    ]
    engagement = body["engagement_by_hour"]
    rows = [(f"{h['hour']}h", h["opens"], h["clicks"]) for h in engagement["hours"]]
    rows.append(("48h and later", engagement["later"]["opens"], engagement["later"]["clicks"]))
    rows = [row for row in rows if row[1] or row[2]]
    if not rows:
        return [*out, "<p>No first opens or clicks recorded yet.</p>"]
    out.append("<table><tr><th>hours after acceptance</th><th>first opens</th>"
               "<th>first clicks</th></tr>")  # fmt: skip
    out += [
        f'<tr><th>{label}</th><td class="n">{opens}</td><td class="n">{clicks}</td></tr>'
        for label, opens, clicks in rows
    ]
    out.append("</table>")
    return out


def write_page(path: Path, page: str) -> None:
    """Write ``page`` to ``path`` as a private file (0600), whole or not at all."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(page)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
