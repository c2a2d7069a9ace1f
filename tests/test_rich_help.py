"""`lettr --help` loads typer's Rich help without ``rich.markdown`` and ``rich.traceback``
(``lettr_cli.cli.rich_help``, issue 18 "Start-up"), prints what it printed before, and the two
stand-ins still give the real thing when typer uses them.

Each check runs in a fresh interpreter: in this one typer's help module is long loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "help_texts.json"
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
WATCHED = ("rich.markdown", "rich.traceback", "markdown_it", "pygments", "typer.rich_utils")


def fresh(script: str) -> Any:
    """What ``script`` prints as JSON, run in a new interpreter."""
    env = {**os.environ, **ENV}
    env.pop("LETTR_HOME", None)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


RUN = """
    import json, sys
    from typer.testing import CliRunner
    from lettr_cli.cli.main import app
    result = CliRunner().invoke(app, {args!r}, env={env!r}, catch_exceptions=False)
    print(json.dumps({{
        "exit_code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
        "loaded": [name for name in {watched!r} if name in sys.modules],
    }}))
"""


@pytest.mark.parametrize(
    "args",
    [["--help"], ["campaign"], ["campaign", "create", "--help"], ["contact", "list", "--help"]],
    ids=" ".join,
)
def test_help_is_unchanged_and_loads_neither(args: list[str]) -> None:
    found = fresh(RUN.format(args=args, env=ENV, watched=WATCHED))
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))[" ".join(["lettr", *args])]
    assert found.pop("loaded") == ["typer.rich_utils"]
    assert found == expected


def test_a_usage_error_loads_neither() -> None:
    found = fresh(RUN.format(args=["campaign", "--bogus"], env=ENV, watched=WATCHED))
    assert found["exit_code"] == 2
    assert "No such option: --bogus" in found["stderr"]
    assert found["loaded"] == ["typer.rich_utils"]


def test_the_stand_ins_make_the_real_objects() -> None:
    found = fresh(
        """
        import json, sys
        import lettr_cli.cli.main
        import typer.rich_utils as help_module
        from typer.models import DeveloperExceptionConfig

        left = [name for name in ("rich.markdown", "rich.traceback") if name in sys.modules]
        markdown = help_module._make_rich_text(text="**bold**", markup_mode="markdown")
        try:
            1 / 0
        except ZeroDivisionError as exc:
            traceback = help_module.get_traceback(exc, DeveloperExceptionConfig(), [])
        from rich.markdown import Markdown
        from rich.traceback import Traceback
        print(json.dumps({
            "left": left,
            "markdown": isinstance(markdown, Markdown),
            "traceback": isinstance(traceback, Traceback),
            "frames": len(traceback.trace.stacks[0].frames),
            "real": [sys.modules[name].__doc__ != "lettr's stand-in while typer loads"
                     for name in ("rich.markdown", "rich.traceback")],
        }))
        """
    )
    assert found == {
        "left": [],
        "markdown": True,
        "traceback": True,
        "frames": 1,
        "real": [True, True],
    }


MARKDOWN_APP = """
    import json, sys
    {prelude}
    import typer
    from typer.testing import CliRunner

    app = typer.Typer(rich_markup_mode="markdown")

    @app.command()
    def hello(name: str = typer.Option("x", help="Who to greet, in **bold**.")) -> None:
        '''Say *hello* with a [link](https://example.com).

        - one
        - two
        '''

    result = CliRunner().invoke(app, ["--help"], env={env!r})
    print(json.dumps(result.stdout))
"""


def test_a_markdown_help_prints_as_without_the_stand_ins() -> None:
    deferred = fresh(MARKDOWN_APP.format(prelude="import lettr_cli.cli.main", env=ENV))
    plain = fresh(MARKDOWN_APP.format(prelude="", env=ENV))
    assert "hello" in plain and "bold" in plain
    assert deferred == plain
