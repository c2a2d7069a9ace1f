"""`lettr store copy`: every table of one store into an empty store of either engine.

The source is read in one snapshot (SQLite's read transaction; REPEATABLE READ on PostgreSQL) and
the target is written in one transaction under its write lock, in foreign-key order: parents
before the rows that refer to them. Values go through the schema's own column types (UTC times,
JSON documents), so a copy reads back the same on the other engine. PostgreSQL's sequences are
moved past the copied ids, and the rows of every table are counted on both sides before the
commit: a difference rolls the whole copy back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from lettr_cli.errors import StoreUnavailable, ValidationError
from lettr_cli.store.engine import Store
from lettr_cli.store.location import StoreLocation
from lettr_cli.store.migrations import migrate, migrations_table, read_version
from lettr_cli.store.types import JSON_TYPE, UTCDateTime

BATCH = 2_000


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "rows": self.rows}


@dataclass(frozen=True)
class CopyResult:
    source: str
    target: str
    schema_version: int
    tables: list[TableCopy]

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "schema_version": self.schema_version,
            "tables": [t.to_json() for t in self.tables],
            "rows": sum(t.rows for t in self.tables),
        }


def same_store(source: Store, target: StoreLocation) -> bool:
    if source.file is not None and not isinstance(target, type(source.file)):
        return False
    if source.file is not None:
        return str(target) == str(source.file) or (
            target.exists() and target.resolve() == source.file.resolve()  # type: ignore[union-attr]
        )
    return str(target) == source.where


def copy_store(source: Store, target_location: StoreLocation) -> CopyResult:
    """Copy every row of ``source`` (migrated to this lettr's schema) into the empty store at
    ``target_location`` (created and migrated here). Refuses a target that holds any row, or
    tables that are not lettr's (``validation_error``); the target is left as it was then."""
    if same_store(source, target_location):
        raise ValidationError.field("to", "the target is the store itself: name another store")
    target = Store(target_location, busy_timeout=source.busy_timeout)
    try:
        _refuse_foreign_tables(target)
        version = migrate(target)
        with source.connect() as read:
            if read.dialect.name == "postgresql":
                read.execution_options(isolation_level="REPEATABLE READ")  # one snapshot
            with read.begin():
                source_version = read_version(read)
                if source_version != version:
                    raise ValidationError.field(
                        "to",
                        f"the stores have schema versions {source_version} and {version}: "
                        "open the older one with this lettr first",
                    )
                with target.connect("IMMEDIATE") as write, write.begin():
                    tables = _tables(write)
                    _refuse_rows(write, tables, target.where)
                    copied = [_copy_table(read, write, table) for table in tables]
                    _reset_sequences(write)
    finally:
        target.close()
    return CopyResult(source.where, target.where, version, copied)


def _refuse_foreign_tables(target: Store) -> None:
    with target.connect() as conn, conn.begin():
        names = set(sa.inspect(conn).get_table_names())
    if names and migrations_table.name not in names:
        shown = ", ".join(sorted(names)[:5])
        raise ValidationError.field(
            "to",
            f"the target {target.where} is not empty: it holds tables that are not a lettr "
            f"store's ({shown}); give an empty database or a new file",
        )


def _tables(conn: Connection) -> list[sa.Table]:
    """Every table of the target's schema but the migrations record, parents first, each with
    the schema's column types where the models know them."""
    reflected = sa.MetaData()
    reflected.reflect(conn)
    known = SQLModel.metadata.tables
    tables: list[sa.Table] = []
    for table in reflected.sorted_tables:
        if table.name == migrations_table.name:
            continue
        model = known.get(table.name)
        columns = [
            sa.Column(
                column.name,
                _portable(
                    model.c[column.name].type
                    if model is not None and column.name in model.c
                    else column.type
                ),
                primary_key=column.primary_key,
            )
            for column in table.columns
        ]
        tables.append(sa.Table(table.name, sa.MetaData(), *columns))
    return tables


def _portable(kind: Any) -> Any:
    if isinstance(kind, UTCDateTime):
        return kind
    if isinstance(kind, sa.DateTime):
        return UTCDateTime()
    if isinstance(kind, sa.JSON):
        return JSON_TYPE
    return kind


def _refuse_rows(conn: Connection, tables: list[sa.Table], where: str) -> None:
    for table in tables:
        if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one():
            raise ValidationError.field(
                "to",
                f"the target {where} is not empty (the table {table.name} has rows): "
                "`store copy` writes only into an empty store",
            )


def _copy_table(read: Connection, write: Connection, table: sa.Table) -> TableCopy:
    order = list(table.primary_key.columns) or list(table.columns)
    query = sa.select(table).order_by(*order)
    written = 0
    for batch in _batches(read.execute(query)):
        write.execute(table.insert(), batch)
        written += len(batch)
    expected = read.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    counted = write.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    if not expected == counted == written:
        raise StoreUnavailable(
            f"the copy of {table.name} has {counted} rows, the source {expected}: nothing "
            "was copied (the target's transaction was rolled back); run the command again"
        )
    return TableCopy(table.name, int(counted))


def _batches(result: sa.CursorResult[Any]) -> Iterator[list[dict[str, Any]]]:
    while rows := result.mappings().fetchmany(BATCH):
        yield [dict(row) for row in rows]


def _reset_sequences(conn: Connection) -> None:
    """Move each PostgreSQL sequence past the copied ids, so new rows do not collide."""
    if conn.dialect.name != "postgresql":
        return  # SQLite counts on from the largest rowid by itself
    owned = conn.execute(
        sa.text(
            "SELECT t.relname, a.attname, pg_get_serial_sequence(quote_ident(t.relname), "
            "a.attname) FROM pg_class t JOIN pg_attribute a ON a.attrelid = t.oid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = current_schema() AND t.relkind = 'r' AND a.attnum > 0 "
            "AND pg_get_serial_sequence(quote_ident(t.relname), a.attname) IS NOT NULL"
        )
    ).all()
    for table, column, sequence in owned:
        conn.execute(
            sa.text(
                f'SELECT setval(:seq, COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, '
                "false)"
            ),
            {"seq": sequence},
        )
