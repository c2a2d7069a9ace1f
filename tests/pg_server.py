"""A throwaway PostgreSQL server for the tests: ``initdb`` in a temporary folder as an
unprivileged user (``postgres`` when the tests run as root), on a free loopback port, with
``fsync=off`` and ``full_page_writes=off``; stopped and removed at the end of the session.
``PgServer(max_connections=None)`` keeps the server's default (100); ``durable=True`` keeps its
default durability (fsync, full-page writes, synchronous commit on), as a user's server has
(``bench/send_postgres.py``).

``find_binaries`` looks on PATH, then under Debian's /usr/lib/postgresql/*/bin. Without them (or
without psycopg) ``PgServer.start`` raises ``Unavailable`` with the reason, and the PostgreSQL
variants of the tests skip with it. Each test gets a database of its own (``new_database``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

BINARIES = ("initdb", "pg_ctl", "postgres")
SUPERUSER = "lettr_test"


class Unavailable(Exception):
    """Why PostgreSQL cannot be started here."""


def find_binaries() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None."""
    found = shutil.which("initdb")
    candidates = [Path(found).parent] if found else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if all((folder / name).exists() for name in BINARIES):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgServer:
    def __init__(self, *, max_connections: int | None = 200, durable: bool = False) -> None:
        self.max_connections = max_connections
        self.durable = durable
        self.root: Path | None = None
        self.port = 0
        self.bin: Path | None = None
        self._as: list[str] = []
        self._template = ""

    @property
    def admin_url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self._as, *args], capture_output=True, text=True, check=False, timeout=120
        )
        if done.returncode != 0:
            raise Unavailable(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> PgServer:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise Unavailable("psycopg is not installed: pip install 'psycopg[binary]'") from None
        self.bin = find_binaries()
        if self.bin is None:
            raise Unavailable(
                "PostgreSQL's initdb, pg_ctl and postgres are not on PATH nor under "
                "/usr/lib/postgresql/*/bin (apt-get install postgresql); .ci/run installs them"
            )
        self.root = Path(tempfile.mkdtemp(prefix="lettr-pg-"))
        if os.geteuid() == 0:
            # initdb refuses root: run the server as the unprivileged postgres user.
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and no 'postgres' user exists") from None
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        data = self.root / "data"
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        self.port = _free_port()
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        if self.max_connections is not None:
            options += f" -c max_connections={self.max_connections}"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    @property
    def log(self) -> Path | None:
        """The server's log file (connections refused show there)."""
        return None if self.root is None else self.root / "server.log"

    def new_database(self, *, migrated: bool = True) -> str:
        """A new database; returns its URL. ``migrated``: a copy of a store that lettr's
        migrations built once (fast); else an empty database (the migrations run on first use).
        """
        import psycopg

        if migrated and not self._template:
            self._template = self.new_database(migrated=False)
            from lettr_cli.store.engine import Store
            from lettr_cli.store.location import parse_location
            from lettr_cli.store.migrations import migrate

            store = Store(parse_location(self._template))
            try:
                migrate(store)
            finally:
                store.close()
        source = self._template.rsplit("/", 1)[1] if migrated else "template0"
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.root is None or self.bin is None:
            return
        if (self.root / "data" / "postmaster.pid").exists():
            subprocess.run(
                [
                    *self._as,
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.root / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                check=False,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)


def start_or_why(**options: Any) -> PgServer | Unavailable:
    """A started ``PgServer(**options)``, or why there is none (``Unavailable``); with
    LETTR_TEST_REQUIRE_PG=1 (``.ci/run`` sets it) a missing server raises instead."""
    server = PgServer(**options)
    try:
        return server.start()
    except Unavailable as exc:
        server.stop()
        if os.environ.get("LETTR_TEST_REQUIRE_PG") == "1":
            raise
        return exc
