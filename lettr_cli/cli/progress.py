"""Progress for long work: live Rich bars on a terminal, plain log lines otherwise; stderr only.

Services report through a plain callback ``(done, total)``; this module decides how it looks.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

ProgressCallback = Callable[[int, int | None], None]


@contextmanager
def progress(label: str, *, stream: TextIO | None = None) -> Iterator[ProgressCallback]:
    """Yield a ``(done, total)`` callback that shows how far ``label`` has come."""
    out = stream or sys.stderr
    if _is_terminal(out):
        with _live(label, out) as callback:
            yield callback
    else:
        with _plain(label, out) as callback:
            yield callback


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def _live(label: str, out: TextIO) -> Iterator[ProgressCallback]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=out, markup=False, highlight=False, emoji=False)
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def _plain(label: str, out: TextIO, interval: float = 2.0) -> Iterator[ProgressCallback]:
    shown_at = -interval
    pending: tuple[int, int | None] | None = None

    def write(done: int, total: int | None) -> None:
        percent = f" ({done * 100 // total}%)" if total else ""
        out.write(f"{label}: {done}{f'/{total}' if total else ''}{percent}\n")
        out.flush()

    def update(done: int, total: int | None) -> None:
        nonlocal shown_at, pending
        now = time.monotonic()
        if now - shown_at >= interval or (total is not None and done >= total):
            write(done, total)
            shown_at, pending = now, None
        else:
            pending = (done, total)

    yield update
    if pending is not None:
        write(*pending)
