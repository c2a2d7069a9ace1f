"""Schema step 13: the confirmation state of contacts added with double opt-in (issue 19)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from lettr_cli.store.types import UTCDateTime

if TYPE_CHECKING:
    from alembic.operations import Operations


def m013_confirmations(op: Operations) -> None:
    # One row per unconfirmed contact: the mail's template, sender, subject and redirect (so
    # `resend-confirmation` needs none of them again) and when the last one went out (at most
    # one per 10 minutes). Deleted when the contact confirms, or with the contact.
    op.create_table(
        "confirmations",
        sa.Column(
            "contact_id",
            sa.String(36),
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("template", sa.String(255), nullable=False),
        sa.Column("from_email", sa.String(255), nullable=False),
        sa.Column("from_name", sa.String(255)),
        sa.Column("subject", sa.String(998), nullable=False),
        sa.Column("redirect_url", sa.String(2048), nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
