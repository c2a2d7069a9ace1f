"""Opens and clicks over time as an inline SVG for ``campaign report --html``.

At least 600 px wide at any number of buckets, and every label whole inside the viewBox: text
extents are estimated generously from the font size (no font metrics are needed), labels are
never rotated, and the time labels along the x axis are thinned until none overlaps another.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo
from html import escape
from typing import Any

GLYPH = 0.7  # a generous average glyph width of sans-serif text, in em
MIN_WIDTH = 640
SLOT = 16  # px per bucket while the chart is wider than MIN_WIDTH
MAX_PLOT = 1400  # beyond this, buckets get narrower instead (down to 3 px)
TOP, PLOT_H, BOTTOM = 44, 240, 56
GAP = 8  # between two time labels
TIME_FORMAT = "%m-%d %H:%M"
TIME_SIZE, TICK_SIZE, LEGEND_SIZE = 10, 11, 12
HOURLY = 48
HOURLY_STEPS = (1, 2, 3, 6, 12)
DAILY_STEPS = (1, 2, 7, 14, 30)
SERIES = (("opens", "#1f77b4"), ("clicks", "#ff7f0e"))
CAPTION = "time (hourly for 48 hours, then daily)"


def text_width(text: str, size: float) -> float:
    return len(text) * size * GLYPH


def _when(value: datetime, zone: tzinfo) -> str:
    return value.astimezone(zone).isoformat(sep=" ", timespec="minutes")


def _y_ticks(peak: int) -> list[tuple[float, str]]:
    ticks = [(0.0, "0"), (1.0, str(peak))]
    if peak >= 2:
        ticks.append((0.5, str(peak // 2) if peak % 2 == 0 else f"{peak / 2:.1f}"))
    return ticks


def _step(slot: float, label: float, steps: tuple[int, ...]) -> int:
    return next((s for s in steps if s * slot >= label + GAP), steps[-1])


def time_labels(count: int, slot: float) -> list[int]:
    """The buckets whose start is labelled: hourly and daily ones at a regular step that
    leaves room for the label, then any that would still overlap the previous one dropped."""
    label = text_width("00-00 00:00", TIME_SIZE)
    hourly, daily = _step(slot, label, HOURLY_STEPS), _step(slot, label, DAILY_STEPS)
    chosen: list[int] = []
    for i in range(count):
        step_ok = i % hourly == 0 if i < HOURLY else (i - HOURLY) % daily == 0
        if step_ok and (not chosen or (i - chosen[-1]) * slot >= label + GAP):
            chosen.append(i)
    return chosen


def svg_chart(series: list[dict[str, Any]], zone: tzinfo = UTC) -> str:
    """Opens and clicks per bucket as grouped bars, with labelled axes and a legend."""
    if not series:
        return "<p>No opens or clicks recorded yet.</p>"
    count = len(series)
    peak = max(max(b["opens"], b["clicks"]) for b in series) or 1
    ticks = _y_ticks(peak)
    label_half = text_width("00-00 00:00", TIME_SIZE) / 2
    widest_tick = max(text_width(text, TICK_SIZE) for _, text in ticks)
    left = math.ceil(max(60, widest_tick + 14, label_half + 4))
    right = math.ceil(label_half + 8)
    plot_w = max(MIN_WIDTH - left - right, min(SLOT * count, max(MAX_PLOT, 3 * count)))
    width, height = left + plot_w + right, TOP + PLOT_H + BOTTOM
    axis_y = TOP + PLOT_H
    slot = plot_w / count
    bar = max(1.0, min(24.0, slot * 0.35))
    parts = [
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Opens and clicks over time">',
    ]
    for fraction, text in ticks:
        y = axis_y - fraction * PLOT_H
        if fraction:
            parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                         'stroke="#e4e4e4"/>')  # fmt: skip
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="{TICK_SIZE}" '
                     f'text-anchor="end">{escape(text)}</text>')  # fmt: skip
    for i, bucket in enumerate(series):
        x = left + i * slot + (slot - 2 * bar) / 2
        for j, (key, colour) in enumerate(SERIES):
            h = bucket[key] / peak * PLOT_H
            parts.append(
                f'<rect x="{x + j * bar:.2f}" y="{axis_y - h:.2f}" width="{bar:.2f}" '
                f'height="{h:.2f}" fill="{colour}"><title>{escape(key)} {bucket[key]} from '
                f"{escape(_when(bucket['bucket_start'], zone))}</title></rect>"
            )
    for i in time_labels(count, slot):
        centre = left + (i + 0.5) * slot
        text = escape(series[i]["bucket_start"].astimezone(zone).strftime(TIME_FORMAT))
        parts.append(f'<line x1="{centre:.1f}" y1="{axis_y}" x2="{centre:.1f}" '
                     f'y2="{axis_y + 5}" stroke="#333"/>')  # fmt: skip
        parts.append(f'<text x="{centre:.1f}" y="{axis_y + 20}" font-size="{TIME_SIZE}" '
                     f'text-anchor="middle">{text}</text>')  # fmt: skip
    parts.append(f'<line x1="{left}" y1="{TOP}" x2="{left}" y2="{axis_y}" stroke="#333"/>')
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" '
                 'stroke="#333" stroke-width="2"/>')  # fmt: skip
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 12}" font-size="{LEGEND_SIZE}" '
                 f'text-anchor="middle">{CAPTION}</text>')  # fmt: skip
    parts.append(f'<text x="{left - 6}" y="{TOP - 12}" font-size="{TICK_SIZE}" '
                 'text-anchor="end">count</text>')  # fmt: skip
    x = float(left)
    for key, colour in SERIES:
        parts.append(f'<rect x="{x:.1f}" y="8" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14:.1f}" y="18" font-size="{LEGEND_SIZE}" '
                     f'fill="{colour}">{key}</text>')  # fmt: skip
        x += 14 + text_width(key, LEGEND_SIZE) + 16
    parts.append("</svg>")
    return "\n".join(parts)
