"""Reading what operators hand to commands: files named on the command line, or stdin."""

from __future__ import annotations

import sys
from pathlib import Path

from lettr_cli.errors import ValidationError


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
