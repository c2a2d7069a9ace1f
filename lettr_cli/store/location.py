"""Where the store lives: a SQLite file or a PostgreSQL URL, and private files and folders."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lettr_cli.errors import ValidationError

STORE_FILENAME = "lettr.db"
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


@dataclass(frozen=True)
class ServerUrl:
    """A PostgreSQL store named by a URL. ``str()`` shows it with the password masked, so it
    can be printed, logged or put in an error; ``secret`` is the whole URL, for connecting."""

    secret: str = field(repr=False)

    def __str__(self) -> str:
        return masked(self.secret)

    def __repr__(self) -> str:
        return f"ServerUrl({masked(self.secret)!r})"

    @property
    def driver_url(self) -> str:
        """The URL SQLAlchemy is given: always the psycopg 3 driver."""
        scheme, rest = self.secret.split("://", 1)
        del scheme
        return f"postgresql+psycopg://{rest}"


StoreLocation = Path | ServerUrl
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")


def masked(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    shown_tail = re.sub(r"(?i)(password=)[^&]*", r"\1***", tail)
    return f"{scheme}{sep}{userinfo}{at}{host}{slash}{shown_tail}"


def parse_location(value: str) -> StoreLocation:
    """The store named by ``--db`` / ``LETTR_DB``: a file path, a ``sqlite:///`` URL, or a
    ``postgresql://`` / ``postgresql+psycopg://`` URL (psycopg 3).

    The message of a refusal never repeats the URL's password.
    """
    text = value.strip()
    if not text:
        raise ValidationError.field("db", "the store location is empty")
    if "://" not in text and not text.lower().startswith("sqlite:"):
        return Path(text).expanduser().absolute()
    scheme = text.split(":", 1)[0].lower()
    if scheme in POSTGRES_SCHEMES:
        return _server_url(text)
    if scheme.split("+", 1)[0] == "postgresql":
        raise ValidationError.field(
            "db",
            f"the driver '{scheme}' is not supported: use postgresql:// or "
            "postgresql+psycopg:// (psycopg 3)",
        )
    if scheme.split("+", 1)[0] != "sqlite":
        raise ValidationError.field(
            "db",
            f"store URLs with the scheme '{scheme}' are not supported: give a SQLite file "
            "path, a sqlite:///PATH URL or a postgresql://USER@HOST:PORT/DATABASE URL",
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


def _server_url(text: str) -> ServerUrl:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = ServerUrl(text)
    try:
        parsed = make_url(url.driver_url)
    except (ArgumentError, ValueError):
        raise ValidationError.field("db", f"malformed PostgreSQL URL: {url}") from None
    if not parsed.database:
        raise ValidationError.field(
            "db", f"the PostgreSQL URL {url} names no database: add /DATABASE at its end"
        )
    return url


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
