"""The one place where commands meet the contract's error format and exit codes.

Every command group is a ``LettrTyper``; its commands catch ``LettrError`` and report it as
``Error [code]: message`` (or the JSON body when the command was given ``--json``), then exit 1.
Parse errors stay the parser's (exit 2); Ctrl-C exits 130.

A group's commands are built when first asked for (``lazy_tree``): `lettr config get KEY`
builds the root, the ``config`` group and ``get``, not the hundred other commands.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperCommand
from typer.models import CommandFunctionType

from lettr_cli.cli.lazy_tree import LazyGroup, LazyTyper
from lettr_cli.cli.plain_values import plain_values
from lettr_cli.errors import EXIT_FAILURE, EXIT_OK, LettrError

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
NameserverOption = Annotated[
    str | None,
    typer.Option(
        "--nameserver",
        metavar="HOST[:PORT]",
        help="Ask this nameserver for DNS records (default: the system's resolver).",
    ),
]
DnsTimeoutOption = Annotated[
    float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each DNS answer.")
]
LimitOption = Annotated[
    int, typer.Option("--limit", min=0, help="Show at most N rows; 0 shows all.")
]


def report_error(error: LettrError, *, as_json: bool) -> None:
    """Write ``error`` to stderr as plain text, or as the contract's JSON body."""
    if as_json:
        text = json.dumps(error.to_json(), ensure_ascii=False)
    else:
        text = f"Error [{error.code}]: {error.message}"
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass


def _flags_take_no_value(params: list[Any]) -> list[Any]:
    # Typer's Rich help shows every option's type, flags included (`--yes -y <bool>`); a flag
    # takes no value, so its type column stays empty. An empty metavar is never shown elsewhere:
    # usage lines and parse errors name flags by their option strings.
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class LettrCommand(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return plain_values(_flags_take_no_value(super().get_params(ctx)))

    def invoke(self, ctx: Any) -> Any:
        gc.enable()  # off while the command tree was built (``main``); a command may run long
        try:
            return super().invoke(ctx)
        except LettrError as error:
            report_error(error, as_json=bool(ctx.params.get("as_json")))
            raise typer.Exit(EXIT_FAILURE) from None
        except BrokenPipeError:
            # A closed stdout (`lettr contact list | head`) ends the command quietly: whatever
            # is still buffered goes nowhere instead of raising again at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_OK) from None


class LettrGroup(LazyGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return plain_values(_flags_take_no_value(super().get_params(ctx)))


class LettrTyper(LazyTyper):
    """A command group whose commands all report errors the contract's way."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", LettrGroup)
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("pretty_exceptions_enable", False)
        kwargs.setdefault("add_completion", False)
        super().__init__(**kwargs)

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", LettrCommand)
        return super().command(*args, **kwargs)
