"""Preparing a campaign (its recipients resolved once into the outbox) and the message factory
its run sends with. Both run inside the run's own transactions, fenced by its lease."""

from __future__ import annotations

from sqlalchemy.engine import Connection
from sqlmodel import Session

from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.rendering import composer_for, current_fallbacks
from lettr_cli.delivery import leases, outbox, workers
from lettr_cli.delivery.build import FactorySpec
from lettr_cli.signing import keys
from lettr_cli.store.tables import Campaign
from lettr_cli.workspace import Workspace


def prepare_campaign(
    workspace: Workspace, conn: Connection, handle: leases.LeaseHandle
) -> tuple[str, str | None]:
    """Resolve the recipients into the outbox and move the campaign on: ``sending``, or
    ``in_review`` (the risk check), or ``failed`` (an empty audience). Returns the new status
    and why, when it is not ``sending``. Idempotent: rows that exist are kept."""
    session = Session(bind=conn)
    campaign = session.get(Campaign, handle.campaign_id)
    if campaign is None:
        return lifecycle.FAILED, "the campaign was deleted"
    # The worker's heartbeat is renewed as the transaction starts and again as it ends, so that
    # a long prepare is never taken for a dead worker: on SQLite no one can reap it while this
    # transaction holds the write lock; on PostgreSQL the renewed row stays locked until the
    # commit, and a reap is conditional on the heartbeat being stale (``workers.reap``).
    if not workers.heartbeat(conn, handle.worker) or campaign.status != lifecycle.PREPARING:
        return campaign.status, None
    if not leases.holds_preparing(conn, handle.campaign_id, handle.worker):
        return campaign.status, None  # another worker prepares it
    total = outbox.prepare(session, campaign)
    if campaign.merge_fallbacks is None:  # kept when preparing is repeated after a crash
        campaign.merge_fallbacks = current_fallbacks(session)
    campaign.total_recipients = total
    session.add(campaign)
    # preparing → failed (an empty audience), in_review (the risk check) or sending.
    status, reason = lifecycle.end_preparing(session, campaign, total)
    workers.heartbeat(conn, handle.worker)
    return status, reason


def factory_spec(workspace: Workspace, conn: Connection, campaign_id: str) -> FactorySpec:
    """Compile the campaign's frozen content once (refusing unknown merge tags), and gather
    what its messages are made from: the store's tracking keys and the DKIM key."""
    from lettr_cli.domains.service import signing_key

    settings = workspace.settings()
    session = Session(bind=conn)
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    composer = composer_for(session, campaign, settings)
    domain = composer.content.from_email.rpartition("@")[2]
    return FactorySpec(
        content=composer.content,
        sender=composer.sender,
        fallbacks=composer.fallbacks,
        keys=keys.signer(session).keys,
        dkim_key=signing_key(workspace, domain),
        bounce_domain=settings.text("sender.bounce_domain") or domain,
    )
