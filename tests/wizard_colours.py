"""The wizard as a 16-colour terminal shows it. Rich's console, under Textual, turns every
colour into the nearest of the 16 standard ones when the terminal has no more (as with
``TEXTUAL_COLOR_SYSTEM=standard``); ``Standard16`` does the same to the app's output, so a
snapshot shows what such a terminal gets, and ``unreadable`` finds text drawn in the colour
of its own background (or dim grey on black) there."""

from __future__ import annotations

import io
from typing import Any

from rich.color import Color, ColorSystem
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.color import Color as TextualColor
from textual.filter import LineFilter

GREYS = {0, 8}  # black and bright black: dim text there is not read


def _standard(color: Color | None) -> Color | None:
    if color is None or color.is_default:
        return color
    return color.downgrade(ColorSystem.STANDARD)


class Standard16(LineFilter):
    """Every colour to the nearest of the 16 standard colours, as Rich writes it to a
    16-colour terminal."""

    def apply(self, segments: list[Segment], background: TextualColor) -> list[Segment]:
        return [
            Segment(text, None if style is None else _downgraded(style), control)
            for text, style, control in segments
        ]


def _downgraded(style: Style) -> Style:
    return style + Style(color=_standard(style.color), bgcolor=_standard(style.bgcolor))


def _decoration(text: str) -> bool:
    """Box-drawing and block characters: borders and bars, not text."""
    return all(ch.isspace() or 0x2500 <= ord(ch) <= 0x259F for ch in text)


def unreadable(app: Any) -> list[str]:
    """The text on the top screen that a 16-colour terminal would draw in the colour of its
    background, or dim in grey on black; empty when all of it can be read."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)  # fmt: skip
    console.print(app.screen._compositor.render_update(full=True))
    found = []
    for text, style, _ in console._record_buffer:
        if style is None or _decoration(text):
            continue
        fg, bg = _standard(style.color), _standard(style.bgcolor)
        if style.reverse:
            fg, bg = bg, fg
        fg_n = None if fg is None or fg.is_default else fg.number
        bg_n = None if bg is None or bg.is_default else bg.number
        if (fg_n is not None and fg_n == bg_n) or (style.dim and {fg_n, bg_n} <= GREYS):
            found.append(f"{text.strip()!r} in colour {fg_n} on {bg_n}")
    return found
