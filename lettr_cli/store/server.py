"""A store on PostgreSQL (psycopg 3): the engine, its one-writer lock, and what its errors mean.

SQLite lets one writer in at a time and the admin services rely on it for check-then-write
(unique names, the plan quota, the test-send limit, ``resource_in_use``). On PostgreSQL a
transaction that begins as an admin write (``IMMEDIATE`` or ``EXCLUSIVE``, see ``engine``) takes
a store-wide advisory transaction lock first, so the same reasoning holds; reads take no lock.

The hot paths (sending, tracking, feedback) begin ``ROWS``: no advisory lock, only the row locks
their statements take, so several daemons and the tracking server do not wait for each other or
for an admin write. They stay correct under READ COMMITTED because every write of theirs is
either one conditional statement (re-checked by PostgreSQL on the row's newest version when it
waited for that row's lock), or made safe by a row lock taken first:

- claims pass over rows another claim holds (``FOR UPDATE … SKIP LOCKED``) and take only rows
  still ``queued``; marks, results and releases are fenced by token, worker, epoch and status;
  a mark locks the contact (``FOR SHARE``) while it checks that it is subscribed
  (``delivery.fencing``);
- heartbeats and reaps update a worker's row only at the epoch (and staleness) they read;
  reapers lock workers in id order (``delivery.workers``);
- the move to ``sent`` locks the campaign row before it checks that no row is unfinished, so
  of two workers finishing at once the later one sees the other's rows final
  (``campaigns.lifecycle.sending_to_sent``);
- counters are added in one statement; first opens, clicks and unsubscribes are set only while
  empty; soft failures are counted by one upsert (``delivery.effects``); a feedback message's
  key is inserted first (``ON CONFLICT DO NOTHING``) and its row locked before its one event;
- an opt-out (a contact's status, a suppression) is what the admin writes check-then-write too:
  it takes the advisory lock where it happens (:func:`take_write_lock`, from ``ledger``).

A deadlock, a lock timeout or a serialization failure is retried (``Store.transact``), then is
``store_unavailable``. ``store.busy_timeout`` bounds the wait (``lock_timeout``), as it bounds
SQLite's.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, ExceptionContext

from lettr_cli.errors import ResourceAlreadyExists, StoreUnavailable
from lettr_cli.store.location import ServerUrl

# pg_advisory_xact_lock's key for "a writer of this store": any constant, the same in every lettr.
WRITE_LOCK_KEY = 0x1E77_0001
INSTALL = "pip install 'lettr-cli[postgres]'"
# Ten daemons of (pool + overflow) connections fit PostgreSQL's default max_connections (100).
POOL_SIZE, POOL_OVERFLOW = 4, 4
_NOTHING_LOST = "nothing was half-written"
_AGAIN = "run the command again"

# SQLSTATEs (PostgreSQL, Appendix A).
UNIQUE_VIOLATION = "23505"
BUSY = {"40001": "a serialization failure", "40P01": "a deadlock", "55P03": "a lock timeout"}
_GONE = {"57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"}
_REFUSED = {"28000": "access denied", "28P01": "the password was refused"}


def require_driver() -> None:
    """Refuse, saying how to install it, when psycopg 3 is missing."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StoreUnavailable(
            "a PostgreSQL store needs the psycopg 3 driver, which is not installed: "
            f"run `{INSTALL}` (or `pip install 'psycopg[binary]>=3.2'`)"
        ) from None


def create_server_engine(
    url: ServerUrl, busy_timeout: Callable[[], float], *, pool_timeout: float
) -> Engine:
    """An engine on the database ``url`` names, with lettr's begin and error hooks; a thread
    waits at most ``pool_timeout`` seconds for one of its pooled connections."""
    require_driver()
    engine = create_engine(
        url.driver_url,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        # INSERT … SELECT counts what it wrote (imports, events) as on SQLite.
        execution_options={"preserve_rowcount": True},
        connect_args={"connect_timeout": 10, "application_name": "lettr"},
    )

    def on_begin(conn: Connection) -> None:
        from lettr_cli.store.engine import LOCK_TIMEOUT_OPTION, begin_mode

        share = conn.get_execution_options().get(LOCK_TIMEOUT_OPTION)
        timeout_ms = max(1, int((busy_timeout() if share is None else share) * 1000))
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout_ms}")
        if begin_mode(conn) in ("IMMEDIATE", "EXCLUSIVE"):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

    def on_error(context: ExceptionContext) -> None:
        translated = translate(url, context.original_exception)
        if translated is not None:
            raise translated from None

    event.listen(engine, "begin", on_begin)
    event.listen(engine, "handle_error", on_error)
    return engine


def take_write_lock(conn: Connection) -> None:
    """Inside a hot path's ``ROWS`` transaction, before a write that admin writes check and
    then write too (an opt-out): on PostgreSQL take the store's advisory write lock until the
    end of the transaction (held already by an ``IMMEDIATE`` one; taking it again is harmless).
    SQLite's ``ROWS`` transactions hold its one write lock already."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a psycopg error, else None."""
    found = getattr(error, "sqlstate", None)
    return found if isinstance(found, str) else None


def is_busy(error: BaseException) -> bool:
    """A serialization failure, deadlock or lock timeout: the transaction may be run again."""
    cause = getattr(error, "orig", None) or error
    return sqlstate(cause) in BUSY or (
        isinstance(error, StoreUnavailable) and error.message.startswith("the store was busy")
    )


def _messages(url: ServerUrl, reason: str) -> dict[str, str]:
    """What each SQLSTATE that is about the server (not the query) means, and what to do."""
    again = f"{_AGAIN}; {_NOTHING_LOST}"
    busy = {
        state: f"the store was busy ({what} on {url}) and the transaction was rolled back: {again}"
        for state, what in BUSY.items()
    }
    refused = {
        state: f"the PostgreSQL server refused lettr for {url}: {what} ({reason}); check the "
        "user and password in --db (LETTR_DB)"
        for state, what in _REFUSED.items()
    }
    full = f"the PostgreSQL server for {url} is out of disk or memory ({reason}): free space, "
    return {
        **busy,
        **refused,
        "3D000": f"the database named in {url} does not exist: create it (`createdb NAME`), "
        f"then {_AGAIN}",
        "53100": f"{full}then {again}",
        "53200": f"{full}then {again}",
        "53300": f"the PostgreSQL server for {url} has no free connection ({reason}): stop some "
        f"clients or raise max_connections, then {again}",
        "25006": f"the PostgreSQL database {url} is read-only ({reason}): point --db at a "
        f"writable server, then {again}",
    }


def translate(url: ServerUrl, error: BaseException) -> Exception | None:
    """The ``LettrError`` that a psycopg error met on the store at ``url`` means, or None when
    it is not about the server or a unique name (a bad query stays a bug)."""
    import psycopg

    if not isinstance(error, psycopg.Error):
        return None
    state = sqlstate(error)
    reason = _reason(url, error)
    if state == UNIQUE_VIOLATION:
        return ResourceAlreadyExists(f"a name or address that must be unique is taken ({reason})")
    known = _messages(url, reason).get(state or "")
    if known is not None:
        return StoreUnavailable(known)
    if isinstance(error, psycopg.OperationalError) and (state is None or state in _GONE):
        return StoreUnavailable(
            f"cannot reach the PostgreSQL server for {url}: {reason}. Check that the server "
            "runs and accepts connections at that host and port (and the URL in --db, "
            f"LETTR_DB), then {_AGAIN}; {_NOTHING_LOST}"
        )
    return None


def _reason(url: ServerUrl, error: BaseException) -> str:
    """The first line of the server's message, never with the URL's password in it."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    from sqlalchemy.engine import make_url

    try:
        password = make_url(url.driver_url).password
    except Exception:  # a URL parsed once already; never fail while describing a failure
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text.rstrip(".")
