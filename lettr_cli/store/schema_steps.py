"""The schema steps, in order: each a plain function over Alembic's ``Operations`` (portable
DDL, no SQLite table rebuilds). ``migrations`` applies them; a new step is appended to
``MIGRATIONS`` with the next version and a fixture store of the previous version (DESIGN)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.store.schema_optin import m013_confirmations
from lettr_cli.store.types import JSON_TYPE, UTCDateTime

if TYPE_CHECKING:
    from alembic.operations import Operations


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Operations], None]


def m001_config(op: Operations) -> None:
    op.create_table(
        "config",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def _id_column(name: str = "id") -> sa.Column[Any]:
    return sa.Column(name, sa.String(36), primary_key=True)


def _created_at() -> sa.Column[Any]:
    return sa.Column("created_at", UTCDateTime, nullable=False)


def m002_audience(op: Operations) -> None:
    op.create_table(
        "properties",
        _id_column(),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("fallback_value", sa.String(1000)),
        _created_at(),
    )
    op.create_table(
        "contacts",
        _id_column(),
        sa.Column("email", sa.String(320), nullable=False),
        # casefold(email): identity, case-insensitive matching (CONTRACT "Naming and matching")
        sa.Column("email_key", sa.String(320), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("properties", JSON_TYPE, nullable=False),
        # casefolded copies of the string values, for case-insensitive comparisons in SQL
        sa.Column("properties_folded", JSON_TYPE, nullable=False),
        _created_at(),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_contacts_status", "contacts", ["status"])
    op.create_index("ix_contacts_created_at", "contacts", ["created_at"])
    for kind in ("list", "topic"):
        table = f"{kind}s"
        columns: list[sa.Column[Any]] = [
            _id_column(),
            sa.Column("name", sa.String(255), nullable=False, unique=True),
        ]
        if kind == "topic":
            columns += [
                sa.Column("description", sa.String(1000)),
                sa.Column("default_subscription", sa.String(8), nullable=False),
                sa.Column("visibility", sa.String(8), nullable=False),
            ]
        op.create_table(table, *columns, _created_at())
        members = f"{kind}_members"
        op.create_table(
            members,
            sa.Column(
                f"{kind}_id",
                sa.String(36),
                sa.ForeignKey(f"{table}.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column(
                "contact_id",
                sa.String(36),
                sa.ForeignKey("contacts.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("added_at", UTCDateTime, nullable=False),
        )
        op.create_index(f"ix_{members}_contact", members, ["contact_id"])
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "contact_id",
            sa.String(36),
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_activity_contact", "activity", ["contact_id", "id"])
    # Opt-outs outlive deletion (DESIGN "Decisions"): the casefolded address and its status.
    op.create_table(
        "suppressions",
        sa.Column("email_key", sa.String(320), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        _created_at(),
    )


def m003_domains(op: Operations) -> None:
    op.create_table(
        "domains",
        _id_column(),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("selector", sa.String(63), nullable=True),
        sa.Column("dkim", sa.Boolean, nullable=False),
        sa.Column("private_key", sa.Text, nullable=True),
        sa.Column("public_key", sa.Text, nullable=True),
        sa.Column("spf_include", sa.String(253), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_check", JSON_TYPE, nullable=True),
        sa.Column("checked_at", UTCDateTime, nullable=True),
        sa.Column("verified_at", UTCDateTime, nullable=True),
        _created_at(),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("name", name="uq_domains_name"),
    )


def m004_segments(op: Operations) -> None:
    op.create_table(
        "segments",
        _id_column(),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        # No cascade: deleting a list that scopes a segment is refused (resource_in_use).
        sa.Column("list_id", sa.String(36), sa.ForeignKey("lists.id")),
        # {"groups": [{"conditions": [{field, operator, value}]}]}, lists and topics by id
        sa.Column("conditions", JSON_TYPE, nullable=False),
        _created_at(),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_segments_list", "segments", ["list_id"])


def m005_templates(op: Operations) -> None:
    op.create_table(
        "templates",
        _id_column(),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("active_version", sa.Integer, nullable=False),
        _created_at(),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "template_versions",
        sa.Column(
            "template_id",
            sa.String(36),
            sa.ForeignKey("templates.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("html_content", sa.Text, nullable=False),
        sa.Column("text_content", sa.Text),
        _created_at(),
    )


STAT_COUNTERS = (
    "injections",
    "deliveries",
    "bounces",
    "spam_complaints",
    "opens",
    "unique_opens",
    "clicks",
    "unique_clicks",
    "unsubscribes",
    "machine_opens",
    "unique_machine_opens",
)


def m006_campaigns(op: Operations) -> None:
    op.create_table(
        "campaigns",
        _id_column(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(998)),
        sa.Column("from_email", sa.String(320)),
        sa.Column("from_name", sa.String(255)),
        sa.Column("reply_to", sa.String(320)),
        sa.Column("preview_text", sa.String(1000)),
        sa.Column("html_content", sa.Text),
        sa.Column("text_content", sa.Text),
        sa.Column("template_id", sa.String(36), sa.ForeignKey("templates.id", ondelete="SET NULL")),
        # null while a draft follows the template's active version; set when it leaves draft
        sa.Column("template_version", sa.Integer),
        sa.Column("track_opens", sa.Boolean, nullable=False),
        sa.Column("track_clicks", sa.Boolean, nullable=False),
        # {"all": bool, "lists": [ids], "segments": [ids]}
        sa.Column("audience", JSON_TYPE, nullable=False),
        sa.Column("scheduled_at", UTCDateTime),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("total_recipients", sa.Integer, nullable=False),
        sa.Column("sent_count", sa.Integer, nullable=False),
        sa.Column("failure_reason", sa.Text),
        *(sa.Column(name, sa.Integer, nullable=False) for name in STAT_COUNTERS),
        _created_at(),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_campaigns_status", "campaigns", ["status"])
    # Secrets that sign tracking tokens; rotating adds a key and old ones keep verifying.
    op.create_table(
        "tracking_keys",
        sa.Column("kid", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("secret", sa.String(128), nullable=False),
        _created_at(),
    )


def m007_test_sends(op: Operations) -> None:
    # Test sends are limited per store (10 addresses a minute), so every process counts here.
    op.create_table(
        "test_sends",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
    )
    op.create_index("ix_test_sends_at", "test_sends", ["at"])


def m008_outbox(op: Operations) -> None:
    # One row per recipient of a prepared campaign (DESIGN "Sending engine"): the address and
    # merge values snapshotted, its state, and the claim token that fences every update.
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
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
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column(
            "campaign_id",
            sa.String(36),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("outbox_id", sa.Integer),
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
        sa.Column("outbox_id", sa.Integer),
    )


def m011_link_counters(op: Operations) -> None:
    # Counters that outlive the 30-day event archive (DESIGN "Tracking"): clicks per outbox row
    # and URL (the report's top links), unsubscribes by method, and the property fallbacks a
    # campaign was prepared with (its web versions and click targets are rebuilt with them).
    op.create_table(
        "link_clicks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "campaign_id",
            sa.String(36),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("outbox_id", sa.Integer, nullable=False),
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


def m012_api_keys(op: Operations) -> None:
    # The HTTP API's keys (issue 16): only a SHA-256 of each key is kept, with its name, its
    # scopes (comma-separated) and when it was made and revoked.
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.Text, nullable=False),
        _created_at(),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
    )


def m014_engagement_indexes(op: Operations) -> None:
    # Engagement segments (issue 20) ask, per contact, whether any outbox row was opened or
    # clicked since a moment: this index holds every column that question reads. Questions
    # about one campaign's row use the unique (campaign_id, contact_id) index, which SQLite
    # prefers for an equality on both columns whatever else exists.
    op.create_index(
        "ix_outbox_contact_engagement", "outbox", ["contact_id", "first_open_at", "first_click_at"]
    )


def m015_campaign_utm(op: Operations) -> None:
    # A campaign's UTM tags (issue "Engagement"): {"source", "medium", "campaign"}, the campaign
    # null while it follows the campaign's name; the column null when links are not tagged,
    # which is what every campaign made before this step keeps.
    op.add_column("campaigns", sa.Column("utm", JSON_TYPE, nullable=True))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "m001_config", m001_config),
    Migration(2, "m002_audience", m002_audience),
    Migration(3, "m003_domains", m003_domains),
    Migration(4, "m004_segments", m004_segments),
    Migration(5, "m005_templates", m005_templates),
    Migration(6, "m006_campaigns", m006_campaigns),
    Migration(7, "m007_test_sends", m007_test_sends),
    Migration(8, "m008_outbox", m008_outbox),
    Migration(9, "m009_tracking", m009_tracking),
    Migration(10, "m010_feedback", m010_feedback),
    Migration(11, "m011_link_counters", m011_link_counters),
    Migration(12, "m012_api_keys", m012_api_keys),
    Migration(13, "m013_confirmations", m013_confirmations),
    Migration(14, "m014_engagement_indexes", m014_engagement_indexes),
    Migration(15, "m015_campaign_utm", m015_campaign_utm),
)
