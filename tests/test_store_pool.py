"""A thread that waits too long for one of the process's pooled connections gets CONTRACT's
``store_unavailable`` (nothing half-written), not a SQLAlchemy traceback; the wait is
``store.busy_timeout``, and once a connection is free again everything works as before."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa

from lettr_cli.errors import StoreUnavailable
from lettr_cli.store.engine import Store
from tests.conftest import engine_location


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    found = Store(engine_location(request, tmp_path / "lettr.db"), busy_timeout=1)
    yield found
    found.engine.dispose()


def hold_every_connection(store: Store, stack: ExitStack) -> int:
    """Check out connections until the pool has none left; how many it gave."""
    held = 0
    while True:
        try:
            conn = stack.enter_context(store.connect())
            conn.execute(sa.text("SELECT 1"))
        except StoreUnavailable:
            return held
        held += 1
        assert held < 100, "the pool never ran out"


def test_an_exhausted_pool_is_store_unavailable_and_passes(store: Store) -> None:
    with store.connect() as conn, conn.begin():
        conn.execute(sa.text("CREATE TABLE kept (n INTEGER)"))
        conn.execute(sa.text("INSERT INTO kept VALUES (1)"))
    with ExitStack() as stack:
        held = hold_every_connection(store, stack)
        assert held >= 8  # PostgreSQL's 4 + 4, SQLAlchemy's 5 + 10 on SQLite
        began = time.monotonic()
        with pytest.raises(StoreUnavailable) as raised, store.write() as session:
            session.execute(sa.text("INSERT INTO kept VALUES (2)"))
        waited = time.monotonic() - began
        with pytest.raises(StoreUnavailable), store.read() as session:
            session.execute(sa.text("SELECT n FROM kept"))
    assert raised.value.code == "store_unavailable"
    message = raised.value.message
    assert "stayed in use for 1 s (store.busy_timeout)" in message
    assert "nothing was half-written" in message
    assert 0.9 <= waited < 10
    with store.read() as session:  # connections back: the write that waited wrote nothing
        assert [n for (n,) in session.execute(sa.text("SELECT n FROM kept"))] == [1]
