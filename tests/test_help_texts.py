"""Every `--help` prints what it printed before the command tree became lazy (issue 18,
"Start-up"): the help of `lettr`, of each group and of each command, and what a group alone
prints (its help, exit 2), byte for byte at a fixed width, against ``fixtures/help_texts.json``.

That file was written from main before the change. After a deliberate change of a help text,
rewrite it with ``python tests/test_help_texts.py --update`` and review the diff.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from lettr_cli.cli.main import app

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "help_texts.json"
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def command_paths() -> list[tuple[str, ...]]:
    """Every group and command, as the words that name it (the root is ``()``)."""
    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def invocations() -> list[tuple[str, ...]]:
    """``--help`` of everything, and each group named alone (which prints its help)."""
    calls = [(*path, "--help") for path in command_paths()]
    groups = [path for path in command_paths() if path and _is_group(path)]
    return [*calls, *groups, ()]


def _is_group(path: tuple[str, ...]) -> bool:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return hasattr(command, "commands")


def _run(args: tuple[str, ...]) -> dict[str, Any]:
    result = CliRunner().invoke(app, list(args), env=ENV, catch_exceptions=False)
    return {"exit_code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr}


def _key(args: tuple[str, ...]) -> str:
    return " ".join(("lettr", *args))


def _expected() -> dict[str, Any]:
    return dict(json.loads(FIXTURE.read_text(encoding="utf-8")))


def test_the_fixture_covers_every_command() -> None:
    assert sorted(_key(args) for args in invocations()) == sorted(_expected())


@pytest.mark.parametrize("args", invocations(), ids=_key)
def test_help_is_unchanged(args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    assert _run(args) == _expected()[_key(args)]


if __name__ == "__main__":  # python tests/test_help_texts.py --update
    if sys.argv[1:] != ["--update"]:
        raise SystemExit(__doc__)
    os.environ.update(ENV)
    os.environ["LETTR_HOME"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / "lettr-help-texts")
    texts = {_key(args): _run(args) for args in invocations()}
    FIXTURE.write_text(
        json.dumps(texts, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{len(texts)} help texts written to {FIXTURE}")
