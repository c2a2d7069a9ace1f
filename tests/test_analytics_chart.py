"""The HTML report's chart: at least 600 px wide, every label whole inside the SVG's viewBox and
no two labels overlapping, at any number of buckets; and the page as headless Chromium draws it."""

from __future__ import annotations

import itertools
import re
import shutil
import sqlite3
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analytics_helpers import ORIGIN, SENT_AT, add_event, send
from tests.sending_helpers import store_path

GLYPH = 0.7  # a generous average glyph width (em) for sans-serif text
ASCENT, DESCENT = 1.0, 0.3  # a text box, in em, above and below its baseline
MIN_WIDTH = 600


def one_hour_report(lettr: Any, smtp_server: Any, verified_domain: Any, tmp_path: Path,
                    home: Path) -> Path:  # fmt: skip
    """The reproduction: a sent campaign whose opens and clicks all fall in its first hour."""
    campaign = send(lettr, smtp_server, verified_domain, tmp_path)
    with sqlite3.connect(store_path(home)) as conn:
        add_event(conn, campaign, "user0@example.org", "open", SENT_AT + timedelta(minutes=5))
        add_event(conn, campaign, "user0@example.org", "click", SENT_AT + timedelta(minutes=6),
                  url="https://example.com/offer")  # fmt: skip
        add_event(conn, campaign, "user1@example.org", "open", SENT_AT + timedelta(minutes=7))
    target = tmp_path / "report.html"
    result = lettr("campaign", "report", campaign, "--html", str(target))
    assert result.exit_code == 0, result.stderr
    return target


def svg_of(page: str) -> ET.Element:
    found = re.search(r"<svg\b.*?</svg>", page, re.S)
    assert found is not None, "the page has no SVG chart"
    return ET.fromstring(found.group(0))


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def text_box(element: ET.Element) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of a text element, estimated from its font size and characters."""
    assert "transform" not in element.attrib, "a transformed label cannot be checked"
    text = "".join(element.itertext())
    size = float(element.get("font-size", "16"))
    x, y = float(element.get("x", "0")), float(element.get("y", "0"))
    width = len(text) * size * GLYPH
    anchor = element.get("text-anchor", "start")
    x0 = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return (x0, y - ASCENT * size, x0 + width, y + DESCENT * size)


def shape_box(element: ET.Element) -> tuple[float, float, float, float] | None:
    kind = local(element.tag)
    if kind == "rect":
        x, y = float(element.get("x", "0")), float(element.get("y", "0"))
        return (x, y, x + float(element.get("width", "0")), y + float(element.get("height", "0")))
    if kind == "line":
        xs = sorted(float(element.get(k, "0")) for k in ("x1", "x2"))
        ys = sorted(float(element.get(k, "0")) for k in ("y1", "y2"))
        return (xs[0], ys[0], xs[1], ys[1])
    return None


def check_geometry(svg: ET.Element) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Assert the chart's geometry; returns its labels and their boxes."""
    view = [float(v) for v in svg.get("viewBox", "").split()]
    assert len(view) == 4, "the chart has no viewBox"
    vx, vy, vw, vh = view
    assert vw >= MIN_WIDTH and float(svg.get("width", "0")) >= MIN_WIDTH
    inside = lambda box: (  # noqa: E731
        box[0] >= vx and box[1] >= vy and box[2] <= vx + vw and box[3] <= vy + vh
    )
    labels = []
    for element in svg.iter():
        if local(element.tag) == "text":
            label = "".join(element.itertext())
            box = text_box(element)
            assert inside(box), f"{label!r} at {box} leaves the viewBox {view}"
            labels.append((label, box))
        elif (box := shape_box(element)) is not None:
            assert inside(box), f"a {local(element.tag)} at {box} leaves the viewBox {view}"
    for (a, p), (b, q) in itertools.combinations(labels, 2):
        apart = p[2] <= q[0] or q[2] <= p[0] or p[3] <= q[1] or q[3] <= p[1]
        assert apart, f"{a!r} {p} overlaps {b!r} {q}"
    return labels


def test_a_single_hour_bucket_chart_is_wide_and_every_label_fits(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    page = one_hour_report(lettr, smtp_server, verified_domain, tmp_path, isolated_home)
    labels = [text for text, _ in check_geometry(svg_of(page.read_text(encoding="utf-8")))]
    assert "opens" in labels and "clicks" in labels and "count" in labels
    assert "time (hourly for 48 hours, then daily)" in labels
    assert "01-10 09:00" in labels  # the bucket's start, in full


@pytest.mark.parametrize("buckets", [1, 2, 12, 48, 49, 60, 400])
def test_every_label_fits_at_any_number_of_buckets(buckets: int) -> None:
    from lettr_cli.analytics.html import svg_chart
    from lettr_cli.analytics.stats import bucket_starts

    last = ORIGIN + (timedelta(hours=buckets - 1) if buckets <= 48 else
                     timedelta(hours=48) + timedelta(days=buckets - 49))  # fmt: skip
    starts = bucket_starts(ORIGIN, last)
    assert len(starts) == buckets
    series = [
        {"bucket_start": start, "opens": i * 7, "clicks": i % 3} for i, start in enumerate(starts)
    ]
    series[-1]["opens"] = 1234567
    labels = check_geometry(ET.fromstring(svg_chart(series, UTC)))
    times = [text for text, _ in labels if re.fullmatch(r"\d\d-\d\d \d\d:\d\d", text)]
    assert times[0] == "01-10 09:00"  # the first bucket is always labelled
    assert {"1234567", "617283.5"} <= {text for text, _ in labels}  # the y scale, whole


# -- the page as a browser draws it ------------------------------------------------------------


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: Path, out: Path, profile: Path) -> None:
    browser = chromium()
    assert browser is not None
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--force-color-profile=srgb", "--hide-scrollbars", f"--user-data-dir={profile}",
        f"--screenshot={out}", "--window-size=1200,2400", page.resolve().as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and out.exists(), done.stderr[-2000:]


def decode_png(data: bytes) -> list[list[tuple[int, ...]]]:
    """Rows of pixels of an 8-bit RGB or RGBA PNG (what Chromium writes), by the stdlib."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunk = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[list[tuple[int, ...]]] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append([tuple(line[x : x + 3]) for x in range(0, stride, channels)])
        previous = line
    return rows


def longest_dark_run(rows: list[list[tuple[int, ...]]]) -> int:
    """The longest horizontal run of dark pixels: the chart's x axis (tables are light grey)."""
    best = 0
    for row in rows:
        run = 0
        for pixel in row:
            run = run + 1 if max(pixel) < 0x90 else 0
            best = max(best, run)
    return best


NO_CHROMIUM = "chromium is not installed (apt-get install chromium; .ci/run installs it)"


@pytest.mark.slow
@pytest.mark.skipif(chromium() is None, reason=NO_CHROMIUM)
def test_chromium_draws_the_report_with_a_wide_chart(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    page = one_hour_report(lettr, smtp_server, verified_domain, tmp_path, isolated_home)
    shot = tmp_path / "report.png"
    screenshot(page, shot, tmp_path / "profile")
    rows = decode_png(shot.read_bytes())
    colours = {pixel for row in rows for pixel in row}
    assert len(colours) > 1, "the screenshot is blank"
    near = lambda want: any(  # noqa: E731
        all(abs(p - w) <= 8 for p, w in zip(pixel, want, strict=True)) for pixel in colours
    )
    assert near((0x1F, 0x77, 0xB4)) and near((0xFF, 0x7F, 0x0E)), "no opens or clicks bars drawn"
    assert longest_dark_run(rows) >= 500, "the chart's x axis is not drawn at least 500 px wide"
