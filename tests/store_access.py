"""Plain SQL on the test's store, whichever engine it is on: ``store_connect(home)`` opens the
store the test's commands use (``store_location``: LETTR_DB when set, else ``home/lettr.db``) and
gives a connection with ``execute(sql, params)`` in SQLite's ``?`` style, committed on leaving."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import store_location


class ServerConnection:
    """A psycopg connection that takes ``?`` placeholders, like sqlite3's."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.raw = psycopg.connect(url)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(sql.replace("%", "%%").replace("?", "%s"), [tuple(r) for r in rows])

    def commit(self) -> None:
        self.raw.commit()

    def close(self) -> None:
        self.raw.close()


@contextmanager
def store_connect(home: Path) -> Iterator[Any]:
    location = store_location(home)
    conn: Any = (
        sqlite3.connect(location)
        if isinstance(location, Path)
        else ServerConnection(location.secret)
    )
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


def on_server() -> bool:
    """True in a PostgreSQL variant."""
    return not isinstance(store_location(Path()), Path)


def until_one_waits_for_a_lock(url: str, done: Any) -> None:
    """Return once a client of the PostgreSQL database at ``url`` waits for a lock, or once the
    ``threading.Event`` ``done`` is set (what was to wait did not)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as watch:
        while not done.is_set():
            [(waiting,)] = watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).fetchall()
            if waiting:
                return
            done.wait(0.01)
