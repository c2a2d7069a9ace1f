"""Writing to people and to scripts: data on stdout, everything else on stderr.

User-supplied text is never read as Rich markup: consoles are made with markup off, and styled
output is built from ``rich.text.Text`` pieces.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from lettr_cli.errors import ConfirmationRequired

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from sqlmodel import Session

    from lettr_cli.workspace import Workspace

Found = TypeVar("Found")


@cache
def stdout_console() -> Console:
    from rich.console import Console

    # No file given: Rich writes to whatever sys.stdout is at the time.
    return Console(markup=False, highlight=False, emoji=False)


_display_zone: tzinfo | Callable[[], tzinfo] = UTC


def set_display_zone(zone: tzinfo | Callable[[], tzinfo]) -> None:
    """Show times to people in the operator's zone (config ``timezone``); JSON stays UTC.
    A function is asked for the zone when a time is first shown: finding the system's zone
    loads tzlocal and zoneinfo, which a command that shows no time need not pay for."""
    global _display_zone  # noqa: PLW0603 (one setting for the whole invocation)
    _display_zone = zone


def _zone() -> tzinfo:
    global _display_zone  # noqa: PLW0603
    if not isinstance(_display_zone, tzinfo):
        _display_zone = _display_zone()
    return _display_zone


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def emit_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n")
    sys.stdout.flush()


def emit_line(text: str) -> None:
    """Write one line of data on stdout, as is."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def show(renderable: RenderableType) -> None:
    """Render a Rich object (a table) on stdout."""
    stdout_console().print(renderable)


def show_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A plain table on stdout; cells are text, never markup.

    On a terminal Rich fits it to the width, folding long cells. Piped, a row is one line,
    never wrapped or cut (CONTRACT "Later faces"): every cell in full, line breaks and other
    control characters inside a cell written as escapes (``\\n``).
    """
    if not _is_terminal(sys.stdout):
        _write_lines(columns, rows)
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(value) for value in row))
    show(table)


def _write_lines(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    from rich.cells import cell_len

    lines = [[_one_line(name) for name in columns]]
    lines += [[_one_line(_cell(value)) for value in row] for row in rows]
    widths = [max(cell_len(line[i]) for line in lines) for i in range(len(columns))]
    for line in lines:
        padded = (
            text + " " * (width - cell_len(text)) for text, width in zip(line, widths, strict=True)
        )
        sys.stdout.write(COLUMN_GAP.join(padded).rstrip() + "\n")
    sys.stdout.flush()


COLUMN_GAP = "  "  # as Rich spaces the columns of a table without borders


def _one_line(text: str) -> str:
    return "".join(
        repr(ch)[1:-1] if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text
    )


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def display_time(moment: datetime) -> str:
    """A time for people: in the operator's zone, to the second."""
    return moment.astimezone(_zone()).isoformat(sep=" ", timespec="seconds")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return display_time(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def emit_deleted(ids: Sequence[str], names: Sequence[str], *, as_json: bool, noun: str) -> None:
    """What every delete or remove prints: ``{"deleted": [ids]}``, or a line for people."""
    if as_json:
        emit_json({"deleted": list(ids)})
    else:
        emit_line(f"Deleted {noun}: {', '.join(names)}" if names else f"No {noun} deleted")


def note_cut(shown: int, total: int) -> None:
    """Tell stderr when the default limit cut a listing (CONTRACT "Streams and formats")."""
    if shown < total:
        say(f"{shown} of {total} shown (--limit 0 shows all)")


def say(message: str) -> None:
    """A message for the person at the terminal: stderr, plain text."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    say(f"Warning: {message}")


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def confirm(question: str, *, yes: bool) -> None:
    """Go on only with ``--yes`` or a "y" typed at a terminal; otherwise refuse.

    Without a terminal and without ``--yes`` this raises ``confirmation_required``. Ctrl-C at the
    prompt interrupts (exit 130) like anywhere else.
    """
    if yes:
        return
    if not stdin_is_terminal():
        raise ConfirmationRequired(f"{question} Pass --yes to confirm without a terminal.")
    sys.stderr.write(f"{question} [y/N]: ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if answer.strip().lower() not in {"y", "yes"}:
        raise ConfirmationRequired("Not confirmed; nothing was changed.")


def confirm_checked(
    workspace: Workspace,
    check: Callable[[Session], Found],
    question: Callable[[Found], str],
    *,
    yes: bool,
) -> Found:
    """How a destructive command asks (CONTRACT "Errors and exit codes"): ``check`` resolves the
    target and raises its refusal (``not_found``, a state rule...) in a read transaction; only
    then is ``question`` asked, or ``--yes`` taken. Returns what ``check`` found; the command
    then acts in a write transaction of its own, where the service checks again."""
    with workspace.store.read() as session:
        found = check(session)
        text = question(found)
    confirm(text, yes=yes)
    return found
