"""Schema steps 8 to 11: the outbox, tracking, feedback and the link counters."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.store.schema_columns import BIG_ID
from lettr_cli.store.types import JSON_TYPE, UTCDateTime

if TYPE_CHECKING:
    from alembic.operations import Operations


def m008_outbox(op: Operations) -> None:
    # One row per recipient of a prepared campaign (DESIGN "Sending engine"): the address and
    # merge values snapshotted, its state, and the claim token that fences every update.
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "campaign_id",
            sa.String(36),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        # no foreign key: a contact deleted after preparing leaves its row, which is skipped
        sa.Column("contact_id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("merge_values", JSON_TYPE, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claim_token", sa.String(32)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("injected_at", UTCDateTime),
        sa.Column("accepted_at", UTCDateTime),
        sa.Column("reply_class", sa.String(16)),
        sa.Column("reply", sa.String(1000)),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("campaign_id", "contact_id", name="uq_outbox_campaign_contact"),
    )
    op.create_index("ix_outbox_campaign_status", "outbox", ["campaign_id", "status", "id"])
    # Who drives a campaign: one holder at a time; the epoch moves on every takeover.
    op.create_table(
        "leases",
        sa.Column(
            "campaign_id",
            sa.String(36),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("holder", sa.String(32)),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.String(255)),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("heartbeat_at", UTCDateTime),
    )
    # What happened to each message, for analytics (CONTRACT "Objects": Event).
    op.create_table(
        "events",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column(
            "campaign_id",
            sa.String(36),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("outbox_id", BIG_ID),
        sa.Column("contact_id", sa.String(36)),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("event_type", sa.String(24), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("bounce_class", sa.String(4)),
        sa.Column("reason", sa.String(1000)),
        sa.Column("target_link_url", sa.Text),
        sa.Column("user_agent", sa.String(1000)),
        sa.Column("machine", sa.Boolean, nullable=False),
    )
    op.create_index("ix_events_campaign_at", "events", ["campaign_id", "at"])
    op.create_index("ix_events_contact", "events", ["contact_id"])
    # Soft failures in a row across campaigns (at most one per campaign); three bounce a contact.
    op.create_table(
        "soft_failures",
        sa.Column(
            "contact_id",
            sa.String(36),
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_campaign_id", sa.String(36), nullable=False),
    )


TRACKING_COLUMNS = ("first_open_at", "first_machine_open_at", "first_click_at", "unsubscribed_at")


def m009_tracking(op: Operations) -> None:
    # The first open (by a person, by a machine), click and unsubscribe of each row: the unique
    # counters and the once-only unsubscribe are decided here, not from events (which are
    # archived after 30 days), so they survive the archive (DESIGN "Tracking").
    for name in TRACKING_COLUMNS:
        op.add_column("outbox", sa.Column(name, UTCDateTime, nullable=True))


def m010_feedback(op: Operations) -> None:
    # Feedback messages already imported (CONTRACT "Tracking"): the report's Message-ID, else a
    # hash of its bytes, so that a file or a growing mbox imported again counts each one once.
    op.create_table(
        "feedback_messages",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("imported_at", UTCDateTime, nullable=False),
        # the outbox row it was matched to; null when unmatched or ignored
        sa.Column("outbox_id", BIG_ID),
    )


def m011_link_counters(op: Operations) -> None:
    # Counters that outlive the 30-day event archive (DESIGN "Tracking"): clicks per outbox row
    # and URL (the report's top links), unsubscribes by method, and the property fallbacks a
    # campaign was prepared with (its web versions and click targets are rebuilt with them).
    op.create_table(
        "link_clicks",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "campaign_id",
            sa.String(36),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("outbox_id", BIG_ID, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("clicks", sa.Integer, nullable=False),
    )
    op.create_index("ix_link_clicks_campaign", "link_clicks", ["campaign_id", "url"])
    op.create_index("ix_link_clicks_outbox", "link_clicks", ["outbox_id"])
    for name in METHOD_COUNTERS.values():
        op.add_column("campaigns", sa.Column(name, sa.Integer, nullable=False, server_default="0"))
    op.add_column("campaigns", sa.Column("merge_fallbacks", JSON_TYPE, nullable=True))
    _backfill_link_counters(op.get_bind())


# each unsubscribe method and its counter (as the events name the method)
METHOD_COUNTERS = {"list_unsubscribe": "list_unsubscribes", "link_unsubscribe": "link_unsubscribes"}


def _backfill_link_counters(conn: Connection) -> None:
    """The new counters from the events still in the store (campaigns archived before this
    step have none left), and each prepared campaign's fallbacks as they are now."""
    events = sa.table(
        "events",
        sa.column("campaign_id"),
        sa.column("outbox_id"),
        sa.column("event_type"),
        sa.column("target_link_url"),
    )
    link_clicks = sa.table(
        "link_clicks",
        sa.column("campaign_id"),
        sa.column("outbox_id"),
        sa.column("url"),
        sa.column("clicks"),
    )
    clicked = (
        sa.select(
            events.c.campaign_id, events.c.outbox_id, events.c.target_link_url, sa.func.count()
        )
        .where(
            events.c.event_type == "click",
            events.c.outbox_id.is_not(None),
            events.c.target_link_url.is_not(None),
        )
        .group_by(events.c.campaign_id, events.c.outbox_id, events.c.target_link_url)
    )
    conn.execute(
        link_clicks.insert().from_select(["campaign_id", "outbox_id", "url", "clicks"], clicked)
    )
    campaigns = sa.table(
        "campaigns", sa.column("id"), sa.column("merge_fallbacks", JSON_TYPE),
        *(sa.column(name) for name in METHOD_COUNTERS.values()),
    )  # fmt: skip
    counts = {
        name: sa.select(sa.func.count())
        .where(events.c.campaign_id == campaigns.c.id, events.c.event_type == method)
        .scalar_subquery()
        for method, name in METHOD_COUNTERS.items()
    }
    conn.execute(campaigns.update().values(counts))
    properties = sa.table("properties", sa.column("name"), sa.column("fallback_value"))
    fallbacks = {
        str(name): fallback
        for name, fallback in conn.execute(
            sa.select(properties.c.name, properties.c.fallback_value)
        )
    }
    outbox = sa.table("outbox", sa.column("campaign_id"))
    prepared = sa.select(outbox.c.campaign_id).where(outbox.c.campaign_id == campaigns.c.id)
    conn.execute(campaigns.update().where(prepared.exists()).values(merge_fallbacks=fallbacks))
