"""`lettr feedback import`: each feedback message matched to its outbox row and recorded once.

Matching never guesses: the envelope token (``bounces+<token>@…``, signed, naming one outbox
row) wins; without a valid token, the original message's Feedback-ID or List-Id names the
campaign and the report's recipient names the row. Anything missing or ambiguous is listed as
unmatched, with the reason.

Every message is recorded in its own transaction together with its de-duplication key
(``feedback_messages``), so an interrupted import can simply be run again, and a file or a
growing mbox imported again counts each message once.

On PostgreSQL these transactions take row locks only (``ROWS``, ``store.server``), so an import
runs beside the daemons and the tracking server. Two imports of one message at once stay one:
the key is inserted first (``ON CONFLICT DO NOTHING``), and the second waits for the first's
commit and finds it. Two messages about one row stay one event: the row is locked (``FOR
UPDATE``) before its once-per-row event is checked. A contact's opt-out takes the store's write
lock where it happens (``ledger.opt_out``). A transaction the store found busy runs again
(``Store.transact``; each attempt counts into a summary of its own).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli import ledger
from lettr_cli.delivery import outbox
from lettr_cli.delivery.build import BOUNCE_LOCAL_PART
from lettr_cli.signing.keys import signer as store_signer
from lettr_cli.signing.tokens import Purpose, Signer
from lettr_cli.store.engine import Store
from lettr_cli.store.tables import FeedbackMessage, table_of
from lettr_cli.store.types import utcnow
from lettr_cli.tracking import feedback as fb
from lettr_cli.tracking.feedback_sources import read_sources
from lettr_cli.transport.replies import BOUNCE_CLASSES, ReplyClass

feedback_messages = table_of(FeedbackMessage)

HARD = BOUNCE_CLASSES[ReplyClass.HARD]
UNMATCHED = "unmatched"
_FEEDBACK_ID = re.compile(r"^([0-9a-fA-F-]{36}):campaign:lettr$")
_LIST_ID = re.compile(r"<([0-9a-fA-F-]{36})\.[^>]+>")


@dataclass
class ImportSummary:
    messages: int = 0
    bounces: int = 0
    complaints: int = 0
    auto_replies: int = 0
    duplicates: int = 0
    ignored: int = 0  # delivery delays and reports about a row already counted
    unmatched: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "bounces": self.bounces,
            "complaints": self.complaints,
            "auto_replies": self.auto_replies,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
        }

    def add(self, other: ImportSummary) -> None:
        """Count ``other``'s messages too (all but ``messages``, counted before)."""
        self.bounces += other.bounces
        self.complaints += other.complaints
        self.auto_replies += other.auto_replies
        self.duplicates += other.duplicates
        self.ignored += other.ignored
        self.unmatched += other.unmatched


@dataclass(frozen=True)
class Row:
    id: int
    campaign_id: str
    contact_id: str
    email: str


Progress = Callable[[int, int], None]  # (messages done, messages in all)


def import_feedback(
    store: Store, paths: Sequence[Path], progress: Progress | None = None
) -> ImportSummary:
    """Read every path first (a malformed one is refused before anything is recorded), then
    match and record each message in its own transaction."""
    incoming = read_sources(paths)
    with store.write() as session:
        signer = store_signer(session)
    summary = ImportSummary(messages=len(incoming))
    for done, item in enumerate(incoming, start=1):
        found = fb.classify_message(item)
        summary.add(store.transact(partial(_recorded, signer=signer, found=found)))
        if progress is not None:
            progress(done, len(incoming))
    return summary


def _recorded(conn: Connection, signer: Signer, found: fb.Feedback) -> ImportSummary:
    """One message recorded on ``conn``: what it counts for."""
    summary = ImportSummary()
    _record(conn, signer, found, summary)
    return summary


def _record(conn: Connection, signer: Signer, found: fb.Feedback, summary: ImportSummary) -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # The key first: a concurrent import of the same message waits here, then finds it.
    first = dialect.insert(feedback_messages).values(
        key=found.key, kind=found.kind, imported_at=utcnow(), outbox_id=None
    )
    if conn.execute(first.on_conflict_do_nothing()).rowcount != 1:
        summary.duplicates += 1
        return
    row: Row | None = None
    kind = found.kind
    if kind == fb.AUTO_REPLY:
        summary.auto_replies += 1
    elif kind == fb.DELAY:
        summary.ignored += 1
    elif kind == fb.OTHER:
        _unmatched(summary, found, found.note or "not feedback lettr uses")
        kind = UNMATCHED
    else:
        row, why = match(conn, signer, found)
        if row is not None:
            # Another report about the row, imported at once, waits: one event per row.
            o = outbox.outbox
            conn.execute(sa.select(o.c.id).where(o.c.id == row.id).with_for_update())
        if row is None:
            _unmatched(summary, found, why)
            kind = UNMATCHED
        elif kind == fb.BOUNCE:
            if _bounce(conn, row, found):
                summary.bounces += 1
            else:
                summary.ignored += 1
        elif _complaint(conn, row, found):
            summary.complaints += 1
        else:
            summary.ignored += 1
    conn.execute(
        feedback_messages.update()
        .where(feedback_messages.c.key == found.key)
        .values(kind=kind, outbox_id=row.id if row is not None else None)
    )


def _unmatched(summary: ImportSummary, found: fb.Feedback, reason: str) -> None:
    summary.unmatched.append(
        {
            "source": found.source,
            "message_id": found.message_id,
            "kind": found.kind,
            "recipient": found.recipient,
            "reason": reason,
        }
    )


# -- matching -----------------------------------------------------------------------------------


def match(conn: Connection, signer: Signer, found: fb.Feedback) -> tuple[Row | None, str]:
    """The outbox row ``found`` is about, or None and why not."""
    row_ids = set()
    for address in found.envelope_addresses:
        local, _, _domain = address.rpartition("@")
        prefix = f"{BOUNCE_LOCAL_PART}+"
        if not local.lower().startswith(prefix):
            continue
        token = signer.verify(local[len(prefix) :])
        if token is not None and token.purpose is Purpose.BOUNCE:
            row_ids.add(token.row_id)
    if len(row_ids) > 1:
        return None, "its envelope tokens name more than one message"
    if row_ids:
        row = _row_by_id(conn, row_ids.pop())
        if row is None:
            return None, "its envelope token names a message that is no longer in the outbox"
        return row, ""
    return _match_by_headers(conn, found)


def _match_by_headers(conn: Connection, found: fb.Feedback) -> tuple[Row | None, str]:
    campaign_ids = set()
    feedback_id = _FEEDBACK_ID.match(found.original.get("feedback-id", ""))
    if feedback_id:
        campaign_ids.add(feedback_id.group(1).lower())
    list_id = _LIST_ID.search(found.original.get("list-id", ""))
    if list_id:
        campaign_ids.add(list_id.group(1).lower())
    if not campaign_ids:
        return None, "no valid envelope token, and no Feedback-ID or List-Id of lettr's"
    if len(campaign_ids) > 1:
        return None, "its Feedback-ID and List-Id name different campaigns"
    campaign_id = campaign_ids.pop()
    address = found.recipient or found.original.get("to")
    if not address:
        return None, "no valid envelope token, and no recipient address in the report"
    original_to = found.original.get("to")
    if found.recipient and original_to and found.recipient.casefold() != original_to.casefold():
        return None, "the report's recipient and the original To differ"
    o = outbox.outbox
    candidates = conn.execute(
        sa.select(o.c.id, o.c.campaign_id, o.c.contact_id, o.c.email).where(
            o.c.campaign_id == campaign_id,
            sa.func.lower(o.c.email) == address.lower(),
        )
    ).all()
    rows = [
        Row(r.id, r.campaign_id, r.contact_id, r.email)
        for r in candidates
        if str(r.email).casefold() == address.casefold()
    ]
    if len(rows) != 1:
        why = "no" if not rows else "more than one"
        return None, f"{why} message to {address} in campaign {campaign_id}"
    return rows[0], ""


def _row_by_id(conn: Connection, row_id: int) -> Row | None:
    o = outbox.outbox
    found = conn.execute(
        sa.select(o.c.id, o.c.campaign_id, o.c.contact_id, o.c.email).where(o.c.id == row_id)
    ).first()
    if found is None:
        return None
    return Row(found.id, found.campaign_id, found.contact_id, found.email)


# -- recording ----------------------------------------------------------------------------------


def _bounce(conn: Connection, row: Row, found: fb.Feedback) -> bool:
    """An out-of-band bounce: one ``bounce`` event per row (a row the send already bounced,
    or an earlier report about it, keeps its single event). The row's state is kept, so a
    delivery stays counted. Only a hard bounce (5.1.x) bounces the contact.

    Every write is conditional in SQL, not on an earlier read: the event is inserted only if
    the row has none (one statement), and the contact changes only from the status it had
    (``ledger.opt_out``), so a run or another import that changed either meanwhile wins."""
    now = utcnow()
    bounce_class = found.bounce_class or fb.UNCLASSIFIED
    event = {
        "outbox_id": row.id,
        "contact_id": row.contact_id,
        "email": row.email,
        "bounce_class": bounce_class,
        "reason": found.reason,
    }
    if not ledger.record_event_once(conn, row.campaign_id, event, "bounce", now):
        return False
    ledger.add_counters(conn, row.campaign_id, {"bounces": 1})
    if bounce_class == HARD:
        ledger.opt_out(conn, row.contact_id, ledger.BOUNCED, now)
    return True


def _complaint(conn: Connection, row: Row, found: fb.Feedback) -> bool:
    """A spam complaint: one ``spam_complaint`` event per row; the contact is ``complained``."""
    now = utcnow()
    event = {"outbox_id": row.id, "contact_id": row.contact_id, "email": row.email}
    if not ledger.record_event_once(conn, row.campaign_id, event, "spam_complaint", now):
        return False
    ledger.add_counters(conn, row.campaign_id, {"spam_complaints": 1})
    ledger.opt_out(conn, row.contact_id, ledger.COMPLAINED, now)
    return True
