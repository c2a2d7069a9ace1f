"""Compose's HTML file: the path input completes directories and HTML files as you type
(right arrow takes the completion), and f6 opens a directory tree of directories and HTML
files: the file picked fills the input and its content goes into the draft."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widgets import DirectoryTree, Input

from lettr_cli.tui.app import WizardApp
from lettr_cli.tui.files import complete
from tests.wizard_helpers import HTML, footer_gaps, open_workspace, type_in, until


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    (folder / "pages").mkdir(parents=True)
    (folder / "sale.html").write_text(HTML, encoding="utf-8")
    (folder / "sales-notes.txt").write_text("not HTML", encoding="utf-8")
    (folder / ".hidden.html").write_text(HTML, encoding="utf-8")
    (folder / "pages" / "old.htm").write_text("<p>old</p>", encoding="utf-8")
    return folder


def test_completion_offers_directories_and_html_files_only(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    assert complete(f"{folder}/sa") == f"{folder}/sale.html"  # not sales-notes.txt
    assert complete(f"{folder}/pa") == f"{folder}/pages/"
    assert complete(f"{folder}/pages/") == f"{folder}/pages/old.htm"
    assert complete(f"{folder}/.hid") is None
    assert complete(f"{folder}/nothing") is None
    assert complete(f"{tmp_path}/missing/dir/x") is None
    assert complete("") is None


def _html_of(home: Path, ref: str) -> str:
    """The HTML content the store has for the campaign."""
    from lettr_cli.tui.draft import Draft

    body = Draft.open(open_workspace(home), ref).body()
    return str((body or {}).get("html_content") or "")


def test_typing_a_partial_path_suggests_it_and_right_takes_it(
    lettr: Any, tmp_path: Path, isolated_home: Path
) -> None:
    folder = _folder(tmp_path)
    assert lettr("campaign", "create", "Autumn", "--subject", "Hi").exit_code == 0
    app = WizardApp(open_workspace(isolated_home), "Autumn")

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            field = app.find("#html_path", Input)
            await type_in(pilot, "#html_path", f"{folder}/sa")
            await until(pilot, lambda: field._suggestion == f"{folder}/sale.html")
            await pilot.press("right")
            assert field.value == f"{folder}/sale.html"
            await pilot.press("enter")
            await until(pilot, lambda: "html_path" not in app.pending)
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    assert "Hi {{ first_name }}" in _html_of(isolated_home, "Autumn")


def test_picking_a_file_in_the_tree_fills_the_input_and_the_draft(
    lettr: Any, tmp_path: Path, isolated_home: Path
) -> None:
    folder = _folder(tmp_path)
    assert lettr("campaign", "create", "Autumn", "--subject", "Hi").exit_code == 0
    app = WizardApp(open_workspace(isolated_home), "Autumn")

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            app.find("#html_path", Input).value = f"{folder}/"
            await pilot.press("f6")
            await until(pilot, lambda: len(app.screen_stack) == 2)
            tree = app.screen.query_one(DirectoryTree)
            await until(pilot, lambda: len(tree.root.children) > 0)
            await until(pilot, lambda: not footer_gaps(app))
            assert "escape" in app.screen.active_bindings
            names = [node.data.path.name for node in tree.root.children if node.data]
            assert names == ["pages", "sale.html"]  # no .txt, nothing hidden
            sale = next(n for n in tree.root.children if n.data and n.data.path.name == "sale.html")
            while tree.cursor_node is not sale:
                await pilot.press("down")
            await pilot.press("enter")
            await until(pilot, lambda: len(app.screen_stack) == 1)
            assert app.find("#html_path", Input).value == str(folder / "sale.html")
            await until(pilot, lambda: "html_path" not in app.pending and not app.refused)
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    assert "Hi {{ first_name }}" in _html_of(isolated_home, "Autumn")


def test_escape_leaves_the_tree_and_the_draft_as_they_were(
    lettr: Any, tmp_path: Path, isolated_home: Path
) -> None:
    _folder(tmp_path)
    assert lettr("campaign", "create", "Autumn", "--subject", "Hi").exit_code == 0
    app = WizardApp(open_workspace(isolated_home), "Autumn")

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            await pilot.press("f6")
            await until(pilot, lambda: len(app.screen_stack) == 2)
            await pilot.press("escape")
            await until(pilot, lambda: len(app.screen_stack) == 1)
            assert app.find("#html_path", Input).value == ""
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    assert _html_of(isolated_home, "Autumn") == ""
