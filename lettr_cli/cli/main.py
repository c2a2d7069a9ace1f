"""The `lettr` command: the root options and every command group."""

from __future__ import annotations

import gc
import signal
import sys
from typing import Annotated

import typer

from lettr_cli import __version__
from lettr_cli.cli import rich_help
from lettr_cli.cli.command import LettrTyper
from lettr_cli.cli.runtime import Runtime
from lettr_cli.errors import EXIT_SIGTERM

rich_help.defer()  # typer's help without rich.markdown and rich.traceback (``rich_help``)

app = LettrTyper(
    name="lettr",
    help="Marketing email campaigns from the command line: audience, campaigns, sending, tracking.",
)


def _print_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"lettr {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="LETTR_DB",
            help=(
                "The store: a file path, a sqlite:/// URL or a postgresql://USER@HOST:PORT/DB "
                "URL (default: $LETTR_HOME/lettr.db)."
            ),
            show_envvar=True,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Marketing email campaigns from the command line."""
    state = Runtime(db=db)
    ctx.obj = state
    ctx.call_on_close(state.close)


# Each command's module is imported when the command is built (``lazy_tree``): the order here
# is the order `lettr --help` lists them in (commands, then groups).
app.command_from("init", "lettr_cli.cli.store:init")
app.typer_from("campaign", "lettr_cli.cli.campaign:app")
app.typer_from(
    "contact",
    "lettr_cli.cli.contact:app",
    also=("lettr_cli.cli.contact_io", "lettr_cli.cli.contact_optin"),  # import and export, ...
)
app.typer_from("list", "lettr_cli.cli.groups:lists_app")
app.typer_from("topic", "lettr_cli.cli.groups:topics_app")
app.typer_from("property", "lettr_cli.cli.property:app")
app.typer_from("template", "lettr_cli.cli.template:app")
app.typer_from("segment", "lettr_cli.cli.segment:app")
app.typer_from("audience", "lettr_cli.cli.audience:app")
app.typer_from("config", "lettr_cli.cli.config:app")
app.typer_from("store", "lettr_cli.cli.store:app")
app.typer_from("domain", "lettr_cli.cli.domain:app")
app.typer_from("dns", "lettr_cli.cli.dns:app")
app.command_from("demo", "lettr_cli.cli.demo:demo")
app.command_from("sink", "lettr_cli.cli.sink:sink")
app.typer_from("daemon", "lettr_cli.cli.daemon:app")
app.typer_from("feedback", "lettr_cli.cli.feedback:app")
app.typer_from("track", "lettr_cli.cli.track:app")
app.command_from("doctor", "lettr_cli.cli.doctor:doctor")
app.command_from("serve", "lettr_cli.cli.serve:serve")
app.typer_from("apikey", "lettr_cli.cli.apikey:app")
app.command_from("wizard", "lettr_cli.cli.wizard:wizard")


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(EXIT_SIGTERM)


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminated)
    # Building the command tree (and, for --help, loading Rich) makes many objects and no
    # garbage: the collector is off until a command runs (``LettrCommand.invoke``).
    gc.disable()
    try:
        app(prog_name="lettr")
    finally:
        # At exit the interpreter's last garbage collection walks every object still alive,
        # SQLAlchemy's and typer's included: some 40 ms at the end of every command (issue 18,
        # "Start-up"). The command is done and has closed what it opened; frozen objects are
        # left to the process's end. Nothing else changes: buffers are still flushed and exit
        # handlers still run.
        gc.freeze()
