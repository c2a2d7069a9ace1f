"""The single writer of a campaign run: claims, ``sending`` marks and results, grouped.

Every mark must be committed before its DATA starts (DESIGN's invariant). Connections ask for
marks and hand in results; whatever has piled up while the last commit ran goes into the next
one, so the result of message k and the mark of message k+1 share a commit. Every row update
is fenced by its claim token, and marks also by the lease (holder and epoch).

The SQL runs on one thread of its own, so the event loop keeps talking SMTP meanwhile.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.audience.activity import status_event
from lettr_cli.delivery import leases, outbox
from lettr_cli.delivery.outcomes import SOFT_FAILURES_TO_BOUNCE, RetryPolicy, Verdict, judge
from lettr_cli.delivery.smtp import Outcome
from lettr_cli.store.engine import Store
from lettr_cli.store.tables import Activity, SoftFailure, table_of
from lettr_cli.store.types import utcnow

T = TypeVar("T")
soft_failures = table_of(SoftFailure)
activity = table_of(Activity)


@dataclass(frozen=True)
class Claimed:
    """A row this run holds: everything needed to build and account for its message."""

    row_id: int
    token: str
    contact_id: str
    email: str
    merge_values: dict[str, Any]
    attempts: int  # before this attempt
    injected: bool


@dataclass
class Tally:
    """What the run's commits did, for progress and the run's summary."""

    sent: int = 0
    failed: int = 0
    bounced: int = 0
    skipped: int = 0
    in_doubt: int = 0
    retrying: int = 0


@dataclass
class _Batch:
    marks: list[tuple[Claimed, asyncio.Future[bool]]] = field(default_factory=list)
    results: list[tuple[Claimed, Outcome]] = field(default_factory=list)
    releases: list[Claimed] = field(default_factory=list)
    failures: list[tuple[Claimed, str]] = field(default_factory=list)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.marks or self.results or self.releases or self.failures or self.waiters)


class LeaseLost(Exception):
    """Another process took the campaign's lease over."""


class Writer:
    def __init__(self, store: Store, handle: leases.LeaseHandle, policy: RetryPolicy) -> None:
        self.store = store
        self.handle = handle
        self.campaign_id = handle.campaign_id
        self.policy = policy
        self.tally = Tally()
        self.lease_lost = False
        self.on_commit: Callable[[], None] = lambda: None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lettr-writer")
        self._pending = _Batch()
        self._running: asyncio.Task[None] | None = None

    # -- plain calls on the writer's thread --------------------------------------------------
    async def call(self, work: Callable[[Connection], T], *, write: bool = True) -> T:
        """Run ``work`` in one transaction on the writer's thread."""

        def run() -> T:
            with self.store.connect("IMMEDIATE" if write else "DEFERRED") as conn, conn.begin():
                return work(conn)

        return await asyncio.get_running_loop().run_in_executor(self._thread, run)

    def close(self) -> None:
        self._thread.shutdown(wait=True)

    # -- claims ------------------------------------------------------------------------------
    async def claim(self, limit: int) -> list[Claimed]:
        """Claim up to ``limit`` due rows; rows of contacts no longer subscribed are skipped."""
        token = uuid.uuid4().hex
        return await self.call(lambda conn: self._claim(conn, token, limit))

    def _claim(self, conn: Connection, token: str, limit: int) -> list[Claimed]:
        if not leases.holds(conn, self.handle):
            self.lease_lost = True
            return []
        now = utcnow()
        t = outbox.outbox
        rows = conn.execute(
            sa.select(
                t.c.id, t.c.contact_id, t.c.email, t.c.merge_values, t.c.attempts, t.c.injected_at
            )
            .where(
                t.c.campaign_id == self.campaign_id,
                t.c.status == outbox.QUEUED,
                sa.or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now),
            )
            .order_by(t.c.id)
            .limit(limit)
        ).all()
        if not rows:
            return []
        live = self._subscribed(conn, [row.contact_id for row in rows])
        gone = [row.id for row in rows if row.contact_id not in live]
        kept = [row for row in rows if row.contact_id in live]
        if gone:
            self._skip(conn, gone, now)
        if kept:
            conn.execute(
                t.update()
                .where(t.c.id.in_([row.id for row in kept]), t.c.status == outbox.QUEUED)
                .values(status=outbox.CLAIMED, claim_token=token, updated_at=now)
            )
        return [
            Claimed(
                row.id,
                token,
                row.contact_id,
                row.email,
                dict(row.merge_values or {}),
                row.attempts,
                row.injected_at is not None,
            )
            for row in kept
        ]

    @staticmethod
    def _subscribed(conn: Connection, contact_ids: Sequence[str]) -> set[str]:
        c = outbox.contacts
        query = sa.select(c.c.id).where(c.c.id.in_(set(contact_ids)), c.c.status == "subscribed")
        return {str(contact_id) for contact_id in conn.execute(query).scalars()}

    def _skip(self, conn: Connection, row_ids: Sequence[int], now: datetime) -> None:
        t = outbox.outbox
        conn.execute(
            t.update()
            .where(t.c.id.in_(row_ids))
            .values(
                status=outbox.SKIPPED,
                claim_token=None,
                reply="the contact is no longer subscribed",
                updated_at=now,
            )
        )
        self.tally.skipped += len(row_ids)

    # -- grouped marks and results -----------------------------------------------------------
    async def mark(self, item: Claimed) -> bool:
        """Mark ``item`` sending and wait for the commit; False: do not send it (fenced)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.marks.append((item, future))
        self._kick()
        return await future

    def record(self, item: Claimed, result: Outcome) -> None:
        """Hand in a reply; it is committed with the next group (``flush`` waits for it)."""
        self._pending.results.append((item, result))
        self._kick()

    def release(self, items: Sequence[Claimed]) -> None:
        """Rows claimed but not sent go back to the queue."""
        self._pending.releases.extend(items)
        self._kick()

    def fail(self, item: Claimed, reason: str) -> None:
        """A claimed row whose message cannot be built fails without an attempt."""
        self._pending.failures.append((item, reason))
        self._kick()

    async def flush(self) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.waiters.append(future)
        self._kick()
        await future

    def _kick(self) -> None:
        if self._running is None or self._running.done():
            self._running = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, _Batch()
            try:
                granted = await self.call(lambda conn, b=batch: self._apply(conn, b))  # type: ignore[misc]
            except BaseException as exc:
                for _, future in batch.marks:
                    if not future.done():
                        future.set_exception(exc)
                for waiter in batch.waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
                raise
            for (_, future), ok in zip(batch.marks, granted, strict=True):
                if not future.done():
                    future.set_result(ok)
            for waiter in batch.waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self.on_commit()

    def _apply(self, conn: Connection, batch: _Batch) -> list[bool]:
        now = utcnow()
        effects = _Effects()
        for item, result in batch.results:
            self._result(conn, item, result, now, effects)
        if batch.releases:
            self._release(conn, batch.releases, now)
        for item, reason in batch.failures:
            self._failure(conn, item, reason, now)
        granted = self._marks(conn, [item for item, _ in batch.marks], now)
        effects.write(conn, self.campaign_id, now)
        return granted

    def _marks(self, conn: Connection, items: list[Claimed], now: datetime) -> list[bool]:
        if not items:
            return []
        if not leases.holds(conn, self.handle):
            self.lease_lost = True
            return [False] * len(items)
        live = self._subscribed(conn, [item.contact_id for item in items])
        gone = [item.row_id for item in items if item.contact_id not in live]
        if gone:
            self._skip(conn, gone, now)
        t = outbox.outbox
        granted = []
        for item in items:
            if item.contact_id not in live:
                granted.append(False)
                continue
            done = conn.execute(
                t.update()
                .where(
                    t.c.id == item.row_id,
                    t.c.claim_token == item.token,
                    t.c.status == outbox.CLAIMED,
                )
                .values(status=outbox.SENDING, attempts=item.attempts + 1, updated_at=now)
            )
            granted.append(done.rowcount == 1)
        return granted

    def _release(self, conn: Connection, items: Sequence[Claimed], now: datetime) -> None:
        t = outbox.outbox
        for item in items:
            conn.execute(
                t.update()
                .where(
                    t.c.id == item.row_id,
                    t.c.claim_token == item.token,
                    t.c.status == outbox.CLAIMED,
                )
                .values(status=outbox.QUEUED, claim_token=None, updated_at=now)
            )

    def _failure(self, conn: Connection, item: Claimed, reason: str, now: datetime) -> None:
        t = outbox.outbox
        done = conn.execute(
            t.update()
            .where(
                t.c.id == item.row_id,
                t.c.claim_token == item.token,
                t.c.status == outbox.CLAIMED,
            )
            .values(status=outbox.FAILED, reply=reason[:1000], updated_at=now)
        )
        self.tally.failed += done.rowcount

    def _result(
        self, conn: Connection, item: Claimed, result: Outcome, now: datetime, effects: _Effects
    ) -> None:
        attempts = item.attempts + 1
        verdict = judge(result, attempts, self.policy, now)
        t = outbox.outbox
        values: dict[str, Any] = {
            "status": verdict.status,
            "reply": result.reply[:1000],
            "reply_class": result.reply_class.value,
            "updated_at": now,
        }
        if verdict.status == outbox.QUEUED:
            values["claim_token"] = None
            values["next_attempt_at"] = verdict.next_attempt_at
            if not verdict.attempted:
                values["attempts"] = item.attempts
                values["reply_class"] = None
        if verdict.delivered:
            values["accepted_at"] = now
        injects = verdict.attempted and not item.injected
        if injects:
            values["injected_at"] = now
        mine = (t.c.id == item.row_id) & (t.c.claim_token == item.token)
        done = conn.execute(t.update().where(mine, t.c.status == outbox.SENDING).values(**values))
        if done.rowcount != 1:
            # A takeover while this holder slept made the row in_doubt and counted its
            # injection. A final reply still tells what happened to it; one that asks for a
            # retry leaves it in doubt (the new holder never sends it, and may have finished).
            if verdict.status not in (outbox.SENT, outbox.FAILED, outbox.BOUNCED):
                return
            values.pop("injected_at", None)
            injects = False
            done = conn.execute(
                t.update().where(mine, t.c.status == outbox.IN_DOUBT).values(**values)
            )
            if done.rowcount != 1:
                return
        effects.add(item, verdict, result, injects)
        tally = self.tally
        if verdict.status == outbox.SENT:
            tally.sent += 1
        elif verdict.status == outbox.FAILED:
            tally.failed += 1
        elif verdict.status == outbox.BOUNCED:
            tally.bounced += 1
        elif verdict.status == outbox.IN_DOUBT:
            tally.in_doubt += 1
        elif verdict.attempted:
            tally.retrying += 1


@dataclass
class _Effects:
    """Counters, events and contact changes of one commit, written together."""

    counters: dict[str, int] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bounce_contacts: list[str] = field(default_factory=list)
    soft_contacts: list[str] = field(default_factory=list)
    reset_contacts: list[str] = field(default_factory=list)

    def count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def add(self, item: Claimed, verdict: Verdict, result: Outcome, injects: bool) -> None:
        row = {"outbox_id": item.row_id, "contact_id": item.contact_id, "email": item.email}
        if injects:
            self.count("injections")
            self.events.setdefault("injection", []).append(row)
        if verdict.delivered:
            self.count("deliveries")
            self.count("sent_count")
            self.events.setdefault("delivery", []).append(row)
            self.reset_contacts.append(item.contact_id)
        if verdict.event == "bounce":
            self.count("bounces")
            bounce = {**row, "bounce_class": verdict.bounce_class, "reason": result.reply[:1000]}
            self.events.setdefault("bounce", []).append(bounce)
        if verdict.bounces_contact:
            self.bounce_contacts.append(item.contact_id)
        if verdict.soft_for_contact:
            self.soft_contacts.append(item.contact_id)

    def write(self, conn: Connection, campaign_id: str, now: datetime) -> None:
        for event_type, rows in self.events.items():
            outbox.record_events(conn, campaign_id, rows, event_type, now)
        outbox.add_counters(conn, campaign_id, self.counters)
        if self.reset_contacts:
            conn.execute(
                soft_failures.delete().where(soft_failures.c.contact_id.in_(self.reset_contacts))
            )
        bounced = list(self.bounce_contacts)
        for contact_id in self.soft_contacts:
            if _count_soft_failure(conn, contact_id, campaign_id) >= SOFT_FAILURES_TO_BOUNCE:
                bounced.append(contact_id)
        for contact_id in dict.fromkeys(bounced):
            _bounce_contact(conn, contact_id, now)


def _count_soft_failure(conn: Connection, contact_id: str, campaign_id: str) -> int:
    """One more soft failure for the contact, at most one per campaign; returns the count."""
    row = conn.execute(
        sa.select(soft_failures).where(soft_failures.c.contact_id == contact_id)
    ).first()
    if row is None:
        exists = conn.execute(
            sa.select(outbox.contacts.c.id).where(outbox.contacts.c.id == contact_id)
        ).first()
        if exists is None:
            return 0
        conn.execute(
            soft_failures.insert().values(
                contact_id=contact_id, failures=1, last_campaign_id=campaign_id
            )
        )
        return 1
    if row.last_campaign_id == campaign_id:
        return int(row.failures)
    conn.execute(
        soft_failures.update()
        .where(soft_failures.c.contact_id == contact_id)
        .values(failures=row.failures + 1, last_campaign_id=campaign_id)
    )
    return int(row.failures) + 1


def _bounce_contact(conn: Connection, contact_id: str, now: datetime) -> None:
    c = outbox.contacts
    old = conn.execute(sa.select(c.c.status).where(c.c.id == contact_id)).scalar()
    if old is None or old in ("bounced", "complained", "unsubscribed"):
        return
    conn.execute(c.update().where(c.c.id == contact_id).values(status="bounced", updated_at=now))
    change = status_event(str(old), "bounced")
    if change is not None:
        conn.execute(
            activity.insert().values(
                contact_id=contact_id, kind=change[0], detail=change[1], at=now
            )
        )
