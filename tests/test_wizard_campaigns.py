"""The wizard's Campaigns screen (f5): Lettr's list newest first; duplicate and delete behind a
confirmation (a scheduled campaign is not deleted); open reloads the builder on a campaign."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input

from lettr_cli.tui.app import WizardApp
from tests.sending_helpers import make_campaign
from tests.smtp_relay import Relay
from tests.wizard_helpers import open_workspace, until


def _names(app: WizardApp) -> list[str]:
    table = app.screen.query_one("#campaigns", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def test_list_duplicate_delete_and_open(
    lettr: Any, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    make_campaign(lettr, tmp_path, ["ann@example.org"])  # "Sale", sendable
    assert lettr("campaign", "schedule", "Sale", "--at", "+1d").exit_code == 0
    assert lettr("campaign", "create", "Later", "--subject", "Hi").exit_code == 0
    app = WizardApp(open_workspace(isolated_home))

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            await pilot.press("f5")
            await until(
                pilot, lambda: len(app.screen_stack) == 2 and _names(app) == ["Later", "Sale"]
            )
            table = app.screen.query_one("#campaigns", DataTable)
            assert str(table.get_row_at(1)[1]) == "scheduled"
            await pilot.press("ctrl+d")
            await pilot.pause(0.1)
            await pilot.press("ctrl+y")
            await until(pilot, lambda: "Later (copy)" in _names(app))
            await pilot.press("down", "down")  # Sale: scheduled, not deletable
            await until(pilot, lambda: table.cursor_row == 2)
            await pilot.press("delete")
            await pilot.pause(0.1)
            await pilot.press("ctrl+y")
            await until(pilot, lambda: "Not deleted" in shown_on(app, "#campaigns-note"))
            await pilot.press("up", "up")
            await until(pilot, lambda: table.cursor_row == 0)
            assert _names(app)[0] == "Later (copy)"
            await pilot.press("delete")
            await pilot.pause(0.1)
            await pilot.press("ctrl+y")
            await until(pilot, lambda: _names(app) == ["Later", "Sale"])
            await pilot.press("enter")  # open Later
            await until(pilot, lambda: len(app.screen_stack) == 1)
            await until(pilot, lambda: app.find("#name", Input).value == "Later")
            assert app.find("#subject", Input).value == "Hi"
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    listed = lettr("campaign", "list", "--json").json()
    rows = listed["data"] if isinstance(listed, dict) else listed
    assert sorted(row["name"] for row in rows) == ["Later", "Sale"]
    body = lettr("campaign", "show", "Later", "--json").json()
    assert body["subject"] == "Hi"  # reopening saved nothing over it


def shown_on(app: WizardApp, selector: str) -> str:
    from textual.widgets import Static

    return str(app.screen.query_one(selector, Static).render())
