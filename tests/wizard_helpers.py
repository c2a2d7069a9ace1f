"""Driving the wizard in tests: a workspace on the test's store, typing into inputs with the
pilot, and waiting for the app's workers without timing asserts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from lettr_cli.workspace import Workspace

HTML = "<html><body><p>Hi {{ first_name }},</p><a href='https://example.com/a'>A</a></body></html>"


def open_workspace(home: Path) -> Workspace:
    return Workspace.open(home / "lettr.db", home=home, environ={})


def audience(lettr: Any, tmp_path: Path, emails: list[str]) -> None:
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("list", "create", "Customers")
    page = tmp_path / "people.csv"
    page.write_text("email\n" + "".join(f"{a}\n" for a in emails), encoding="utf-8")
    assert lettr("contact", "import", str(page), "--list", "Customers").exit_code == 0


async def type_in(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Focus the input and type ``text`` key by key, as a person would."""
    field = pilot.app.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    await pilot.press(*("space" if ch == " " else ch for ch in text))


async def until(pilot: Pilot[Any], done: Callable[[], bool], tries: int = 300) -> None:
    """Let the app run until ``done()`` holds (workers on threads need real time)."""
    for _ in range(tries):
        if done():
            return
        await pilot.pause(0.05)
    raise AssertionError("the wizard did not get there")


def shown(pilot: Pilot[Any], selector: str) -> str:
    from textual.widgets import Static

    return str(pilot.app.query_one(selector, Static).render())
