"""The pieces an import is built from: ids in bulk, JSON documents, the bulk connection."""

from __future__ import annotations

import json
import string
import uuid
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from lettr_cli.audience.contacts import folded_values
from lettr_cli.audience.import_rows import documents
from lettr_cli.store.engine import Store
from lettr_cli.store.types import new_ids

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
VALUES = st.one_of(
    st.text(),
    st.sampled_from(["ß", "İstanbul", "ΣΑΣ", "ﬁ", '"quoted"', "back\\slash", "tab\tnew\nline\x00"]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.text(string.ascii_letters), max_size=3),
)


def test_new_ids_are_distinct_uuid4_strings() -> None:
    ids = new_ids(5000)
    assert len(set(ids)) == 5000
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text
    assert new_ids(0) == []


@given(st.dictionaries(NAMES, VALUES, max_size=8))
def test_documents_are_the_json_of_the_values_and_of_their_folded_copies(
    properties: dict[str, object],
) -> None:
    text, folded = documents(properties)
    assert json.loads(text) == properties
    assert json.loads(folded) == folded_values(properties)


@given(st.dictionaries(NAMES, st.text(), max_size=8))
def test_documents_of_string_values_fold_like_folded_values(properties: dict[str, str]) -> None:
    _, folded = documents(properties)
    assert json.loads(folded) == {k: v.casefold() for k, v in properties.items()}


def test_a_bulk_connection_takes_its_cache_and_temporary_tables_with_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    try:
        with store.connect() as conn, conn.begin():
            usual = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
        with store.bulk(cache_kib=8192) as conn:
            with conn.begin():
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -8192
                conn.exec_driver_sql("CREATE TEMPORARY TABLE scratch (x INTEGER)")
            Store.begin_as(conn, "IMMEDIATE")
            with conn.begin():
                conn.exec_driver_sql("INSERT INTO scratch VALUES (1)")
        with store.connect() as conn, conn.begin():
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == usual
            temporary = conn.exec_driver_sql("SELECT name FROM sqlite_temp_master").all()
            assert temporary == []
    finally:
        store.close()
