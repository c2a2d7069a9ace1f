"""The `lettr` command: the root options and every command group."""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer

from lettr_cli import __version__
from lettr_cli.cli import apikey as apikey_commands
from lettr_cli.cli import audience as audience_commands
from lettr_cli.cli import campaign as campaign_commands
from lettr_cli.cli import config as config_commands
from lettr_cli.cli import contact as contact_commands
from lettr_cli.cli import contact_io as _contact_io  # noqa: F401 (adds import and export)
from lettr_cli.cli import contact_optin as _contact_optin  # noqa: F401 (adds resend-confirmation)
from lettr_cli.cli import daemon as daemon_commands
from lettr_cli.cli import demo as demo_command
from lettr_cli.cli import dns as dns_commands
from lettr_cli.cli import doctor as doctor_command
from lettr_cli.cli import domain as domain_commands
from lettr_cli.cli import feedback as feedback_commands
from lettr_cli.cli import groups as group_commands
from lettr_cli.cli import property as property_commands
from lettr_cli.cli import segment as segment_commands
from lettr_cli.cli import serve as serve_command
from lettr_cli.cli import sink as sink_command
from lettr_cli.cli import store as store_commands
from lettr_cli.cli import template as template_commands
from lettr_cli.cli import track as track_commands
from lettr_cli.cli import wizard as wizard_command
from lettr_cli.cli.command import LettrTyper
from lettr_cli.cli.runtime import Runtime
from lettr_cli.errors import EXIT_SIGTERM

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


app.command("init")(store_commands.init)
app.add_typer(campaign_commands.app, name="campaign")
app.add_typer(contact_commands.app, name="contact")
app.add_typer(group_commands.lists_app, name="list")
app.add_typer(group_commands.topics_app, name="topic")
app.add_typer(property_commands.app, name="property")
app.add_typer(template_commands.app, name="template")
app.add_typer(segment_commands.app, name="segment")
app.add_typer(audience_commands.app, name="audience")
app.add_typer(config_commands.app, name="config")
app.add_typer(store_commands.app, name="store")
app.add_typer(domain_commands.app, name="domain")
app.add_typer(dns_commands.app, name="dns")
app.command("demo")(demo_command.demo)
app.command("sink")(sink_command.sink)
app.add_typer(daemon_commands.app, name="daemon")
app.add_typer(feedback_commands.app, name="feedback")
app.add_typer(track_commands.app, name="track")
app.command("doctor")(doctor_command.doctor)
app.command("serve")(serve_command.serve)
app.add_typer(apikey_commands.app, name="apikey")
app.command("wizard")(wizard_command.wizard)


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(EXIT_SIGTERM)


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminated)
    app(prog_name="lettr")
