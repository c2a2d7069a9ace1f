"""`contact import`: a CSV file of contacts into the store, all in one transaction.

The file is read once as a stream (twice when ``--create-properties`` must infer types): each
record is checked and the good ones wait in a temporary table, outside the write lock. Then one
``BEGIN IMMEDIATE`` transaction writes them (``import_writing``). A refusal of the whole file (no
email column, an unknown list, topic or map target, undecodable text, malformed CSV) or a kill at
any moment leaves the store as it was.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lettr_cli.audience import groups
from lettr_cli.audience.csv_reading import CsvFile, open_csv, resolve_encoding
from lettr_cli.audience.import_columns import ColumnPlan, infer_types, plan_columns
from lettr_cli.audience.import_rows import ContactRow, RowBuilder, RowError
from lettr_cli.audience.import_writing import Targets, staging_table, write_staged
from lettr_cli.audience.properties import all_properties
from lettr_cli.errors import ValidationError
from lettr_cli.store.engine import Store
from lettr_cli.store.types import new_ids, utcnow

ON_DUPLICATE = ("skip", "update")
STAGE_BATCH = 2000
PROGRESS_EVERY = 1000

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class ImportRequest:
    name: str  # how messages name the file ("contacts.csv", "stdin")
    lists: Sequence[str] = ()
    topics: Sequence[str] = ()
    on_duplicate: str = "skip"
    maps: Sequence[str] = ()
    create_properties: bool = False
    encoding: str | None = None
    # Double opt-in: the status of every contact created, and what else the same transaction
    # writes once the contacts are (given the staging table: ``contact_id`` is NULL for the
    # rows created, their id is ``id``).
    new_status: str | None = None
    after_write: Callable[[Connection, sa.Table, datetime], None] | None = None


@dataclass
class ImportSummary:
    """CONTRACT "Objects" → Import summary, plus what only people need to read."""

    created: int = 0
    updated: int = 0
    existing: int = 0
    duplicate_in_file: int = 0
    opt_out_kept_skipped: int = 0  # update mode: rows that would have re-subscribed
    opt_out_kept_created: int = 0  # suppressed addresses created with their old status
    added_to_groups: int = 0  # skip mode: existing contacts added to a --list or --topic only
    empty_rows: int = 0  # blank records, or records whose cells are all empty
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    new_properties: dict[str, str] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return self.existing + self.duplicate_in_file + self.opt_out_kept_skipped + self.empty_rows

    @property
    def opt_out_kept(self) -> int:
        return self.opt_out_kept_skipped + self.opt_out_kept_created

    def to_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "invalid": len(self.errors),
            "added_to_groups": self.added_to_groups,
            "skipped_by_reason": {
                "existing": self.existing,
                "duplicate_in_file": self.duplicate_in_file,
                "opt_out_kept": self.opt_out_kept,
                "empty_row": self.empty_rows,
            },
            "errors": [e.to_json() for e in self.errors],
        }


def import_contacts(
    store: Store, source: IO[bytes], request: ImportRequest, progress: Progress | None = None
) -> ImportSummary:
    """Import the CSV in ``source``; returns the summary. Refusals raise and change nothing."""
    encoding, definitions = _check_request(store, request)
    with ExitStack() as stack:
        if request.create_properties and not source.seekable():
            spool = stack.enter_context(tempfile.TemporaryFile())
            shutil.copyfileobj(source, spool)  # read twice: types first, then rows
            spool.seek(0)
            source = spool
        start = source.tell() if source.seekable() else 0
        total = _count_lines(source) if source.seekable() else None
        csv_file = open_csv(source, encoding=encoding, name=request.name)
        plan = plan_columns(
            csv_file.header,
            request.maps,
            definitions,
            create_properties=request.create_properties,
        )
        if plan.to_infer:
            types = infer_types(plan.to_infer, csv_file.records())
            plan = plan.with_types(types)
            source.seek(start)
            csv_file = open_csv(source, encoding=encoding, name=request.name)
        if total is not None:
            total = max(total - csv_file.header_line, 0)
        return _import(
            store,
            csv_file=csv_file,
            plan=plan,
            request=request,
            progress=progress or _quiet,
            total=total,
        )


def _check_request(store: Store, request: ImportRequest) -> tuple[str, dict[str, str]]:
    """The encoding, and the property definitions, once the request's options are checked."""
    if request.on_duplicate not in ON_DUPLICATE:
        raise ValidationError.field(
            "on_duplicate", f"--on-duplicate is skip or update, not '{request.on_duplicate}'"
        )
    encoding = resolve_encoding(request.encoding)
    with store.read() as session:
        definitions = {p.name: p.type for p in all_properties(session).values()}
        groups.find_all(session, groups.LISTS, request.lists)
        groups.find_all(session, groups.TOPICS, request.topics)
    return encoding, definitions


def check_import(store: Store, source: IO[bytes], request: ImportRequest) -> None:
    """Refuse now what ``import_contacts`` would refuse before reading rows (the options, the
    lists and topics, the encoding, the header and ``--map``), so a command can ask after it.
    A seekable ``source`` is read up to its header and put back where it was."""
    encoding, definitions = _check_request(store, request)
    if not source.seekable():
        return
    start = source.tell()
    csv_file = open_csv(source, encoding=encoding, name=request.name)
    plan_columns(
        csv_file.header, request.maps, definitions, create_properties=request.create_properties
    )
    source.seek(start)


def _import(
    store: Store,
    *,
    csv_file: CsvFile,
    plan: ColumnPlan,
    request: ImportRequest,
    progress: Progress,
    total: int | None,
) -> ImportSummary:
    summary = ImportSummary(warnings=list(plan.warnings))
    summary.new_properties = {c.name: c.type for c in plan.properties if c.new}
    staging = staging_table()
    with _no_cyclic_gc(), store.bulk() as conn:  # the staging table goes with the connection
        with conn.begin():
            staging.create(conn)
            _stage(
                conn,
                staging,
                csv_file=csv_file,
                plan=plan,
                summary=summary,
                progress=progress,
                total=total,
            )
        Store.begin_as(conn, "IMMEDIATE")
        with conn.begin():
            now = utcnow()
            outcome = write_staged(
                conn,
                staging,
                _targets(conn, request, summary.new_properties),
                update=request.on_duplicate == "update",
                now=now,
                new_status=request.new_status,
            )
            if request.after_write is not None:
                request.after_write(conn, staging, now)
    summary.created, summary.updated = outcome.created, outcome.updated
    summary.existing = outcome.existing
    summary.opt_out_kept_created = outcome.opt_out_kept_created
    summary.opt_out_kept_skipped = outcome.opt_out_kept_skipped
    summary.added_to_groups = outcome.added_to_groups
    summary.empty_rows = csv_file.empty_rows
    if outcome.not_opted_in:
        summary.warnings.append(_not_opted_in(outcome.not_opted_in, request.topics))
    return summary


def _not_opted_in(count: int, topics: Sequence[str]) -> str:
    who = "1 existing contact is" if count == 1 else f"{count} existing contacts are"
    return (
        f"{who} not subscribed: not opted in to {', '.join(topics)} "
        "(an import never opts in someone who opted out)"
    )


def _stage(
    conn: Connection,
    staging: sa.Table,
    *,
    csv_file: CsvFile,
    plan: ColumnPlan,
    summary: ImportSummary,
    progress: Progress,
    total: int | None,
) -> None:
    """Check every record; stage the good rows, first row first for each address."""
    seen: set[str] = set()
    batch: list[ContactRow] = []
    done = 0
    progress(0, total)
    builder = RowBuilder(plan)
    for line, cells in csv_file.records():
        row = builder.build(line, cells)
        if isinstance(row, RowError):
            summary.errors.append(row)
        elif row.key in seen:
            summary.duplicate_in_file += 1
        else:
            seen.add(row.key)
            batch.append(row)
            if len(batch) >= STAGE_BATCH:
                _insert(conn, staging, batch)
                batch = []
        done += 1
        if done % PROGRESS_EVERY == 0:
            progress(done, total if total is None or total >= done else None)
    if batch:
        _insert(conn, staging, batch)
    progress(done, done)


STAGED = ("line", "id", "email", "email_key", "status", "properties", "properties_folded")


def _insert(conn: Connection, staging: sa.Table, rows: list[ContactRow]) -> None:
    # The values are plain text and integers, so the statement SQLAlchemy compiles for this
    # database goes to the driver's executemany as is: no per-row parameter processing.
    statement = (
        staging.insert()
        .values({name: sa.bindparam(name) for name in STAGED})
        .compile(dialect=conn.dialect)
    )
    ids = new_ids(len(rows))
    values = [
        (
            row.line,
            contact_id,
            row.email,
            row.key,
            row.status,
            row.properties,
            row.properties_folded,
        )
        for row, contact_id in zip(rows, ids, strict=True)
    ]
    params: list[Any] = values
    if statement.positional:
        order = [STAGED.index(name) for name in statement.positiontup or ()]
        if order != list(range(len(STAGED))):
            params = [tuple(value[i] for i in order) for value in values]
    else:
        params = [dict(zip(STAGED, value, strict=True)) for value in values]
    conn.exec_driver_sql(str(statement), params)


def _targets(conn: Connection, request: ImportRequest, new_properties: dict[str, str]) -> Targets:
    from sqlmodel import Session

    # Looked up again under the lock: a list deleted meanwhile refuses the import.
    with Session(bind=conn) as session:
        lists = groups.find_all(session, groups.LISTS, request.lists)
        topics = groups.find_all(session, groups.TOPICS, request.topics)
        auto = [t for t in groups.opt_out_topics(session) if t not in topics]
        return Targets(
            list_ids=[(g.id, g.name) for g in lists],
            topic_ids=[(g.id, g.name) for g in topics],
            auto_topic_ids=[(g.id, g.name) for g in auto],
            new_properties=new_properties,
        )


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    # Rows are plain strings, tuples and dicts that never form cycles, so the cyclic collector
    # would only rescan every object the libraries hold, every few hundred rows: about a
    # tenth of an import's time, measured. Reference counting still frees everything.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _count_lines(source: IO[bytes]) -> int:
    """Lines in the rest of ``source`` (for progress), leaving its position where it was."""
    start = source.tell()
    count, last = 0, b"\n"
    while chunk := source.read(1 << 20):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    source.seek(start)
    return count + (last != b"\n")


def _quiet(_done: int, _total: int | None) -> None:
    return None
