"""Compose's HTML file: the path input's completion (directories and HTML files) and a
directory tree to pick the file from (f6), both showing only directories and HTML files."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import DirectoryTree, Footer, Static

HTML_SUFFIXES = (".html", ".htm")


def _offered(path: Path) -> bool:
    """A directory or an HTML file, not hidden."""
    if path.name.startswith("."):
        return False
    try:
        return path.is_dir() or path.suffix.lower() in HTML_SUFFIXES
    except OSError:
        return False


def complete(value: str) -> str | None:
    """The first directory or HTML file whose path starts with ``value``, written the way
    ``value`` is (``~`` kept); a directory ends with ``/``. None when nothing fits."""
    if not value:
        return None
    typed = Path(value).expanduser()
    folder, start = (typed, "") if value.endswith("/") else (typed.parent, typed.name)
    try:
        names = sorted(p for p in folder.iterdir() if p.name.startswith(start) and _offered(p))
    except OSError:
        return None
    for found in names:
        rest = found.name[len(start) :] + ("/" if found.is_dir() else "")
        if rest:
            return value + rest
    return None


class HtmlPaths(Suggester):
    """Completes a path as it is typed; the directory is read on a thread."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete, value)


class HtmlTree(DirectoryTree):
    """Directories and HTML files only."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [path for path in paths if _offered(path)]


def start_folder(typed: str) -> Path:
    """Where the tree opens: the folder the input names (or its file's), else the current one."""
    path = Path(typed).expanduser() if typed.strip() else Path.cwd()
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path if path.is_dir() else Path.cwd()


class HtmlPicker(ModalScreen[str | None]):
    """Dismissed with the chosen HTML file's path, or None (escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    HtmlPicker { align: center middle; }
    HtmlPicker > Vertical { width: 90%; height: 80%; border: thick $accent; background: $surface; }
    HtmlPicker Static { padding: 0 1; }
    """

    def __init__(self, typed: str) -> None:
        super().__init__()
        self.folder = start_folder(typed)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Pick the HTML file (Enter) in {self.folder}", id="picker-title")
            yield HtmlTree(self.folder, id="html-tree")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(HtmlTree).focus()

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(str(event.path))

    def action_cancel(self) -> None:
        self.dismiss(None)
