"""Snapshots (pytest-textual-snapshot) of each step of the wizard and of the Campaigns screen at
80x24 and at 120x40. Deterministic: a fixed zone (UTC), fixed data (one list, one segment-less
audience, two drafts with fixed names), no time or id on screen. `--snapshot-update` rewrites
them after a deliberate change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static

from lettr_cli.tui.app import WizardApp
from tests.wizard_helpers import audience, footer_gaps, open_workspace, until

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
KEYS = {"compose": [], "audience": ["f2"], "schedule": ["f3"], "review": ["f4"],
        "campaigns": ["f5"]}  # fmt: skip


@pytest.fixture
def store(lettr: Any, tmp_path: Path, isolated_home: Path) -> Path:
    lettr("config", "set", "timezone", "UTC")
    audience(lettr, tmp_path, ["ann@example.org", "bob@example.org"])
    assert lettr("campaign", "create", "Autumn news", "--subject", "Hi").exit_code == 0
    return isolated_home


def _footer_keys(app: Any) -> set[str]:
    from textual.widgets._footer import FooterKey

    return {key.key for key in app.screen.query(FooterKey)}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("view", list(KEYS))
def test_snapshot(snap_compare: Any, store: Path, view: str, size: str) -> None:
    app = WizardApp(open_workspace(store))

    async def ready(pilot: Any) -> None:
        await until(pilot, app._loaded.is_set)
        for field in app.query(Input):
            field.cursor_blink = False  # a blinking cursor is drawn or not by chance
        for key in KEYS[view]:
            await pilot.press(key)
        if view == "review":
            await until(pilot, lambda: bool(str(app.find("#summary", Static).render())))
        if view == "campaigns":
            await until(pilot, lambda: len(app.screen_stack) == 2)
            # the rows come from a worker; the header is laid out again once they are in
            await until(pilot, lambda: app.screen.query_one(DataTable).row_count > 0)
            await until(pilot, lambda: "enter" in _footer_keys(app) and not footer_gaps(app))
            await pilot.pause(0.3)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=ready)


def test_snapshot_in_16_colours(snap_compare: Any, store: Path, sixteen_colours: None) -> None:
    """Compose as a 16-colour terminal shows it: the inputs keep a background of their own."""
    from tests.wizard_colours import Standard16

    app = WizardApp(open_workspace(store), "Autumn news")
    app._filters.append(Standard16())  # what Rich's console does to every colour there

    async def ready(pilot: Any) -> None:
        await until(pilot, app._loaded.is_set)
        for field in app.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=ready)
