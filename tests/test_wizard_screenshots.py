"""The README's wizard screenshots come from the app: the script writes one SVG per step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_script_writes_a_screenshot_of_each_step(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "wizard_screenshots.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for step, words in (("compose", "Spring"), ("audience", "Customers"),
                        ("schedule", "Send"), ("review", "recipients")):  # fmt: skip
        svg = (tmp_path / f"{step}.svg").read_text(encoding="utf-8")
        assert svg.startswith("<svg") and words in svg.replace("&#160;", " ")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for step in ("compose", "audience", "schedule", "review"):
        assert f"docs/wizard/{step}.svg" in readme
