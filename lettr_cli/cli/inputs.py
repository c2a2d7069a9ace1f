"""Reading what operators hand to commands: files named on the command line, or stdin, the
options every server command shares, and the argument that names a campaign."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lettr_cli.errors import ValidationError

ListenHost = Annotated[
    str, typer.Option("--host", help="The address to listen on (loopback by default).")
]
AnyPort = Annotated[
    int, typer.Option("--port", min=0, max=65535, help="The port; 0 picks a free one and says it.")
]
CampaignRef = Annotated[
    str, typer.Argument(help="The campaign's id, name, or an id prefix (6+ characters).")
]


def read_text(path: str, field: str) -> str:
    """The UTF-8 text of ``path`` (``-`` is stdin); missing or undecodable files are refused."""
    try:
        if path == "-":
            return sys.stdin.buffer.read().decode("utf-8-sig")
        return Path(path).expanduser().read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ValidationError.field(field, f"no such file: {path}") from None
    except IsADirectoryError:
        raise ValidationError.field(field, f"{path} is a folder, not a file") from None
    except PermissionError:
        raise ValidationError.field(field, f"cannot read {path}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise ValidationError.field(
            field, f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason})"
        ) from None
