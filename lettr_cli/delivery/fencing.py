"""The row updates of a run, fenced in SQL (DESIGN "Fencing"; see ``delivery.writer``).

Every update of a run names the rows' claim token, the worker and epoch that hold them and the
status it expects, and tells which rows it changed (RETURNING, or the rowcount of a one-row
update): a row that matched nothing was taken over, and its holder must not go on as if it
still held it.

On PostgreSQL these run without the store's advisory lock (``store.server``), under READ
COMMITTED: each is one statement, and an update that waited for a row's lock (a reaper's
recovery, another worker's claim) checks its WHERE again on the row's newest version, so the
fence holds however the transactions interleave.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.delivery.outbox import (
    CLAIMED,
    FAILED,
    QUEUED,
    SENDING,
    SKIPPED,
    contacts,
    outbox,
)
from lettr_cli.store.types import UTCDateTime

NOW = sa.bindparam("now", type_=UTCDateTime)
_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
_TOKEN: sa.BindParameter[str] = sa.bindparam("token")


_WORKER = (outbox.c.worker_id == sa.bindparam("worker")) & (
    outbox.c.worker_epoch == sa.bindparam("epoch")
)


def _fenced(expected: str) -> Any:
    """The rows ``ids`` that still carry the claim ``token`` of this worker at its epoch and
    are ``expected``."""
    return (
        outbox.c.id.in_(_IDS)
        & (outbox.c.claim_token == _TOKEN)
        & _WORKER
        & (outbox.c.status == expected)
    )


# The contact is locked while the mark checks it (PostgreSQL's FOR SHARE; nothing on SQLite,
# whose writers take turns): an opt-out in progress is waited for and then seen, and one that
# starts later waits for the mark's commit. So an unsubscribe answered before a mark commits
# is never followed by that message's DATA.
_SUBSCRIBED = (
    sa.select(contacts.c.id)
    .where(contacts.c.id == outbox.c.contact_id, contacts.c.status == "subscribed")
    .with_for_update(read=True)
    .exists()
)
NO_LONGER_SUBSCRIBED = "the contact is no longer subscribed"
SKIP = (
    outbox.update()
    .where(_fenced(CLAIMED), ~_SUBSCRIBED)
    .values(
        status=SKIPPED,
        claim_token=None,
        worker_id=None,
        worker_epoch=None,
        reply=NO_LONGER_SUBSCRIBED,
        updated_at=NOW,
    )
    .returning(outbox.c.id)
)
MARK = (
    outbox.update()
    .where(_fenced(CLAIMED), _SUBSCRIBED)
    .values(status=SENDING, attempts=outbox.c.attempts + 1, updated_at=NOW)
    .returning(outbox.c.id)
)
RELEASE = (
    outbox.update()
    .where(_fenced(CLAIMED))
    .values(status=QUEUED, claim_token=None, worker_id=None, worker_epoch=None, updated_at=NOW)
    .returning(outbox.c.id)
)
_ROW = (
    (outbox.c.id == sa.bindparam("row_id"))
    & (outbox.c.claim_token == sa.bindparam("token"))
    & _WORKER
    & (outbox.c.status == sa.bindparam("expected"))
)
FAIL = (
    outbox.update()
    .where(_ROW)
    .values(status=FAILED, reply=sa.bindparam("new_reply"), updated_at=NOW)
)
RESULT = (
    outbox.update()
    .where(_ROW)
    .values(
        status=sa.bindparam("new_status"),
        reply=sa.bindparam("new_reply"),
        # A relay failure is no attempt: the row keeps the class of its last attempt.
        reply_class=sa.func.coalesce(sa.bindparam("new_class"), outbox.c.reply_class),
        claim_token=sa.bindparam("new_token"),
        worker_id=sa.bindparam("new_worker"),
        worker_epoch=sa.bindparam("new_epoch"),
        next_attempt_at=sa.bindparam("next_at", type_=UTCDateTime),
        attempts=sa.bindparam("new_attempts"),
        accepted_at=sa.func.coalesce(
            sa.bindparam("accepted", type_=UTCDateTime), outbox.c.accepted_at
        ),
        injected_at=sa.func.coalesce(
            outbox.c.injected_at, sa.bindparam("injected", type_=UTCDateTime)
        ),
        updated_at=NOW,
    )
)


def fenced_update(
    conn: Connection,
    statement: Any,
    by_token: dict[str, list[int]],
    now: datetime,
    worker: tuple[str, int],
) -> set[int]:
    """Run one of SKIP, MARK, RELEASE for the rows ``by_token`` (claim token → row ids) of
    ``worker`` (id, epoch); returns the ids it changed (the others were taken over, or, for
    MARK, skipped)."""
    changed: set[int] = set()
    worker_id, epoch = worker
    for token, ids in by_token.items():
        params = {"ids": ids, "token": token, "now": now, "worker": worker_id, "epoch": epoch}
        found = conn.execute(statement, params)
        changed.update(int(row_id) for row_id in found.scalars())
    return changed


def update_many(conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> int:
    """Run FAIL or RESULT for every row of ``rows`` (each as for ``update_row``) in one
    statement; returns how many rows it changed (fewer than ``rows``: some were taken over,
    and only updates one by one tell which)."""
    return int(conn.execute(statement, rows).rowcount)


def update_row(conn: Connection, statement: Any, params: dict[str, Any]) -> bool:
    """Run FAIL or RESULT for one row (``row_id``, ``token``, ``worker``, ``epoch`` and
    ``expected`` among ``params``);
    False: it matched nothing (the row was taken over, or is not ``expected``)."""
    return conn.execute(statement, params).rowcount == 1
