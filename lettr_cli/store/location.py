"""Where the store lives: a path or a SQLite URL, and private files and folders for it."""

from __future__ import annotations

import os
from pathlib import Path

from lettr_cli.errors import ValidationError

STORE_FILENAME = "lettr.db"
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def parse_location(value: str) -> Path:
    """The store file named by ``--db`` / ``LETTR_DB``: a file path or a ``sqlite:///`` URL.

    Other URLs are refused: PostgreSQL comes in a later release. The message never repeats the
    URL, which may hold a password.
    """
    text = value.strip()
    if not text:
        raise ValidationError.field("db", "the store location is empty")
    if "://" not in text and not text.lower().startswith("sqlite:"):
        return Path(text).expanduser().absolute()
    scheme = text.split(":", 1)[0].lower()
    if scheme.split("+", 1)[0] != "sqlite":
        raise ValidationError.field(
            "db",
            f"store URLs with the scheme '{scheme}' are not supported yet: "
            "give a SQLite file path or a sqlite:///PATH URL",
        )
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise ValidationError.field("db", f"malformed SQLite URL: {exc}") from None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise ValidationError.field(
            "db", "an in-memory store keeps nothing between commands: give a file path"
        )
    if url.query:
        raise ValidationError.field("db", "SQLite URLs take no query parameters here")
    return Path(database).expanduser().absolute()


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents as 0700; existing folders are left as they are."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(path, PRIVATE_DIR_MODE)


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists; True when this call created it."""
    make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    # The umask may have narrowed the mode further, never widened it; be exact anyway.
    os.chmod(path, PRIVATE_FILE_MODE)
    return True
