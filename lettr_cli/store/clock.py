"""The database's clock, for what several hosts must agree on (worker heartbeats, DESIGN
"Several daemons"): a moment taken by the server, never by the host that writes it.

On SQLite the text has the form SQLAlchemy stores (``YYYY-MM-DD HH:MM:SS.fff``, UTC), so it
compares with stored timestamps as text. On PostgreSQL it is ``clock_timestamp()``: unlike
``now()`` it is not frozen at the start of the transaction, so a heartbeat written at the end
of a long prepare is as fresh as the moment it is written.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from lettr_cli.store.types import UTCDateTime

_SQLITE_FORMAT = "'%Y-%m-%d %H:%M:%f'"


class db_now(FunctionElement[Any]):
    """The database's current time (UTC)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "db_now"


class db_ago(FunctionElement[Any]):
    """The database's current time minus ``seconds`` (a float)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "db_ago"

    def __init__(self, seconds: float) -> None:
        super().__init__(sa.literal(float(seconds), sa.Float))


@compiles(db_now)
def _now_default(element: db_now, compiler: Any, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"


@compiles(db_now, "sqlite")
def _now_sqlite(element: db_now, compiler: Any, **kw: Any) -> str:
    return f"strftime({_SQLITE_FORMAT}, 'now')"


@compiles(db_now, "postgresql")
def _now_postgresql(element: db_now, compiler: Any, **kw: Any) -> str:
    return "clock_timestamp()"


@compiles(db_ago)
def _ago_default(element: db_ago, compiler: Any, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return f"CURRENT_TIMESTAMP - ({seconds}) * INTERVAL '1 second'"


@compiles(db_ago, "sqlite")
def _ago_sqlite(element: db_ago, compiler: Any, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return f"strftime({_SQLITE_FORMAT}, 'now', '-' || ({seconds}) || ' seconds')"


@compiles(db_ago, "postgresql")
def _ago_postgresql(element: db_ago, compiler: Any, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return f"clock_timestamp() - make_interval(secs => {seconds})"
