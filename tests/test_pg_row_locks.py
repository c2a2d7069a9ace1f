"""The hot paths on PostgreSQL take row locks, not the store's write lock, and a busy store is
retried (issue 17, "Admin writes …"): a send's claims and marks, an open and a click commit
while an admin transaction holds the advisory lock; two workers finishing a campaign's last
rows at once leave it `sent`; a deadlock and a lock timeout are run again, and past
``store.busy_timeout`` they are CONTRACT's ``store_unavailable`` with nothing half-written.

Only on PostgreSQL: SQLite has one writer, and every transaction there takes turns as before."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli import ledger
from lettr_cli.delivery import leases, outbox, workers
from lettr_cli.delivery.control import take_lease
from lettr_cli.delivery.engine import CampaignRun
from lettr_cli.delivery.outcomes import RetryPolicy
from lettr_cli.delivery.preparing import prepare_campaign
from lettr_cli.delivery.writer import Writer
from lettr_cli.errors import StoreUnavailable
from lettr_cli.store import retrying
from lettr_cli.store.server import WRITE_LOCK_KEY
from lettr_cli.store.types import utcnow
from lettr_cli.tracking import recording
from lettr_cli.workspace import Workspace
from tests.sending_helpers import make_campaign
from tests.store_access import until_one_waits_for_a_lock
from tests.test_workers import claim_and_mark

RECIPIENTS = 4


@dataclass
class Sending:
    workspace: Workspace
    campaign_id: str
    url: str

    def other(self, **settings: str) -> psycopg.Connection[Any]:
        """Another client of the database (a transaction is open after its first statement)."""
        conn = psycopg.connect(self.url)
        for name, value in settings.items():
            conn.execute(f"SET {name} = '{value}'")
        return conn

    def writer(self) -> Writer:
        taken = take_lease(self.workspace, self.campaign_id)
        assert isinstance(taken, leases.LeaseHandle)
        return Writer(
            self.workspace.store, taken, RetryPolicy.from_settings(self.workspace.settings())
        )

    def status(self) -> str:
        with self.workspace.store.connect() as conn, conn.begin():
            c = outbox.campaigns
            return str(
                conn.execute(sa.select(c.c.status).where(c.c.id == self.campaign_id)).one()[0]
            )

    def counter(self, name: str) -> int:
        with self.workspace.store.connect() as conn, conn.begin():
            c = outbox.campaigns
            return int(
                conn.execute(sa.select(c.c[name]).where(c.c.id == self.campaign_id)).one()[0]
            )

    def row_ids(self) -> list[int]:
        with self.workspace.store.connect() as conn, conn.begin():
            t = outbox.outbox
            query = sa.select(t.c.id).where(t.c.campaign_id == self.campaign_id).order_by(t.c.id)
            return [int(row_id) for row_id in conn.execute(query).scalars()]


@pytest.fixture
def sending(
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    lettr: Any,
    verified_domain: Any,
    tmp_path: Path,
    isolated_home: Path,
) -> Iterator[Sending]:
    """A campaign prepared and sending on PostgreSQL, no worker on it."""
    monkeypatch.setenv("LETTR_DB", pg_url)
    verified_domain()
    campaign_id = make_campaign(
        lettr, tmp_path, [f"user{n}@example.org" for n in range(RECIPIENTS)]
    )
    assert lettr("campaign", "send", "Sale", "--detach", "--yes").exit_code == 0
    from lettr_cli.store.location import parse_location

    workspace = Workspace.open(parse_location(pg_url), home=isolated_home, environ={})
    handle = take_lease(workspace, campaign_id)
    assert isinstance(handle, leases.LeaseHandle)
    with workspace.store.connect("IMMEDIATE") as conn, conn.begin():
        assert prepare_campaign(workspace, conn, handle)[0] == "sending"
        workers.deregister(conn, handle.worker)
    try:
        yield Sending(workspace, campaign_id, pg_url)
    finally:
        workspace.close()


def test_hot_paths_commit_while_an_admin_write_holds_the_store_lock(sending: Sending) -> None:
    store = sending.workspace.store
    writer = sending.writer()  # joining is an admin write: before the lock is taken
    store.tune(busy_timeout=1.0, durability="normal")
    admin = sending.other()
    admin.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
    try:
        items = claim_and_mark(writer, 2, 2)  # claims, a heartbeat and marks: committed
        row = recording.find_row(store, items[0].row_id)
        assert row is not None
        recording.record_open(store, row, "Mozilla/5.0 (X11)", False, utcnow())
        recording.record_click(store, row, "https://example.com/", "Mozilla/5.0 (X11)", utcnow())
        # An admin write still waits for the lock, and gives up after store.busy_timeout.
        with pytest.raises(StoreUnavailable, match=r"^the store was busy \(a lock timeout"):
            store.transact(
                lambda conn: ledger.add_counters(conn, sending.campaign_id, {"opens": 9}),
                "IMMEDIATE",
            )
        # An unsubscribe's opt-out is checked-then-written by admin writes too: it waits.
        with pytest.raises(recording.StoreBusy):
            recording.unsubscribe(store, row, recording.LIST_UNSUBSCRIBE, "", utcnow())
    finally:
        admin.rollback()
        admin.close()
        writer.close()
    assert sending.counter("opens") == 1
    assert sending.counter("clicks") == 1
    assert sending.counter("unsubscribes") == 0  # the refused unsubscribe left nothing
    with store.connect() as conn, conn.begin():
        marked = conn.execute(
            sa.select(sa.func.count()).where(outbox.outbox.c.status == outbox.SENDING)
        ).scalar_one()
        contact = conn.execute(
            sa.select(outbox.contacts.c.status).where(outbox.contacts.c.id == row.contact_id)
        ).scalar_one()
    assert marked == 2
    assert contact == "subscribed"
    # Once the admin is done, the unsubscribe goes through.
    assert recording.unsubscribe(store, row, recording.LIST_UNSUBSCRIBE, "", utcnow())


def test_two_workers_finishing_the_last_rows_at_once_leave_the_campaign_sent(
    sending: Sending,
) -> None:
    """Each worker's last rows become final (in doubt) in the transaction that checks whether
    any row is unfinished. Worker A's check runs while B's rows are still `sending`; B's check
    must wait for A's commit and then see A's rows final, or the campaign stays `sending`."""
    a, b = sending.writer(), sending.writer()
    try:
        claim_and_mark(a, RECIPIENTS // 2, RECIPIENTS // 2)
        claim_and_mark(b, RECIPIENTS // 2, RECIPIENTS // 2)
    finally:
        a.close()
        b.close()
    # Rows tried before (injected already): putting them in doubt adds to no counter, so
    # nothing but the finish itself locks the campaign row.
    with sending.workspace.store.connect("ROWS") as conn, conn.begin():
        conn.execute(outbox.outbox.update().values(injected_at=utcnow()))
    runs = [CampaignRun(sending.workspace, writer.handle) for writer in (a, b)]
    store = sending.workspace.store
    finished: dict[str, str] = {}
    b_done = threading.Event()

    def finish_b() -> None:
        try:
            finished["b"] = store.transact(runs[1]._finish)
        finally:
            b_done.set()

    with store.connect("ROWS") as first, first.begin():
        finished["a"] = runs[0]._finish(first)
        later = threading.Thread(target=finish_b)
        later.start()
        until_one_waits_for_a_lock(sending.url, b_done)
    later.join(timeout=60)
    for run in runs:
        run.writer.close()
    assert finished == {"a": "sending", "b": "sent"}
    assert sending.status() == "sent"


def _attempts(work: Callable[[Connection], Any]) -> tuple[list[int], Callable[[Connection], Any]]:
    seen: list[int] = []

    def counted(conn: Connection) -> Any:
        seen.append(len(seen) + 1)
        return work(conn)

    return seen, counted


def test_a_lock_timeout_is_run_again_and_then_is_store_unavailable(sending: Sending) -> None:
    store = sending.workspace.store
    store.tune(busy_timeout=2.0, durability="normal")
    first = sending.row_ids()[0]
    t = outbox.outbox

    def touch(conn: Connection) -> None:
        ledger.add_counters(conn, sending.campaign_id, {"opens": 1})  # written, then undone
        conn.execute(t.update().where(t.c.id == first).values(reply="touched"))

    holder = sending.other()
    holder.execute("SELECT id FROM outbox WHERE id = %s FOR UPDATE", (first,))
    seen, counted = _attempts(touch)
    with pytest.raises(StoreUnavailable) as refused:
        store.transact(counted)
    holder.rollback()
    assert len(seen) == retrying.ATTEMPTS
    assert refused.value.message.startswith("the store was busy (a lock timeout on postgresql")
    assert "nothing was half-written" in refused.value.message
    assert sending.counter("opens") == 0

    # Released during the second attempt: that one commits, once.
    store.tune(busy_timeout=8.0, durability="normal")
    holder.execute("SELECT id FROM outbox WHERE id = %s FOR UPDATE", (first,))
    second_attempt = threading.Event()
    tries: list[int] = []

    def release_when_asked(conn: Connection) -> None:
        tries.append(len(tries) + 1)
        if len(tries) == 2:
            second_attempt.set()
        touch(conn)

    thread = threading.Thread(target=lambda: store.transact(release_when_asked))
    thread.start()
    assert second_attempt.wait(timeout=30)
    holder.rollback()
    holder.close()
    thread.join(timeout=30)
    assert tries == [1, 2]
    assert sending.counter("opens") == 1


def test_a_deadlock_is_rolled_back_and_run_again(sending: Sending) -> None:
    """The store's transaction locks row y then row x; another client holds x and then asks
    for y. PostgreSQL rolls the store's transaction back (the other client's deadlock_timeout
    is longer, so that it is the one to wait); run again, it commits once."""
    store = sending.workspace.store
    store.tune(busy_timeout=30.0, durability="normal")
    x, y = sending.row_ids()[:2]
    t = outbox.outbox
    has_y = threading.Event()

    def both(conn: Connection) -> None:
        conn.execute(t.update().where(t.c.id == y).values(attempts=t.c.attempts + 1))
        has_y.set()
        conn.execute(t.update().where(t.c.id == x).values(attempts=t.c.attempts + 1))

    other = sending.other(deadlock_timeout="60s")
    other.execute("UPDATE outbox SET reply = 'other' WHERE id = %s", (x,))
    seen, counted = _attempts(both)
    thread = threading.Thread(target=lambda: store.transact(counted))
    thread.start()
    assert has_y.wait(timeout=30)
    other.execute("UPDATE outbox SET reply = 'other' WHERE id = %s", (y,))  # the deadlock
    other.commit()
    other.close()
    thread.join(timeout=60)
    assert len(seen) == 2
    with store.connect() as conn, conn.begin():
        attempts = dict(
            conn.execute(sa.select(t.c.id, t.c.attempts).where(t.c.id.in_([x, y]))).all()
        )
    assert attempts == {x: 1, y: 1}


def test_a_mark_waits_for_an_unsubscribe_in_progress_and_then_skips_the_row(
    sending: Sending,
) -> None:
    """An unsubscribe not yet committed when a mark checks the contact: the mark waits for it
    and skips the row (PostgreSQL's FOR SHARE on the contact), instead of reading the old
    `subscribed` and sending after the unsubscribe was answered."""
    store = sending.workspace.store
    writer = sending.writer()
    [item] = asyncio.run(writer.claim(1))
    row = recording.find_row(store, item.row_id)
    assert row is not None
    marked: dict[str, bool] = {}
    mark_done = threading.Event()

    def mark() -> None:
        try:
            marked["ok"] = asyncio.run(writer.mark(item))
        finally:
            mark_done.set()

    try:
        with store.connect("ROWS") as conn, conn.begin():
            assert recording.unsubscribe_in(conn, row, recording.LIST_UNSUBSCRIBE, "", utcnow())
            thread = threading.Thread(target=mark)
            thread.start()
            until_one_waits_for_a_lock(sending.url, mark_done)
        thread.join(timeout=60)
    finally:
        writer.close()
    assert marked == {"ok": False}
    with store.connect() as conn, conn.begin():
        t = outbox.outbox
        found = conn.execute(sa.select(t.c.status, t.c.attempts).where(t.c.id == item.row_id))
        assert found.one() == (outbox.SKIPPED, 0)
