"""Write the README's screenshots of `lettr wizard` (one SVG per step) from the app itself, with
Textual's screenshot export, on a throwaway store with the sample audience.

    python scripts/wizard_screenshots.py [OUT_DIR]     # default: docs/wizard
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STEPS = {"compose": [], "audience": ["f2"], "schedule": ["f3"], "review": ["f4"]}
SIZE = (100, 34)
HTML = "<p>Hi {{ first_name }},</p><p>Our spring sale starts today.</p>{{ unsubscribe_link }}"


def _lettr(home: Path, *args: str) -> None:
    env = {**os.environ, "LETTR_HOME": str(home), "NO_COLOR": "1"}
    subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "lettr_cli", *args],
        env=env,
        check=True,
        capture_output=True,
        cwd=REPO,
    )


def _store(home: Path) -> None:
    page = home.parent / "spring.html"
    page.write_text(HTML, encoding="utf-8")
    _lettr(home, "config", "set", "timezone", "UTC")
    _lettr(home, "property", "create", "first_name", "--fallback", "there")
    _lettr(home, "list", "create", "Customers")
    _lettr(home, "contact", "import", str(REPO / "sample_audience.csv"), "--list", "Customers")
    _lettr(home, "campaign", "create", "Spring sale", "--subject", "Spring sale: 20% off",
           "--from-email", "news@example.com", "--from-name", "The Shop",
           "--html", str(page))  # fmt: skip
    _lettr(home, "campaign", "audience", "Spring sale", "--list", "Customers")


async def _shoot(home: Path, out: Path) -> None:
    # The same look whatever terminal runs the script (a 16-colour one restyles the inputs).
    os.environ["TEXTUAL_COLOR_SYSTEM"] = "truecolor"
    from textual.widgets import Input, Static

    from lettr_cli.tui.app import WizardApp
    from lettr_cli.workspace import Workspace

    for step, keys in STEPS.items():
        app = WizardApp(Workspace.open(home / "lettr.db", home=home, environ={}), "Spring sale")
        async with app.run_test(size=SIZE) as pilot:
            while not app._loaded.is_set():
                await pilot.pause(0.05)
            for field in app.query(Input):
                field.cursor_blink = False
            await pilot.press(*keys)
            if step == "review":
                while not str(app.find("#first-message", Static).render()):
                    await pilot.pause(0.05)
            await pilot.pause(0.2)
            app.save_screenshot(f"{step}.svg", str(out))
            app.exit(0)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        _store(home)
        asyncio.run(_shoot(home, out))
    for step in STEPS:
        print(out / f"{step}.svg")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "wizard")
