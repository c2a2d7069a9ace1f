"""`lettr --help` (and every command's `--help`) stays quick: it imports none of the heavy
libraries only some commands need (issue 14, item 8). Each is imported inside the function that
uses it; an eager import at the top of a CLI module shows up here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The wizard's, the servers', the SMTP client's and server's, the signer's and the inliner's.
HEAVY = ("textual", "starlette", "uvicorn", "aiosmtplib", "aiosmtpd", "dkim", "css_inline")

# In a fresh interpreter: `lettr --help`, then `--help` of every group and command, one after the
# other; for each, the heavy top-level modules it was the first to import.
PROBE = """
import json, sys
import typer
from lettr_cli.cli.main import app, main

heavy = set(json.loads(sys.argv[1]))

def loaded():
    return {name.split(".")[0] for name in sys.modules} & heavy

def paths(command, prefix):
    yield prefix
    if hasattr(command, "commands"):  # a group (typer vendors its own click)
        for name, sub in sorted(command.commands.items()):
            yield from paths(sub, [*prefix, name])

before = loaded()
first = {}
for path in paths(typer.main.get_command(app), []):
    sys.argv = ["lettr", *path, "--help"]
    try:
        main()
    except SystemExit as stop:
        assert stop.code in (0, None), (path, stop.code)
    new = loaded() - before - {m for seen in first.values() for m in seen}
    first[" ".join(["lettr", *path, "--help"])] = sorted(new)
sys.stderr.write("PROBE " + json.dumps({"before": sorted(before), "first": first}) + "\\n")
"""


def test_no_help_imports_a_heavy_library(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("LETTR_")}
    env.update(LETTR_HOME=str(tmp_path / "home"), NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stderr.splitlines() if line.startswith("PROBE "))
    probe = json.loads(line.removeprefix("PROBE "))
    assert probe["before"] == []  # importing the command tree loads none of them
    assert len(probe["first"]) > 50  # every command's help was asked for
    assert {help: new for help, new in probe["first"].items() if new} == {}
    assert not (tmp_path / "home").exists()  # help touches no store


def test_lettr_help_as_a_user_runs_it(tmp_path: Path) -> None:
    """`python -m lettr_cli --help`, with Python's own record of what it imported."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("LETTR_")}
    env.update(LETTR_HOME=str(tmp_path / "home"), NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lettr_cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: " in done.stdout
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "typer" in imported  # the record is there
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))
