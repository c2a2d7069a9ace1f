"""The wizard's Schedule step and a send's stop key: a time read in the operator's zone with its
UTC echo, scheduled behind the confirmation; ctrl+q during a send asks first, f10 drains."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widgets import Input, RadioSet, Static

from lettr_cli.tui.app import WizardApp
from tests.sending_helpers import make_campaign
from tests.smtp_relay import Relay, Stall
from tests.wizard_helpers import open_workspace, shown, type_in, until


def _question(app: WizardApp) -> str:
    return str(app.screen.query_one("#question").render()) if len(app.screen_stack) > 1 else ""


def test_schedule_a_time_with_its_utc_echo(lettr, relay: Relay, tmp_path: Path,
                                           isolated_home: Path) -> None:  # fmt: skip
    make_campaign(lettr, tmp_path, ["ann@example.org"])
    lettr("config", "set", "timezone", "Europe/Paris")
    app = WizardApp(open_workspace(isolated_home), "Sale")

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            await pilot.press("f3")
            app.find("#when", RadioSet).action_next_button()
            await pilot.press("enter")
            await until(pilot, app.later)
            await type_in(pilot, "#at", "yesterday")
            assert app.find("#at-echo", Static).has_class("error")
            app.find("#at", Input).value = "2099-06-01T09:00"
            await until(pilot, lambda: "(2099-06-01T07:00:00+00:00)" in shown(pilot, "#at-echo"))
            assert "Europe/Paris" in shown(pilot, "#at-echo")
            await pilot.press("f9")
            await until(pilot, lambda: "Schedule 'Sale' for 2099-06-01 09:00" in _question(app))
            await pilot.press("ctrl+y")
            await until(pilot, lambda: "Scheduled for" in shown(pilot, "#progress"))
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    body = lettr("campaign", "show", "Sale", "--json").json()
    assert body["status"] == "scheduled"
    assert body["scheduled_at"].startswith("2099-06-01T07:00:00")


def test_quit_during_a_send_asks_and_the_stop_key_drains(
    lettr: Any, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    emails = [f"user{n}@example.org" for n in range(40)]
    make_campaign(lettr, tmp_path, emails)
    stall = Stall(stage="data", beyond=1)
    relay.stalls.append(stall)
    app = WizardApp(open_workspace(isolated_home), "Sale")

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            try:
                await until(pilot, app._loaded.is_set)
                await pilot.press("f9")
                await until(pilot, lambda: "about 40 recipients now" in _question(app))
                await pilot.press("ctrl+y")
                await until(pilot, stall.entered.is_set)
                await pilot.press("ctrl+q")
                await until(pilot, lambda: "A send is running" in _question(app))
                await pilot.press("escape")  # no: the send goes on
                await until(pilot, lambda: len(app.screen_stack) == 1)
                assert app.send_worker is not None and app.return_value is None
                await pilot.press("f10")
                await until(pilot, lambda: app.switch is not None and app.switch.asked)
                stall.release.set()
                await until(pilot, lambda: "Stopped" in shown(pilot, "#progress"))
                await pilot.press("ctrl+q")
                await until(pilot, lambda: app.return_value is not None)
            finally:
                stall.release.set()  # a failed walk must not leave the send waiting

    asyncio.run(walk())
    assert app.return_value == 0
    body = lettr("campaign", "show", "Sale", "--json").json()
    assert body["status"] == "sending"  # the daemon finishes it
    assert 0 < len(relay.delivered_to()) < len(emails)
    assert body["outbox"]["queued"] > 0


def test_a_new_draft_starts_from_the_prompt(
    lettr: Any, verified_domain: Any, tmp_path: Path, isolated_home: Path
) -> None:
    verified_domain()
    made = lettr("campaign", "create", "Spring sale", "--from-email", "news@example.com",
                 "--from-name", "The Shop")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    app = WizardApp(open_workspace(isolated_home))

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            assert app.find("#name", Input).value == ""  # no name before the prompt
            await type_in(pilot, "#prompt", "spring sale again")
            await pilot.press("enter")
            await until(pilot, lambda: app.find("#from_local", Input).value == "news")
            assert app.find("#name", Input).value
            assert app.find("#from_name", Input).value == "The Shop"
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    listed = lettr("campaign", "list", "--json").json()
    rows = listed["data"] if isinstance(listed, dict) else listed
    assert len(rows) == 2
    new = next(row for row in rows if row["name"] != "Spring sale")
    body = lettr("campaign", "show", new["id"], "--json").json()
    assert (body["from_email"], body["from_name"]) == ("news@example.com", "The Shop")
