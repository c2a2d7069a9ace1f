"""Driving the wizard in tests: a workspace on the test's store, typing into inputs with the
pilot, and waiting for the app's workers without timing asserts."""

from __future__ import annotations

import itertools
import time
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


async def until(pilot: Pilot[Any], done: Callable[[], bool], patience: float = 60.0) -> None:
    """Let the app run until ``done()`` holds (workers on threads need real time; a loaded
    2-core CI machine needs a lot of it, so the patience is generous: it bounds a hang, it
    measures nothing)."""
    give_up = time.monotonic() + patience
    while not done():
        if time.monotonic() > give_up:
            raise AssertionError("the wizard did not get there")
        await pilot.pause(0.05)


def shown(pilot: Pilot[Any], selector: str) -> str:
    from textual.widgets import Static

    return str(pilot.app.query_one(selector, Static).render())


def footer_gaps(app: Any, width: int = 80) -> list[str]:
    """Why the footer does not show every key that works now: a key missing from it, cut off
    at ``width`` columns, or hidden under another. Empty when every key is shown."""
    from textual.widgets._footer import FooterKey

    shown_keys = {key.key: key.region for key in app.screen.query(FooterKey) if key.display}
    gaps = []
    for key, active in app.screen.active_bindings.items():
        if not active.binding.show or not active.enabled:
            continue
        region = shown_keys.get(key)
        if region is None:
            gaps.append(f"{key} ({active.binding.description}) is not in the footer")
        elif region.right > width:
            gaps.append(f"{key} ({active.binding.description}) is cut at {width} columns")
    regions = sorted(shown_keys.items(), key=lambda item: item[1].x)
    for (left, one), (right, other) in itertools.pairwise(regions):
        if one.right > other.x:
            gaps.append(f"{left} and {right} overlap")
    return gaps
