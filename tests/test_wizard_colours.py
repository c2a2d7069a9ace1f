"""The wizard in a 16-colour terminal (``TEXTUAL_COLOR_SYSTEM=standard``): no text on any step
or on the Campaigns screen is drawn in its background's colour, and the inputs, which lose
their shade of grey there, get a background of their own."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rich.color import ColorSystem
from textual.widgets import Input, Static

from lettr_cli.tui.app import WizardApp
from tests.wizard_colours import unreadable
from tests.wizard_helpers import audience, open_workspace, until


def _standard(color: Any) -> int | None:
    return color.rich_color.downgrade(ColorSystem.STANDARD).number  # type: ignore[no-any-return]


def test_every_step_reads_in_16_colours(
    lettr: Any, tmp_path: Path, isolated_home: Path, sixteen_colours: None
) -> None:
    audience(lettr, tmp_path, ["ann@example.org"])
    assert lettr("campaign", "create", "Autumn", "--subject", "Hi").exit_code == 0
    app = WizardApp(open_workspace(isolated_home), "Autumn")
    assert app.console.color_system == "standard"

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            assert app.has_class("-colours16")
            background = _standard(app.screen.styles.background)
            for field in (app.find("#subject", Input), app.find("#name", Input)):  # blur, focus
                assert _standard(field.styles.background) != background
            for key in ("f1", "f2", "f3", "f4", "f5"):
                await pilot.press(key)
                await pilot.pause(0.3)
                assert unreadable(app) == [], key
            await pilot.press("ctrl+q")
            await until(pilot, lambda: app.return_value is not None)

    asyncio.run(walk())


def test_the_check_finds_text_in_its_background_colour(tmp_path: Path, isolated_home: Path) -> None:
    app = WizardApp(open_workspace(isolated_home))

    async def walk() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, app._loaded.is_set)
            assert not app.has_class("-colours16")  # a truecolour terminal keeps the look
            hidden = Static("hidden words", id="hidden")
            hidden.styles.color = "#1a1a1a"  # near black on black: one colour in 16
            hidden.styles.background = "#000000"
            await app.mount(hidden, before=0)
            await pilot.pause(0.2)
            assert any("hidden words" in line for line in unreadable(app))
            app.exit(0)

    asyncio.run(walk())
