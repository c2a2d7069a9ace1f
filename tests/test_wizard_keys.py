"""The wizard's keys at 80x24: every key that works on a step, on the Campaigns screen and
during a send is shown whole in the footer; the step keys are off on the Campaigns screen; on
Audience, Space selects the first list as soon as the list has the focus."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widgets import RadioSet, TabbedContent

from lettr_cli.tui.app import WizardApp
from tests.sending_helpers import make_campaign
from tests.smtp_relay import Relay
from tests.wizard_helpers import footer_gaps, open_workspace, shown, until


def _keys(app: WizardApp) -> set[str]:
    return {key for key, active in app.screen.active_bindings.items() if active.binding.show}


async def _footer_shows_every_key(pilot: Any) -> None:
    """The footer is rebuilt a moment after the keys change: give it that moment."""
    for _ in range(40):
        if not footer_gaps(pilot.app):
            return
        await pilot.pause(0.05)
    assert footer_gaps(pilot.app) == []


def test_every_key_that_works_is_shown_in_the_footer_at_80_columns(
    lettr: Any, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    make_campaign(lettr, tmp_path, ["ann@example.org"])
    app = WizardApp(open_workspace(isolated_home), "Sale")
    seen: dict[str, set[str]] = {}

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            for key, step in (("f1", "compose"), ("f2", "audience"), ("f3", "schedule"),
                              ("f4", "review")):  # fmt: skip
                await pilot.press(key)
                await until(pilot, lambda s=step: app.find("#steps", TabbedContent).active == s)
                await _footer_shows_every_key(pilot)
                seen[step] = _keys(app)
            await pilot.press("f3")
            app.find("#when", RadioSet).action_next_button()
            await pilot.press("enter")
            await until(pilot, app.later)
            await _footer_shows_every_key(pilot)
            seen["schedule later"] = _keys(app)
            await pilot.press("f1")  # the widest footer: Compose's keys and "f9 Schedule"
            await _footer_shows_every_key(pilot)
            seen["compose later"] = _keys(app)
            await pilot.press("f5")
            await until(pilot, lambda: len(app.screen_stack) == 2)
            await _footer_shows_every_key(pilot)
            seen["campaigns"] = _keys(app)
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    steps = {"f1", "f2", "f3", "f4"}
    assert seen["compose"] >= steps | {"f5", "f6", "f9", "ctrl+q"}
    assert "f8" not in seen["compose"] and "f10" not in seen["compose"]
    assert seen["compose later"] >= steps | {"f5", "f6", "f9", "ctrl+q"}
    assert seen["review"] >= steps | {"f5", "f8", "f9", "ctrl+q"}
    assert seen["campaigns"] >= {"enter", "ctrl+d", "delete", "escape", "ctrl+q"}
    assert not seen["campaigns"] & (steps | {"f5", "f6", "f8", "f9", "f10"})
    assert "f6" not in seen["review"]


def test_the_stop_key_shows_during_a_send(
    lettr: Any, relay: Relay, tmp_path: Path, isolated_home: Path
) -> None:
    from tests.smtp_relay import Stall

    make_campaign(lettr, tmp_path, [f"user{n}@example.org" for n in range(5)])
    stall = Stall(stage="data", beyond=1)
    relay.stalls.append(stall)
    app = WizardApp(open_workspace(isolated_home), "Sale")

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            try:
                await until(pilot, app._loaded.is_set)
                await pilot.press("f9")
                await until(pilot, lambda: len(app.screen_stack) == 2)
                await pilot.press("ctrl+y")
                await until(pilot, stall.entered.is_set)
                await until(pilot, lambda: "f10" in _keys(app))
                await _footer_shows_every_key(pilot)
                assert not _keys(app) & {"f5", "f9"}  # no second send, no leaving mid-send
                await pilot.press("f10")
                await until(pilot, lambda: app.switch is not None and app.switch.asked)
                stall.release.set()
                await until(pilot, lambda: "Stopped" in shown(pilot, "#progress"))
                await until(pilot, lambda: "f10" not in _keys(app))
                await _footer_shows_every_key(pilot)
                await pilot.press("ctrl+q")
                await until(pilot, lambda: app.return_value is not None)
            finally:
                stall.release.set()

    asyncio.run(walk())


def test_step_keys_do_nothing_on_the_campaigns_screen(
    lettr: Any, tmp_path: Path, isolated_home: Path
) -> None:
    assert lettr("campaign", "create", "Autumn", "--subject", "Hi").exit_code == 0
    app = WizardApp(open_workspace(isolated_home))

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            await pilot.press("f5")
            await until(pilot, lambda: len(app.screen_stack) == 2)
            for key in ("f2", "f3", "f4", "f5", "f8", "f9"):
                await pilot.press(key)
            await pilot.pause(0.2)
            assert len(app.screen_stack) == 2  # still the Campaigns screen, no question
            assert app.find("#steps", TabbedContent).active == "compose"
            await pilot.press("escape")
            await until(pilot, lambda: len(app.screen_stack) == 1)
            await pilot.press("f2")  # back on the builder, the step keys work again
            await until(pilot, lambda: app.find("#steps", TabbedContent).active == "audience")
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())


def test_space_selects_the_first_list_as_soon_as_it_has_the_focus(
    lettr: Any, tmp_path: Path, isolated_home: Path
) -> None:
    from tests.wizard_helpers import audience

    audience(lettr, tmp_path, ["ann@example.org", "bob@example.org"])
    assert lettr("list", "create", "Partners").exit_code == 0
    assert lettr("campaign", "create", "Autumn", "--subject", "Hi").exit_code == 0
    app = WizardApp(open_workspace(isolated_home), "Autumn")

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            await pilot.press("f2")
            await until(pilot, lambda: app.focused is not None and app.focused.id == "everyone")
            await pilot.press("tab")  # into Lists: no Down first
            assert app.focused is not None and app.focused.id == "lists"
            await pilot.press("space")
            await until(pilot, lambda: "About 2 recipients" in shown(pilot, "#estimate"))
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())
    body = lettr("campaign", "show", "Autumn", "--json").json()
    assert body["audience"]["lists"] == ["Customers"]
