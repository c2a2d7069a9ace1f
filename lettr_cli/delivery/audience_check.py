"""The audience checked again when rows are claimed (issue 19): a campaign that targets topics
skips the queued rows of contacts who opted out of them since it was prepared (a preference
centre choice), the way every campaign skips contacts no longer subscribed."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from lettr_cli.campaigns.audience import send_time_clause
from lettr_cli.store.tables import Campaign, Contact, table_of

contacts = table_of(Contact)
NO_LONGER_IN_AUDIENCE = "the contact is no longer in the campaign's audience (a topic opt-out)"


def left_audience(conn: Connection, campaign_id: str, rows: Sequence[tuple[int, str]]) -> list[int]:
    """Of ``rows`` (row id, contact id), the rows whose contact no longer matches the audience
    of a campaign that targets topics; none for other campaigns. Inside the claim's
    transaction, so the answer holds for the claim."""
    if not rows:
        return []
    with Session(bind=conn) as session:
        campaign = session.get(Campaign, campaign_id)
        clause = None if campaign is None else send_time_clause(session, campaign)
    if clause is None:
        return []
    wanted = {contact_id for _, contact_id in rows}
    inside = set(
        conn.execute(
            sa.select(contacts.c.id).where(contacts.c.id.in_(list(wanted)), clause)
        ).scalars()
    )
    return [row_id for row_id, contact_id in rows if contact_id not in inside]
