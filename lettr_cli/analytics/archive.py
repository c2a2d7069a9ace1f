"""The 30-day event archive (reference §16; DESIGN "Tracking, feedback, analytics").

Once 30 days have passed since a campaign was sent, its events leave the store for a CSV beside
it, ``<store folder>/events-archive/<campaign id>.csv``, or ``$LETTR_HOME/events-archive`` when
the store is on a server (0600, the header once, columns as the
Event's JSON keys plus ``campaign_id``). Counters stay on the campaign, and clicks per link in
``link_clicks``, so reports keep them (top links and unsubscribe methods included).

Crash safety: rows are appended and fsynced *before* they are deleted in one transaction. A
crash in between leaves rows in the store that are already in the file; the next pass reads the
file's event ids and appends only the others, so nothing is written twice. A crash in the middle
of an append leaves a torn last record, which the next pass cuts off before it appends (those
rows were not deleted).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from lettr_cli import ledger
from lettr_cli.analytics.events import EVENT_KEYS, event_json
from lettr_cli.store.engine import Store
from lettr_cli.store.location import PRIVATE_FILE_MODE, make_private_dirs
from lettr_cli.store.tables import Campaign, Event, table_of
from lettr_cli.store.types import UTCDateTime, utcnow

events = table_of(Event)
campaigns = table_of(Campaign)

WINDOW = timedelta(days=30)
BATCH = 5000
COLUMNS = (*EVENT_KEYS, "campaign_id")
FOLDER = "events-archive"


@dataclass
class ArchiveResult:
    archived: dict[str, int] = field(default_factory=dict)  # campaign id → rows moved


def archive_folder(store: Store, home: Path | None = None) -> Path:
    """Beside the store file; under ``home`` ($LETTR_HOME) when the store is not a file."""
    if store.file is not None:
        return store.file.parent / FOLDER
    if home is None:
        raise ValueError("a store on a server keeps its archive under LETTR_HOME: pass home")
    return home / FOLDER


def due_campaigns(store: Store, now: datetime) -> list[str]:
    """Campaigns sent more than 30 days ago that still have events in the store (one indexed
    lookup per such campaign: cheap when nothing is due)."""
    cutoff = sa.literal(now - WINDOW, UTCDateTime)
    has_events = sa.select(events.c.id).where(events.c.campaign_id == campaigns.c.id).exists()
    query = (
        sa.select(campaigns.c.id)
        .where(campaigns.c.sent_at.is_not(None), campaigns.c.sent_at < cutoff, has_events)
        .order_by(campaigns.c.sent_at, campaigns.c.id)
    )
    with store.connect() as conn, conn.begin():
        return [str(cid) for cid in conn.execute(query).scalars()]


def archive_due(
    store: Store, *, now: datetime | None = None, home: Path | None = None
) -> ArchiveResult:
    """Move the events of every campaign past its 30-day window to its archive CSV
    (``archive_folder``: ``home`` is where it goes when the store is on a server)."""
    result = ArchiveResult()
    due = due_campaigns(store, now or utcnow())
    if not due:
        return result
    folder = archive_folder(store, home)
    make_private_dirs(folder)
    with _exclusive(folder) as held:
        if not held:  # another process is archiving now; the next pass finishes the rest
            return result
        for campaign_id in due:
            moved = archive_campaign(store, campaign_id, folder / f"{campaign_id}.csv")
            if moved:
                result.archived[campaign_id] = moved
    return result


@contextmanager
def _exclusive(folder: Path) -> Iterator[bool]:
    """One archiver at a time (two ``daemon tick`` from cron may overlap)."""
    import fcntl

    fd = os.open(folder / ".lock", os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def archive_campaign(store: Store, campaign_id: str, path: Path) -> int:
    """Append the campaign's events to ``path`` (skipping those already there), fsync, then
    delete them; batch after batch until none is left. Returns the rows deleted."""
    written = _repair_and_read_ids(path)
    moved = 0
    while True:
        query = (
            sa.select(events)
            .where(events.c.campaign_id == campaign_id)
            .order_by(events.c.at, events.c.id)
            .limit(BATCH)
        )
        with store.connect() as conn, conn.begin():
            rows = list(conn.execute(query))
        if not rows:
            return moved
        fresh = [row for row in rows if row.event_id not in written]
        if fresh:
            _append(path, ([*_csv_values(event_json(r)), campaign_id] for r in fresh))
            written.update(row.event_id for row in fresh)
        ids = [int(row.id) for row in rows]
        with store.connect("IMMEDIATE") as conn, conn.begin():
            ledger.drop_events(conn, ids)
        moved += len(ids)


def _csv_values(body: dict[str, object]) -> list[object]:
    values: list[object] = []
    for key in EVENT_KEYS:
        value = body[key]
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        elif isinstance(value, bool):
            value = "true" if value else "false"
        values.append("" if value is None else value)
    return values


def _append(path: Path, rows: Iterator[list[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    new = not path.exists() or path.stat().st_size == 0
    if new:
        writer.writerow(COLUMNS)
    writer.writerows(rows)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        os.write(fd, buffer.getvalue().encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _repair_and_read_ids(path: Path) -> set[str]:
    """The event ids already archived in ``path``; a torn last record (a crash mid-append) is
    cut off first."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    ids: set[str] = set()
    good_end = 0
    offset = 0

    def lines() -> Iterator[str]:
        nonlocal offset
        while offset < len(data):
            start = offset
            end = data.find(b"\n", start)
            offset = len(data) if end < 0 else end + 1
            yield data[start:offset].decode("utf-8", errors="replace")

    reader = csv.reader(lines(), strict=True)
    try:
        for record in reader:
            if offset > len(data) or not data[:offset].endswith(b"\n"):
                break
            if len(record) != len(COLUMNS):
                break
            good_end = offset
            if record[0] != COLUMNS[0]:
                ids.add(record[0])
    except csv.Error:
        pass
    if good_end < len(data):
        with path.open("r+b") as handle:
            handle.truncate(good_end)
            handle.flush()
            os.fsync(handle.fileno())
    return ids
