"""Opens and clicks over time as plain text: readable at 80 columns, without colour.

Two panels (opens ``#``, clicks ``*``), one column per bucket of the series (hourly for 48
hours, then daily), a y scale on the left and the time since the first bucket below. When the
daily tail would not fit, several days share a column (the legend says how many).
"""

from __future__ import annotations

import math
from typing import Any

WIDTH = 80
HEIGHT = 8
LABEL = 7  # the y scale's width, then " |"
HOURLY = 48


def columns_of(series: list[dict[str, Any]], room: int) -> tuple[list[tuple[int, int]], int]:
    """(opens, clicks) per column, and how many days share a daily column."""
    hourly = [(b["opens"], b["clicks"]) for b in series[:HOURLY]]
    daily = [(b["opens"], b["clicks"]) for b in series[HOURLY:]]
    per_column = 1
    if daily and len(hourly) + len(daily) > room:
        per_column = math.ceil(len(daily) / max(room - len(hourly), 1))
    grouped = [
        (sum(o for o, _ in daily[i : i + per_column]), sum(c for _, c in daily[i : i + per_column]))
        for i in range(0, len(daily), per_column)
    ]
    return hourly + grouped, per_column


def _panel(title: str, values: list[int], mark: str) -> list[str]:
    top = max(values, default=0)
    lines = [title]
    for level in range(HEIGHT, 0, -1):
        if level == HEIGHT:
            scale = str(top)
        elif level == HEIGHT // 2 and top >= 2:
            scale = f"{top / 2:g}"
        else:
            scale = ""
        cells = "".join(
            mark if top and math.ceil(v * HEIGHT / top) >= level else " " for v in values
        )
        lines.append(f"{scale:>{LABEL}} |{cells}".rstrip())
    lines.append(f"{'0':>{LABEL}} +{'-' * len(values)}")
    return lines


def _time_axis(count: int, hourly: int, per_column: int) -> str:
    axis = [" "] * (count + 12)
    ticks: list[tuple[int, str]] = [(i, f"+{i}h") for i in range(0, min(hourly, HOURLY), 12)]
    step = max(1, math.ceil(8 / per_column))
    for j in range(0, count - hourly, step):
        day = 2 + j * per_column  # whole days after the hourly part (which covers days 0-1)
        ticks.append((hourly + j, f"d{day}"))
    end = 0
    for position, label in ticks:
        if position < end:
            continue
        axis[position : position + len(label)] = label
        end = position + len(label) + 1
    return (" " * (LABEL + 2) + "".join(axis)).rstrip()


def text_chart(series: list[dict[str, Any]], origin_label: str, width: int = WIDTH) -> list[str]:
    """The chart as lines of at most ``width`` characters; no series, a single line."""
    if not series:
        return ["No opens or clicks recorded yet."]
    room = width - LABEL - 2 - 1
    columns, per_column = columns_of(series, room)
    hourly = min(len(series), HOURLY)
    axis = _time_axis(len(columns), hourly, per_column)
    days = "a column a day" if per_column == 1 else f"a column {per_column} days"
    legend = [
        f"x: time from {origin_label}",
        f"   +Nh: N hours later (a column an hour); dN: day N ({days})",
    ]
    lines = _panel("Opens (#) per bucket, y: opens", [o for o, _ in columns], "#")
    lines.append(axis)
    lines.append("")
    lines += _panel("Clicks (*) per bucket, y: clicks", [c for _, c in columns], "*")
    lines.append(axis)
    lines += legend
    return [line[:width] for line in lines]


def bar_chart(rows: list[tuple[str, int]], width: int = WIDTH) -> list[str]:
    """Horizontal bars, one line per ``(label, count)``: the label, a bar scaled to the largest
    count (a non-zero count gets at least one ``#``), the count and its share of the total;
    every line at most ``width`` characters."""
    total = sum(count for _, count in rows)
    top = max((count for _, count in rows), default=0)
    label_width = max((len(label) for label, _ in rows), default=0)
    number_width = max(len(str(top)), 1)
    room = max(width - label_width - number_width - 12, 1)  # " |", "| ", " 100.0%"
    lines = []
    for label, count in rows:
        filled = 0 if top == 0 else max(round(count * room / top), 1 if count else 0)
        share = "     -" if total == 0 else f"{count * 100 / total:5.1f}%"
        bar = "#" * filled + " " * (room - filled)
        lines.append(f"{label:<{label_width}} |{bar}| {count:>{number_width}} {share}")
    return [line[:width] for line in lines]


def hours_chart(engagement: dict[str, Any], width: int = WIDTH) -> list[str]:
    """First opens and first clicks by whole hours since each message was accepted: a column
    an hour for 48 hours, then one column for everything later."""
    hours = engagement["hours"]
    later = engagement["later"]
    opens = [h["opens"] for h in hours] + [later["opens"]]
    clicks = [h["clicks"] for h in hours] + [later["clicks"]]
    if not any(opens) and not any(clicks):
        return ["No first opens or clicks recorded yet."]
    axis = [" "] * (len(opens) + 4)
    for position, label in ((0, "0h"), (12, "12h"), (24, "24h"), (36, "36h"), (47, " 48h+")):
        axis[position : position + len(label)] = label
    axis_line = (" " * (LABEL + 2) + "".join(axis)).rstrip()
    lines = _panel("First opens (#) by hours since sending, y: recipients", opens, "#")
    lines.append(axis_line)
    lines.append("")
    lines += _panel("First clicks (*) by hours since sending, y: recipients", clicks, "*")
    lines.append(axis_line)
    lines.append("x: whole hours after the relay accepted each message; the last column: later")
    return [line[:width] for line in lines]
