"""The command-line contract: streams, error format, exit codes, prompts, help, import hygiene."""

from __future__ import annotations

import io
import json
import os
import pkgutil
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer

import lettr_cli
from lettr_cli import __version__
from lettr_cli.cli.main import app
from lettr_cli.cli.progress import progress
from tests.conftest import REPO, run_process


def test_version(lettr) -> None:
    assert lettr("--version").stdout == f"lettr {__version__}\n"


def test_python_dash_m_runs_the_same_app(tmp_path: Path) -> None:
    result = run_process(["--version"], cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == f"lettr {__version__}\n"


def test_errors_are_plain_text_on_stderr(lettr) -> None:
    result = lettr("config", "get", "nope")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error [validation_error]: unknown configuration key 'nope'")
    assert "\x1b[" not in result.stderr and "╭" not in result.stderr


def test_errors_with_json_are_a_json_body_on_stderr(lettr) -> None:
    result = lettr("config", "set", "smtp.port", "0", "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert json.loads(result.stderr) == {
        "message": "value of smtp.port: 0 is outside 1–65535",
        "error_code": "validation_error",
        "errors": {"smtp.port": ["value of smtp.port: 0 is outside 1–65535"]},
    }


def test_errors_that_are_not_validation_have_no_errors_field(lettr, tmp_path: Path) -> None:
    target = tmp_path / "exists.db"
    target.write_text("x")
    body = lettr("store", "backup", str(target), "--json").error()
    assert set(body) == {"message", "error_code"}
    assert body["error_code"] == "confirmation_required"


def test_user_text_is_never_read_as_markup(lettr) -> None:
    lettr("config", "set", "sender.postal_address", "[bold red]1 Example St[/]")
    assert "[bold red]1 Example St[/]" in lettr("config", "show").stdout
    assert lettr("config", "get", "sender.postal_address").stdout == "[bold red]1 Example St[/]\n"


@pytest.mark.parametrize(
    "args",
    [
        ["config", "set", "smtp.host"],  # missing argument
        ["config", "show", "--bogus"],  # unknown option
        ["nosuchcommand"],
    ],
)
def test_what_the_parser_rejects_exits_2(tmp_path: Path, args: list[str]) -> None:
    result = run_process(args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Usage:" in result.stderr


def test_our_refusals_exit_1_without_a_traceback(tmp_path: Path) -> None:
    result = run_process(["config", "set", "sending.concurrency", "100"], cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr == (
        "Error [validation_error]: value of sending.concurrency: 100 is outside 1–64\n"
    )


def test_a_closed_stdout_ends_quietly(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lettr_cli", "config", "show", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head` that has already gone
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert err == ""


def spawn_on_terminal(args: list[str], tmp_path: Path) -> tuple[int, int]:
    """Start lettr with a pseudo-terminal as stdin/stdout/stderr; returns (pid, master fd)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.chdir(tmp_path)
        os.execvp(sys.executable, [sys.executable, "-m", "lettr_cli", *args])
    return pid, fd


def read_until(fd: int, needle: bytes, timeout: float = 30) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"never saw {needle!r}; got {seen!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def finish(pid: int, fd: int) -> tuple[int, bytes]:
    rest = b""
    try:
        while chunk := os.read(fd, 1024):
            rest += chunk
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), rest


@pytest.fixture
def existing_backup(tmp_path: Path) -> Path:
    target = tmp_path / "old.db"
    target.write_bytes(b"precious")
    return target


@pytest.mark.parametrize(("answer", "expected_code"), [(b"y\n", 0), (b"n\n", 1), (b"\n", 1)])
def test_destructive_commands_ask_on_a_terminal(
    tmp_path: Path, existing_backup: Path, answer: bytes, expected_code: int
) -> None:
    pid, fd = spawn_on_terminal(["store", "backup", str(existing_backup)], tmp_path)
    assert b"[y/N]" in read_until(fd, b"[y/N]")
    os.write(fd, answer)
    code, rest = finish(pid, fd)
    assert code == expected_code
    if expected_code == 0:
        assert existing_backup.read_bytes().startswith(b"SQLite format 3")
    else:
        assert b"Error [confirmation_required]: Not confirmed" in rest
        assert existing_backup.read_bytes() == b"precious"


@pytest.mark.parametrize(("signum", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_and_terminated_exit_codes(
    tmp_path: Path, existing_backup: Path, signum: int, expected: int
) -> None:
    pid, fd = spawn_on_terminal(["store", "backup", str(existing_backup)], tmp_path)
    read_until(fd, b"[y/N]")
    os.kill(pid, signum)
    code, _ = finish(pid, fd)
    assert code == expected
    assert existing_backup.read_bytes() == b"precious"


def all_commands() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "lettr")
def test_every_command_has_help_text(lettr, path: tuple[str, ...]) -> None:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    assert (command.help or "").strip(), f"lettr {' '.join(path)} has no help text"
    result = lettr(*path, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


def test_services_do_not_load_the_user_interface(tmp_path: Path) -> None:
    modules = sorted(
        info.name
        for info in pkgutil.walk_packages(lettr_cli.__path__, "lettr_cli.")
        if not info.name.startswith(("lettr_cli.cli", "lettr_cli.tui"))
        and info.name != "lettr_cli.__main__"
    )
    assert "lettr_cli.workspace" in modules and "lettr_cli.store.engine" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in ('typer', 'rich', 'textual') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == "[]"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_plain_lines_without_a_terminal() -> None:
    stream = io.StringIO()
    with progress("Importing", stream=stream) as report:
        for done in range(1, 1001):
            report(done, 1000)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "Importing: 1/1000 (0%)"
    assert lines[-1] == "Importing: 1000/1000 (100%)"
    assert len(lines) < 10


def test_progress_without_a_total_ends_with_the_last_count() -> None:
    stream = io.StringIO()
    with progress("Preparing", stream=stream) as report:
        for done in range(1, 51):
            report(done, None)
    assert stream.getvalue().splitlines()[-1] == "Preparing: 50"


def test_progress_on_a_terminal_is_a_live_bar() -> None:
    stream = Terminal()
    with progress("Sending", stream=stream) as report:
        report(5, 10)
        report(10, 10)
    assert "10/10" in stream.getvalue()


def _flags(path: tuple[str, ...]) -> list[str]:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    with command.make_context(" ".join(path) or "lettr", ["--help"], resilient_parsing=True) as ctx:
        params = command.get_params(ctx)
    return [p.opts[-1] for p in params if getattr(p, "is_flag", False)]


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "lettr")
def test_flags_show_no_value_in_help(lettr, path: tuple[str, ...]) -> None:
    import re

    text = lettr(*path, "--help", env={"COLUMNS": "200"}).stdout
    assert "<bool>" not in text
    flags = _flags(path)
    assert "--help" in flags
    for flag in flags:
        rows = [line for line in text.splitlines() if re.search(rf"{flag}(?![\w-])", line)]
        assert rows, f"{flag} is not in the help of lettr {' '.join(path)}"
        assert not re.search(r"<\w+>", rows[0]), rows[0]


LONG_EMAIL = "a.very.long.local.part.that.goes.on.and.on." * 2 + "x@" + "sub." * 10 + "example.com"
LONG_VALUE = "word " * 59 + "final"  # 300 characters with spaces Rich would wrap at


def _one_line_rows(text: str, *cells: str) -> None:
    for cell in cells:
        rows = [line for line in text.splitlines() if cell in line]
        assert len(rows) == 1, f"{cell[:20]}… is not whole on one line:\n{text}"


def test_piped_tables_are_never_wrapped_or_cut(lettr, tmp_path: Path) -> None:
    lettr("property", "create", "note", "--type", "string")
    lettr("list", "create", "A list whose name is long enough to need its own wide column")
    added = lettr("contact", "add", LONG_EMAIL, "--prop", f"note={LONG_VALUE}", "--list",
                  "A list whose name is long enough to need its own wide column")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    listed = lettr("contact", "list", env={"COLUMNS": "80"}).stdout
    _one_line_rows(listed, LONG_EMAIL)
    assert len(listed.splitlines()) == 2  # the header and one row
    shown = lettr("contact", "show", LONG_EMAIL, env={"COLUMNS": "80"}).stdout
    _one_line_rows(shown, LONG_EMAIL, f"properties.note  {LONG_VALUE}")
    env = {"COLUMNS": "80", "LETTR_HOME": str(tmp_path / "home")}
    piped = run_process(["contact", "show", LONG_EMAIL], env=env, cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    _one_line_rows(piped.stdout, LONG_EMAIL, f"properties.note  {LONG_VALUE}")
    assert all(line == line.rstrip() for line in piped.stdout.splitlines())


def test_a_piped_cell_with_a_line_break_stays_on_its_row(lettr) -> None:
    lettr("property", "create", "note", "--type", "string")
    lettr("contact", "add", "ann@example.com", "--prop", "note=two\nlines")
    shown = lettr("contact", "show", "ann@example.com").stdout
    row = next(line for line in shown.splitlines() if "properties.note" in line)
    assert row.split() == ["properties.note", "two\\nlines"]
