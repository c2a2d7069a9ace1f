"""Schema step 16: per-worker leases (issue 17, "Sharing a campaign").

Several daemons share a campaign: each is a worker with a heartbeat written by the database's
clock and an epoch that moves when it is reaped; the outbox rows it claims carry its id and
epoch, so reaping a dead worker touches only its rows. The ``leases`` table stays, as the
per-campaign lock of preparing (one worker prepares; the others join once it is sending).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from lettr_cli.store.types import UTCDateTime

if TYPE_CHECKING:
    from alembic.operations import Operations


def m016_workers(op: Operations) -> None:
    # One row per running worker (a process driving one campaign). A reaped worker keeps its
    # row (heartbeat null, epoch moved) so that, if it was only asleep, it learns it was reaped.
    op.create_table(
        "workers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("heartbeat_at", UTCDateTime),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("reaped_at", UTCDateTime),
    )
    # Rows claimed before this step carry no worker: the first reaper puts them back.
    op.add_column("outbox", sa.Column("worker_id", sa.String(32), nullable=True))
    op.add_column("outbox", sa.Column("worker_epoch", sa.Integer, nullable=True))
    op.create_index("ix_outbox_worker", "outbox", ["worker_id", "status"])
