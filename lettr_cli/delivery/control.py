"""The transitions that start, continue or stop a send (DESIGN "Lifecycle"): send now, approve,
reject and retry. The sending engine then drives the campaign as one of its workers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.campaigns.readiness import (
    CampaignChanged,
    Readiness,
    Seen,
    assess,
    check_relay,
    seen,
    unchanged,
)
from lettr_cli.delivery import leases, outbox, workers
from lettr_cli.errors import LettrError, ValidationError
from lettr_cli.store.tables import Campaign
from lettr_cli.store.types import utcnow
from lettr_cli.workspace import Workspace


@dataclass(frozen=True)
class Started:
    campaign: Campaign
    handle: leases.LeaseHandle | None  # None with --detach: the daemon takes it


def _refuse(readiness: Readiness) -> None:
    refusal = readiness.refusal()
    if refusal is not None:
        raise refusal


def sendable(workspace: Workspace, session: Session, ref: str) -> tuple[Campaign, int]:
    """The campaign ``ref`` names and its estimated recipients, if nothing but the relay stops
    it being sent now; else the first refusal (the others in its message)."""
    campaign = find_campaign(session, ref)
    readiness = assess(workspace, session, campaign)
    _refuse(readiness)
    return campaign, readiness.estimated_recipients


@dataclass(frozen=True)
class SendCheck:
    """A campaign that passed the checks of a send (``check_send``), as the checks saw it."""

    seen: Seen
    estimated_recipients: int


def check_send(workspace: Workspace, ref: str) -> SendCheck:
    """Run the checks of a send that need neither recipients nor the relay, in a read
    transaction: the render and the audience count stay out of the write lock."""
    with workspace.store.read() as session:
        campaign, estimated = sendable(workspace, session, ref)
        return SendCheck(seen(session, campaign), estimated)


def start_checked(
    workspace: Workspace, check: SendCheck, relay: LettrError | None, *, detach: bool
) -> Started:
    """Move a checked draft to ``preparing`` (with the relay's verdict, ``check_relay``, taken
    by the caller); without ``detach`` a worker of this process is registered and takes the
    campaign's preparing lock in the same transaction (CONTRACT
    "Sending"). The write lock is held only to see that the campaign is as the checks saw it
    (else ``CampaignChanged``, and nothing is written) and to write the change."""
    if relay is not None:
        raise relay
    with workspace.store.write() as session:
        campaign = unchanged(session, check.seen, "sent")
        lifecycle.to_sending_now(session, campaign)
        handle = None
        if not detach:
            conn = session.connection()
            me = workers.register(conn)
            held = leases.acquire_preparing(conn, campaign.id, me)
            assert held is None  # a draft has no live holder
            handle = leases.LeaseHandle(campaign.id, me.id, me.epoch)
    return Started(campaign, handle)


async def start_send(workspace: Workspace, ref: str, *, detach: bool) -> Started:
    """Check everything that needs no recipients, the relay included, then move the draft to
    ``preparing`` (``start_checked``). Safe inside any running event loop: a face awaits it,
    the CLI runs it with ``asyncio.run``; the store's work runs on a worker thread, so the loop
    is not held while the checks render or the write waits for the lock.

    A campaign that changed while it was checked is checked again, once: the refusal is then
    the one its new state gives, as if the send had come after the change.
    """
    check = await asyncio.to_thread(check_send, workspace, ref)
    relay = await check_relay(workspace)  # no transaction is open across network I/O
    try:
        return await asyncio.to_thread(start_checked, workspace, check, relay, detach=detach)
    except CampaignChanged:
        again = await asyncio.to_thread(check_send, workspace, check.seen.campaign_id)
        return await asyncio.to_thread(start_checked, workspace, again, None, detach=detach)


def approve(workspace: Workspace, ref: str) -> Campaign:
    """An operator lets a campaign in review go on sending."""
    with workspace.store.write() as session:
        campaign = find_campaign(session, ref)
        lifecycle.to_approved(session, campaign)
    return campaign


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError.field("reason", "say why with --reason")
    return reason


def rejectable(session: Session, ref: str, reason: str) -> Campaign:
    """The campaign ``ref`` names, if it is in review and ``reason`` says something."""
    _reason(reason)
    campaign = find_campaign(session, ref)
    lifecycle.require_in_review(campaign, "rejected")
    return campaign


def reject(workspace: Workspace, ref: str, reason: str) -> Campaign:
    """An operator stops a campaign in review: it fails, and nothing is sent."""
    with workspace.store.write() as session:
        campaign = rejectable(session, ref, reason)
        lifecycle.to_rejected(session, campaign, _reason(reason))
    return campaign


def _retried_rows(in_doubt: bool) -> sa.ColumnElement[bool]:
    t = outbox.outbox
    if in_doubt:
        return t.c.status == outbox.IN_DOUBT
    return (t.c.status == outbox.FAILED) & t.c.reply_class.in_(("soft", outbox.LOST))


def retryable(session: Session, ref: str, *, in_doubt: bool, failed_rows: bool) -> Campaign:
    """The campaign ``ref`` names, if it is sent and has rows of the kind chosen to send again."""
    if in_doubt == failed_rows:
        raise ValidationError.field("retry", "choose one of --in-doubt or --failed-rows")
    campaign = find_campaign(session, ref)
    lifecycle.require_resendable(campaign)
    t = outbox.outbox
    found = session.connection().execute(
        sa.select(t.c.id).where(t.c.campaign_id == campaign.id, _retried_rows(in_doubt)).limit(1)
    )
    if found.first() is None:
        raise ValidationError.field("retry", f"campaign '{campaign.name}' has no {_kind(in_doubt)}")
    return campaign


def _kind(in_doubt: bool) -> str:
    return "in-doubt rows" if in_doubt else "rows that failed after soft replies"


@dataclass(frozen=True)
class RetryCheck:
    """A sent campaign that had rows of the kind chosen to send again, as ``check_retry`` saw
    it."""

    campaign_id: str
    name: str
    in_doubt: bool


def check_retry(workspace: Workspace, ref: str, *, in_doubt: bool, failed_rows: bool) -> RetryCheck:
    """The checks of a retry (``retryable``), in a read transaction."""
    with workspace.store.read() as session:
        campaign = retryable(session, ref, in_doubt=in_doubt, failed_rows=failed_rows)
        return RetryCheck(campaign.id, campaign.name, in_doubt)


def retry_checked(workspace: Workspace, check: RetryCheck) -> tuple[Campaign, int]:
    """Requeue the rows ``check`` is about; the campaign goes back to ``sending``. Fenced in SQL
    (DESIGN "Fencing"), so a check that went stale (another retry came first, the rows moved
    on) changes nothing: the campaign moves only if it is still ``sent`` (a conditional update,
    its rowcount checked), and only rows still in the state chosen are requeued (RETURNING
    tells which); with none left, the transaction is rolled back and the campaign stays sent.
    The campaign is refused with ``CampaignChanged``, or ``validation_error`` when no row is
    left."""
    t = outbox.outbox
    with workspace.store.write() as session:
        conn = session.connection()
        if not lifecycle.sent_to_sending(conn, check.campaign_id):
            raise CampaignChanged(
                f"campaign '{check.name}' changed while it was being checked (it is no longer "
                "sent); nothing was requeued"
            )
        requeued = conn.execute(
            t.update()
            .where(t.c.campaign_id == check.campaign_id, _retried_rows(check.in_doubt))
            .values(
                status=outbox.QUEUED,
                claim_token=None,
                attempts=0,
                next_attempt_at=None,
                updated_at=utcnow(),
            )
            .returning(t.c.id)
        ).all()
        if not requeued:
            raise ValidationError.field(
                "retry",
                f"campaign '{check.name}' has no {_kind(check.in_doubt)} left; nothing was "
                "requeued",
            )
        campaign = session.get(Campaign, check.campaign_id)
        assert campaign is not None  # it was just moved
    return campaign, len(requeued)


def retry(
    workspace: Workspace, ref: str, *, in_doubt: bool, failed_rows: bool
) -> tuple[Campaign, int]:
    """Requeue a sent campaign's in-doubt rows, or the rows that failed after soft replies or
    lost connections (never 5xx ones); the campaign goes back to ``sending``."""
    check = check_retry(workspace, ref, in_doubt=in_doubt, failed_rows=failed_rows)
    return retry_checked(workspace, check)


def take_lease(workspace: Workspace, campaign_id: str) -> leases.LeaseHandle | leases.Holder:
    """Join a campaign as a new worker of this process, after reaping the workers that died
    (their claimed rows go back to the queue, the rows they were sending become ``in_doubt``;
    nobody else's rows are touched). A campaign still ``preparing`` is joined only with its
    preparing lock; while another live worker holds it, that worker is returned (skipped)."""

    def join(conn: Connection) -> leases.LeaseHandle | leases.Holder:
        workers.reap(conn, leases.timeout_seconds(workspace.environ))
        c = outbox.campaigns
        status = conn.execute(sa.select(c.c.status).where(c.c.id == campaign_id)).scalar()
        me = workers.register(conn)
        if status == lifecycle.PREPARING:
            held = leases.acquire_preparing(conn, campaign_id, me)
            if held is not None:
                workers.deregister(conn, me)
                return held
        return leases.LeaseHandle(campaign_id, me.id, me.epoch)

    # Under the store's write lock (joining is rare); a deadlock with a worker it reaps is
    # rolled back and run again.
    return workspace.store.transact(join, "IMMEDIATE")


def drivable(workspace: Workspace) -> list[tuple[str, str]]:
    """Campaigns a daemon should drive now (preparing or sending), oldest change first."""
    c = outbox.campaigns
    with workspace.store.connect() as conn, conn.begin():
        rows = conn.execute(
            sa.select(c.c.id, c.c.name)
            .where(c.c.status.in_((lifecycle.PREPARING, lifecycle.SENDING)))
            .order_by(c.c.updated_at, c.c.id)
        ).all()
    return [(str(row.id), str(row.name)) for row in rows]
