"""Schema steps 12, 14 and 15: API keys, the engagement index, UTM tags (13 is in
``schema_optin``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from lettr_cli.store.schema_columns import created_at_column
from lettr_cli.store.types import JSON_TYPE, UTCDateTime

if TYPE_CHECKING:
    from alembic.operations import Operations


def m012_api_keys(op: Operations) -> None:
    # The HTTP API's keys (issue 16): only a SHA-256 of each key is kept, with its name, its
    # scopes (comma-separated) and when it was made and revoked.
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.Text, nullable=False),
        created_at_column(),
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
