"""The Campaigns screen (f5): Lettr's list, newest first, with name, status, recipients, the
scheduled or sent time and the open and click rates; open, duplicate and delete (a draft or a
failed campaign) behind a confirmation. Every change goes through the campaign services."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from lettr_cli.errors import LettrError
from lettr_cli.tui.confirm import Confirm

if TYPE_CHECKING:
    from lettr_cli.analytics.listing import ListedCampaign
    from lettr_cli.workspace import Workspace

SHOWN = 200  # rows listed


def listing(workspace: Workspace) -> list[ListedCampaign]:
    from lettr_cli.analytics.listing import campaign_listing

    with workspace.store.read() as session:
        return list(campaign_listing(session, limit=SHOWN).rows)


def duplicate(workspace: Workspace, campaign_id: str) -> str:
    from lettr_cli.campaigns.campaigns import duplicate_campaign

    with workspace.store.write() as session:
        return duplicate_campaign(session, campaign_id, None).name


def delete(workspace: Workspace, campaign_id: str) -> str:
    from lettr_cli.campaigns.campaigns import delete_campaign

    with workspace.store.write() as session:
        return delete_campaign(session, campaign_id)


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


class Campaigns(Screen[str | None]):
    """Dismissed with the id of the campaign to open, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", show=True, priority=True),
        Binding("ctrl+d", "duplicate", "Duplicate"),
        Binding("delete", "delete", "Delete"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace

    def compose(self) -> ComposeResult:
        yield DataTable[str](id="campaigns", cursor_type="row", zebra_stripes=True)
        yield Static("", id="campaigns-note")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#campaigns", DataTable)
        table.add_columns("Name", "Status", "Recipients", "Scheduled/sent (UTC)", "Open", "Click")
        table.focus()
        self.reload()

    @work(exclusive=True, group="list")
    async def reload(self) -> None:
        rows = await asyncio.to_thread(listing, self.workspace)
        table = self.query_one("#campaigns", DataTable)
        table.clear()
        for row in rows:
            when = row.when
            at = f"{when[0]} {when[1]:%Y-%m-%d %H:%M}" if when else ""
            table.add_row(row.name, row.status, str(row.recipients), at,
                          _rate(row.open_rate), _rate(row.click_rate), key=row.id)  # fmt: skip

    def _chosen(self) -> tuple[str, str] | None:
        table = self.query_one("#campaigns", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        name = str(table.get_row(key)[0]) if key is not None else ""
        return (key, name) if key is not None else None

    def action_open(self) -> None:
        chosen = self._chosen()
        if chosen is not None:
            self.dismiss(chosen[0])

    def action_back(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="change")
    async def action_duplicate(self) -> None:
        chosen = self._chosen()
        if chosen is None or not await self.app.push_screen_wait(
            Confirm(f"Duplicate '{chosen[1]}' as a new draft?")
        ):
            return
        name = await asyncio.to_thread(duplicate, self.workspace, chosen[0])
        self.query_one("#campaigns-note", Static).update(f"Made the draft '{name}'.")
        self.reload()

    @work(exclusive=True, group="change")
    async def action_delete(self) -> None:
        chosen = self._chosen()
        if chosen is None or not await self.app.push_screen_wait(
            Confirm(f"Delete '{chosen[1]}'? This cannot be undone.")
        ):
            return
        note = self.query_one("#campaigns-note", Static)
        try:
            await asyncio.to_thread(delete, self.workspace, chosen[0])
        except LettrError as error:
            note.update(f"Not deleted ({error.code}): {error.message}")
            return
        note.update(f"Deleted '{chosen[1]}'.")
        self.reload()
