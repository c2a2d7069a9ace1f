"""The schema steps, in order: each a plain function over Alembic's ``Operations`` (portable
DDL, no SQLite table rebuilds). ``migrations`` applies them; a new step is appended to
``MIGRATIONS`` with the next version and a fixture store of the previous version (DESIGN).
Steps 1 to 7 are here; later ones live in modules of their own (``schema_sending``,
``schema_later``, ``schema_optin``, ``schema_workers``), so that this file stays the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from lettr_cli.store.schema_columns import BIG_ID, created_at_column, id_column
from lettr_cli.store.schema_later import m012_api_keys, m014_engagement_indexes, m015_campaign_utm
from lettr_cli.store.schema_optin import m013_confirmations
from lettr_cli.store.schema_sending import (
    m008_outbox,
    m009_tracking,
    m010_feedback,
    m011_link_counters,
)
from lettr_cli.store.schema_workers import m016_workers
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


def m002_audience(op: Operations) -> None:
    op.create_table(
        "properties",
        id_column(),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("fallback_value", sa.String(1000)),
        created_at_column(),
    )
    op.create_table(
        "contacts",
        id_column(),
        sa.Column("email", sa.String(320), nullable=False),
        # casefold(email): identity, case-insensitive matching (CONTRACT "Naming and matching")
        sa.Column("email_key", sa.String(320), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("properties", JSON_TYPE, nullable=False),
        # casefolded copies of the string values, for case-insensitive comparisons in SQL
        sa.Column("properties_folded", JSON_TYPE, nullable=False),
        created_at_column(),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_contacts_status", "contacts", ["status"])
    op.create_index("ix_contacts_created_at", "contacts", ["created_at"])
    for kind in ("list", "topic"):
        table = f"{kind}s"
        columns: list[sa.Column[Any]] = [
            id_column(),
            sa.Column("name", sa.String(255), nullable=False, unique=True),
        ]
        if kind == "topic":
            columns += [
                sa.Column("description", sa.String(1000)),
                sa.Column("default_subscription", sa.String(8), nullable=False),
                sa.Column("visibility", sa.String(8), nullable=False),
            ]
        op.create_table(table, *columns, created_at_column())
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
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
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
        created_at_column(),
    )


def m003_domains(op: Operations) -> None:
    op.create_table(
        "domains",
        id_column(),
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
        created_at_column(),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("name", name="uq_domains_name"),
    )


def m004_segments(op: Operations) -> None:
    op.create_table(
        "segments",
        id_column(),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        # No cascade: deleting a list that scopes a segment is refused (resource_in_use).
        sa.Column("list_id", sa.String(36), sa.ForeignKey("lists.id")),
        # {"groups": [{"conditions": [{field, operator, value}]}]}, lists and topics by id
        sa.Column("conditions", JSON_TYPE, nullable=False),
        created_at_column(),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_segments_list", "segments", ["list_id"])


def m005_templates(op: Operations) -> None:
    op.create_table(
        "templates",
        id_column(),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("active_version", sa.Integer, nullable=False),
        created_at_column(),
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
        created_at_column(),
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
        id_column(),
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
        created_at_column(),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_campaigns_status", "campaigns", ["status"])
    # Secrets that sign tracking tokens; rotating adds a key and old ones keep verifying.
    op.create_table(
        "tracking_keys",
        sa.Column("kid", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("secret", sa.String(128), nullable=False),
        created_at_column(),
    )


def m007_test_sends(op: Operations) -> None:
    # Test sends are limited per store (10 addresses a minute), so every process counts here.
    op.create_table(
        "test_sends",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
    )
    op.create_index("ix_test_sends_at", "test_sends", ["at"])


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
    Migration(16, "m016_workers", m016_workers),
)
