"""The outbox's row states and the counts a campaign object shows, read through SQLAlchemy Core
alone, so that `campaign show` and `campaign list --json` start without the ORM (issue 18,
"Start-up"). ``outbox`` re-exports every name here; the states are its (DESIGN "Sending
engine").
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.store.core_tables import outbox

QUEUED = "queued"
CLAIMED = "claimed"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
BOUNCED = "bounced"
SKIPPED = "skipped"
IN_DOUBT = "in_doubt"
STATES = (QUEUED, CLAIMED, SENDING, SENT, FAILED, BOUNCED, SKIPPED, IN_DOUBT)
FINAL = frozenset({SENT, FAILED, BOUNCED, SKIPPED, IN_DOUBT})


def counts(conn: Connection, campaign_id: str) -> dict[str, int]:
    """Rows per state, every state present (CONTRACT "Objects": the campaign's ``outbox``)."""
    query = (
        sa.select(outbox.c.status, sa.func.count())
        .where(outbox.c.campaign_id == campaign_id)
        .group_by(outbox.c.status)
    )
    found: dict[str, int] = {str(status): int(n) for status, n in conn.execute(query)}
    return {state: found.get(state, 0) for state in STATES}


def in_doubt_emails(conn: Connection, campaign_id: str) -> list[str]:
    """The addresses of the campaign's ``in_doubt`` rows, in the order they were prepared."""
    query = (
        sa.select(outbox.c.email)
        .where(outbox.c.campaign_id == campaign_id, outbox.c.status == IN_DOUBT)
        .order_by(outbox.c.id)
    )
    return [str(email) for email in conn.execute(query).scalars()]
