"""What one commit of the writer does besides the outbox rows: the campaign's counters, the
events for analytics, and the contacts a reply changes (a hard bounce, the third soft failure in
a row across campaigns, a delivery that resets the count)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli import ledger
from lettr_cli.delivery import outbox
from lettr_cli.delivery.outcomes import SOFT_FAILURES_TO_BOUNCE, Verdict
from lettr_cli.store.tables import SoftFailure, table_of
from lettr_cli.transport.replies import ReplyClass
from lettr_cli.transport.smtp import Outcome

if TYPE_CHECKING:
    from lettr_cli.delivery.claims import Claimed

soft_failures = table_of(SoftFailure)
# Built once: a delivery resets the contact's soft failures, in every group of results.
_FORGET_SOFT_FAILURES = soft_failures.delete().where(
    soft_failures.c.contact_id.in_(sa.bindparam("contact_ids", expanding=True))
)


@dataclass
class Effects:
    """Counters, events and contact changes of one commit, written together."""

    counters: dict[str, int] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bounce_contacts: list[str] = field(default_factory=list)
    soft_contacts: list[str] = field(default_factory=list)
    reset_contacts: list[str] = field(default_factory=list)

    def count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def add(self, item: Claimed, verdict: Verdict, result: Outcome, injects: bool) -> None:
        row = {"outbox_id": item.row_id, "contact_id": item.contact_id, "email": item.email}
        if injects:
            self.count("injections")
            self.events.setdefault("injection", []).append(row)
        if verdict.delivered:
            self.count("deliveries")
            self.count("sent_count")
            self.events.setdefault("delivery", []).append(row)
            self.reset_contacts.append(item.contact_id)
        if verdict.event == "bounce":
            self.count("bounces")
            bounce = {**row, "bounce_class": verdict.bounce_class, "reason": result.reply[:1000]}
            self.events.setdefault("bounce", []).append(bounce)
        if verdict.bounces_contact:
            self.bounce_contacts.append(item.contact_id)
        if verdict.soft_for_contact and item.reply_class != ReplyClass.SOFT:
            # Once per campaign: an earlier soft attempt of this row has had its say (even when
            # other campaigns counted in between, which ``last_campaign_id`` cannot tell).
            self.soft_contacts.append(item.contact_id)

    def write(self, conn: Connection, campaign_id: str, now: datetime) -> None:
        ledger.record_events_by_type(conn, campaign_id, self.events, now)
        ledger.add_counters(conn, campaign_id, self.counters)
        if self.reset_contacts:
            conn.execute(_FORGET_SOFT_FAILURES, {"contact_ids": self.reset_contacts})
        bounced = list(self.bounce_contacts)
        for contact_id in self.soft_contacts:
            if count_soft_failure(conn, contact_id, campaign_id) >= SOFT_FAILURES_TO_BOUNCE:
                bounced.append(contact_id)
        for contact_id in dict.fromkeys(bounced):
            ledger.opt_out(conn, contact_id, ledger.BOUNCED, now)


def count_soft_failure(conn: Connection, contact_id: str, campaign_id: str) -> int:
    """One more soft failure for the contact, at most one per campaign; returns the count.

    One upsert, so that two workers (of two campaigns) counting for one contact at once add up
    on PostgreSQL too, where they do not take turns; the contact is locked first (``FOR KEY
    SHARE``; nothing on SQLite) so that one deleted meanwhile counts nothing."""
    contact = conn.execute(
        sa.select(outbox.contacts.c.id)
        .where(outbox.contacts.c.id == contact_id)
        .with_for_update(read=True, key_share=True)
    ).first()
    if contact is None:
        return 0
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(soft_failures).values(
        contact_id=contact_id, failures=1, last_campaign_id=campaign_id
    )
    again = soft_failures.c.last_campaign_id == insert.excluded.last_campaign_id
    upsert = insert.on_conflict_do_update(
        index_elements=[soft_failures.c.contact_id],
        set_={
            "failures": sa.case(
                (again, soft_failures.c.failures), else_=soft_failures.c.failures + 1
            ),
            "last_campaign_id": insert.excluded.last_campaign_id,
        },
    ).returning(soft_failures.c.failures)
    return int(conn.execute(upsert).scalar_one())
