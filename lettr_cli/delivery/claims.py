"""Claims: the due rows of a campaign a worker takes, in batches, to build and send (DESIGN
"Sending engine"). A claim marks the rows ``claimed`` with a token of its own, the worker and
its epoch; every later update of those rows is fenced by them (``delivery.fencing``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.delivery import fencing, outbox
from lettr_cli.delivery.audience_check import NO_LONGER_IN_AUDIENCE, left_audience
from lettr_cli.delivery.workers import WorkerId
from lettr_cli.store.types import utcnow


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
    # The class of the row's last attempt: "soft" when this campaign may have counted a soft
    # failure against the contact already (it counts at most once per campaign).
    reply_class: str | None = None


def claim_rows(
    conn: Connection, campaign_id: str, worker: WorkerId, token: str, limit: int
) -> tuple[list[Claimed], int]:
    """Claim up to ``limit`` due rows of the campaign for ``worker`` with ``token``; rows of
    contacts no longer subscribed, or no longer in the audience of a campaign that targets
    topics, are skipped. Returns the rows claimed and how many were skipped."""
    now = utcnow()
    t, c = outbox.outbox, outbox.contacts
    # The contact's status comes along by key (a deleted contact gives None); filtering it
    # in SQL would make SQLite scan every subscribed contact through the status index.
    rows = conn.execute(
        sa.select(
            t.c.id,
            t.c.contact_id,
            t.c.email,
            t.c.merge_values,
            t.c.attempts,
            t.c.injected_at,
            t.c.reply_class,
            c.c.status.label("contact_status"),
        )
        .select_from(t.outerjoin(c, c.c.id == t.c.contact_id))
        .where(
            t.c.campaign_id == campaign_id,
            t.c.status == outbox.QUEUED,
            sa.or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now),
        )
        .order_by(t.c.id)
        .limit(limit)
        # PostgreSQL: rows another worker is claiming right now are passed over, not
        # waited for (SQLite renders nothing: its writers take turns).
        .with_for_update(skip_locked=True, of=t)
    ).all()
    if not rows:
        return [], 0
    gone = [row.id for row in rows if row.contact_status != "subscribed"]
    kept = [row for row in rows if row.contact_status == "subscribed"]
    skipped = _skip(conn, gone, fencing.NO_LONGER_SUBSCRIBED, now)
    # A campaign that targets topics also skips contacts who left them since preparing.
    left = set(left_audience(conn, campaign_id, [(r.id, r.contact_id) for r in kept]))
    skipped += _skip(conn, sorted(left), NO_LONGER_IN_AUDIENCE, now)
    kept = [row for row in kept if row.id not in left]
    if kept:
        # Only the rows still queued when the update runs are this claim's (another
        # process may have claimed some since they were read).
        claimed = conn.execute(
            t.update()
            .where(t.c.id.in_([row.id for row in kept]), t.c.status == outbox.QUEUED)
            .values(
                status=outbox.CLAIMED,
                claim_token=token,
                worker_id=worker.id,
                worker_epoch=worker.epoch,
                updated_at=now,
            )
            .returning(t.c.id)
        )
        ours = {int(row_id) for row_id in claimed.scalars()}
        kept = [row for row in kept if row.id in ours]
    return [
        Claimed(
            row.id,
            token,
            row.contact_id,
            row.email,
            dict(row.merge_values or {}),
            row.attempts,
            row.injected_at is not None,
            row.reply_class,
        )
        for row in kept
    ], skipped


def _skip(conn: Connection, ids: list[int], reply: str, now: datetime) -> int:
    """Queued rows that will not be sent: ``skipped``, with why."""
    if not ids:
        return 0
    t = outbox.outbox
    skipped = conn.execute(
        t.update()
        .where(t.c.id.in_(ids), t.c.status == outbox.QUEUED)
        .values(status=outbox.SKIPPED, claim_token=None, reply=reply, updated_at=now)
        .returning(t.c.id)
    )
    return len(skipped.all())


def by_token(items: Sequence[Claimed]) -> dict[str, list[int]]:
    """Row ids per claim token (a group of marks may span claims)."""
    rows: dict[str, list[int]] = {}
    for item in items:
        rows.setdefault(item.token, []).append(item.row_id)
    return rows
