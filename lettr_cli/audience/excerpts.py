"""Input quoted back in messages: a bounded excerpt, never a whole hostile file or expression."""

from __future__ import annotations

MOST_QUOTED = 200  # characters of the input a message quotes at most, in one place


def clipped(text: str, limit: int = MOST_QUOTED) -> str:
    """``text``, or its first characters and an ellipsis: at most ``limit`` characters of it."""
    return text if len(text) <= limit else f"{text[:limit]}…"


def window(text: str, start: int, limit: int = MOST_QUOTED) -> tuple[str, int, int]:
    """At most ``limit`` characters of ``text`` around position ``start``, with ellipses.

    Returns the excerpt, where ``start`` falls in it, and where the excerpted text ends in
    ``text`` (so that a caret under a long part can stop at the excerpt's end).
    """
    if len(text) <= limit:
        return text, start, len(text)
    first = max(0, min(start - limit // 5, len(text) - limit))
    last = min(len(text), first + limit)
    lead = "…" if first else ""
    tail = "…" if last < len(text) else ""
    return f"{lead}{text[first:last]}{tail}", start - first + len(lead), last
