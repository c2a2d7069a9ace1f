"""The outbox: one row per recipient of a prepared campaign, and the states it moves through.

``queued → claimed → sending → sent | failed | bounced | skipped | in_doubt`` (DESIGN "Sending
engine"). Preparing is one ``INSERT … SELECT`` that skips rows that exist, so it streams (no
recipient list is held in memory) and can be repeated after a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from lettr_cli import ledger
from lettr_cli.campaigns.audience import RECIPIENT_ORDER, recipients_clause
from lettr_cli.delivery.outbox_counts import (
    BOUNCED,
    CLAIMED,
    FAILED,
    FINAL,
    IN_DOUBT,
    QUEUED,
    SENDING,
    SENT,
    SKIPPED,
    STATES,
    counts,
    in_doubt_emails,
)
from lettr_cli.store.tables import Campaign, Contact, OutboxRow, table_of
from lettr_cli.store.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from lettr_cli.transport.smtp import Outcome

# The states and the counts live in ``outbox_counts`` (read without the ORM); named here too.
__all__ = [
    "BOUNCED", "CLAIMED", "FAILED", "FINAL", "IN_DOUBT", "QUEUED", "SENDING", "SENT", "SKIPPED",
    "STATES", "counts", "in_doubt_emails",
]  # fmt: skip


outbox = table_of(OutboxRow)
contacts = table_of(Contact)
campaigns = table_of(Campaign)


def prepare(session: Session, campaign: Campaign) -> int:
    """Add a queued row for every recipient not yet in the outbox; returns the row count."""
    now = utcnow()
    exists = (
        sa.select(outbox.c.id)
        .where(outbox.c.campaign_id == campaign.id, outbox.c.contact_id == contacts.c.id)
        .exists()
    )
    source = (
        sa.select(
            sa.literal(campaign.id, sa.String),
            contacts.c.id,
            contacts.c.email,
            contacts.c.properties,
            sa.literal(QUEUED, sa.String),
            sa.literal(0, sa.Integer),
            sa.literal(now, UTCDateTime),
        )
        .where(recipients_clause(session, campaign), ~exists)
        .order_by(*RECIPIENT_ORDER)
    )
    columns = [
        "campaign_id",
        "contact_id",
        "email",
        "merge_values",
        "status",
        "attempts",
        "updated_at",
    ]
    session.connection().execute(outbox.insert().from_select(columns, source))
    return total(session.connection(), campaign.id)


def total(conn: Connection, campaign_id: str) -> int:
    query = sa.select(sa.func.count()).where(outbox.c.campaign_id == campaign_id)
    return int(conn.execute(query).scalar_one())


@dataclass(frozen=True)
class Summary:
    """A campaign's outbox at one moment, the one summary every face and the daemon show:
    rows per state (``counts``, the campaign object's ``outbox``), queued rows waiting for a
    later attempt (``retrying``) and when the earliest queued row falls due (``retry_at``)."""

    counts: dict[str, int]
    retrying: int
    retry_at: datetime | None

    @property
    def in_doubt(self) -> int:
        return self.counts[IN_DOUBT]

    def results(self) -> dict[str, Any]:
        """What a run came to: ``daemon tick``'s figures of a campaign (CONTRACT)."""
        return {
            "sent": self.counts[SENT],
            "failed": self.counts[FAILED],
            "bounced": self.counts[BOUNCED],
            "skipped": self.counts[SKIPPED],
            "in_doubt": self.counts[IN_DOUBT],
            "retry_at": self.retry_at,
        }


def summary(conn: Connection, campaign_id: str) -> Summary:
    return Summary(
        counts(conn, campaign_id),
        waiting_retries(conn, campaign_id),
        next_retry_at(conn, campaign_id),
    )


def describe_counts(counts: Mapping[str, int], total: int) -> str:
    """The outbox in words, as `campaign show` and the demo print it: ``… sent, … queued of
    {total}``."""
    return (
        f"{counts[SENT]} sent, {counts[FAILED]} failed, {counts[BOUNCED]} bounced, "
        f"{counts[SKIPPED]} skipped, {counts[IN_DOUBT]} in doubt, {counts[QUEUED]} queued of "
        f"{total}"
    )


def waiting_retries(conn: Connection, campaign_id: str) -> int:
    """Queued rows whose next attempt is later (soft failures waiting their backoff)."""
    query = sa.select(sa.func.count()).where(
        outbox.c.campaign_id == campaign_id,
        outbox.c.status == QUEUED,
        outbox.c.next_attempt_at > utcnow(),
    )
    return int(conn.execute(query).scalar_one())


def next_retry_at(conn: Connection, campaign_id: str) -> datetime | None:
    """When the earliest queued row falls due (None: nothing is queued)."""
    now = utcnow()
    query = sa.select(
        sa.func.min(sa.func.coalesce(outbox.c.next_attempt_at, sa.literal(now, UTCDateTime)))
    ).where(outbox.c.campaign_id == campaign_id, outbox.c.status == QUEUED)
    return cast(datetime | None, conn.execute(query).scalar_one())


def last_accepted_at(conn: Connection, campaign_id: str) -> datetime | None:
    """When the relay last accepted a message of the campaign (None: it accepted none)."""
    query = sa.select(sa.func.max(outbox.c.accepted_at)).where(outbox.c.campaign_id == campaign_id)
    return cast(datetime | None, conn.execute(query).scalar_one())


def unfinished(conn: Connection, campaign_id: str) -> int:
    """Rows that are not final yet."""
    query = sa.select(sa.func.count()).where(
        outbox.c.campaign_id == campaign_id, outbox.c.status.in_((QUEUED, CLAIMED, SENDING))
    )
    return int(conn.execute(query).scalar_one())


def worker_rows(worker_id: str, epoch: int) -> Any:
    """The rows a worker claimed at ``epoch``."""
    return (outbox.c.worker_id == worker_id) & (outbox.c.worker_epoch == epoch)


def held_by_others(conn: Connection, campaign_id: str, worker_id: str) -> int:
    """Rows of the campaign that other workers hold (``claimed`` or ``sending``)."""
    query = sa.select(sa.func.count()).where(
        outbox.c.campaign_id == campaign_id,
        outbox.c.status.in_((CLAIMED, SENDING)),
        sa.or_(outbox.c.worker_id.is_(None), outbox.c.worker_id != worker_id),
    )
    return int(conn.execute(query).scalar_one())


def recover_rows(conn: Connection, whose: Any) -> int:
    """After a crash, a reap or at the end of a run, for the rows ``whose`` selects (one
    worker's, never a whole campaign's): claimed rows were never attempted and go back to the
    queue; rows marked sending were attempted with an unknown outcome and become in_doubt
    (final; they keep their claim token and worker, so that a late reply of a worker that was
    only asleep can still say what happened). Returns how many became in_doubt."""
    now = utcnow()
    conn.execute(
        outbox.update()
        .where(whose, outbox.c.status == CLAIMED)
        .values(status=QUEUED, claim_token=None, worker_id=None, worker_epoch=None, updated_at=now)
    )
    doubtful = conn.execute(
        outbox.update()
        .where(whose, outbox.c.status == SENDING)
        .values(status=IN_DOUBT, reply="the outcome is unknown: lettr stopped mid-send")
        .returning(
            outbox.c.id,
            outbox.c.campaign_id,
            outbox.c.contact_id,
            outbox.c.email,
            outbox.c.injected_at,
        )
    ).all()
    fresh = [row for row in doubtful if row.injected_at is None]
    if fresh:
        conn.execute(
            outbox.update()
            .where(outbox.c.id.in_([row.id for row in fresh]), outbox.c.injected_at.is_(None))
            .values(injected_at=now)
        )
    by_campaign: dict[str, list[Any]] = {}
    for row in fresh:
        by_campaign.setdefault(str(row.campaign_id), []).append(row)
    for campaign_id, rows in by_campaign.items():
        ledger.record_events(
            conn,
            campaign_id,
            ({"outbox_id": r.id, "contact_id": r.contact_id, "email": r.email} for r in rows),
            "injection",
            now,
        )
        ledger.add_counters(conn, campaign_id, {"injections": len(rows)})
    return len(doubtful)


def unfinished_clause(campaign_id: str) -> Any:
    """True while the campaign has rows that are not final (for the conditional move to
    ``sent``)."""
    return (
        sa.select(outbox.c.id)
        .where(outbox.c.campaign_id == campaign_id, outbox.c.status.in_((QUEUED, CLAIMED, SENDING)))
        .exists()
    )


LOST = "lost"  # the reply class stored for a connection lost before the server's 354


def class_of(result: Outcome) -> str:
    return LOST if result.connection_lost else result.reply_class.value
