"""Stores built once per test session and copied into each test's LETTR_HOME.

Building an audience through the commands costs a second per test; copying a finished store
costs a millisecond. The template is built through the same services the commands call.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session

from lettr_cli.store.engine import Store
from lettr_cli.store.location import create_private_file
from lettr_cli.store.migrations import migrate


def build_template(
    factory: pytest.TempPathFactory, name: str, build: Callable[[Session], None]
) -> Path:
    """A store file built by ``build`` in one write transaction."""
    folder = factory.mktemp(name)
    store = Store(folder / "work.db")
    try:
        migrate(store)
        with store.write() as session:
            build(session)
        template = folder / "template.db"
        store.backup(template)  # one self-contained file, no WAL beside it
    finally:
        store.close()
    return template


def install(template: Path, home: Path) -> Path:
    """Copy ``template`` to be the store of ``home`` (the test's LETTR_HOME), or, in a
    PostgreSQL variant (LETTR_DB set), into the test's database with ``store copy``."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    configured = os.environ.get("LETTR_DB")
    if configured:
        from lettr_cli.store.copying import copy_store
        from lettr_cli.store.location import parse_location

        source = Store(template)
        try:
            copy_store(source, parse_location(configured))
        finally:
            source.close()
        return template
    target = home / "lettr.db"
    create_private_file(target)
    target.write_bytes(template.read_bytes())
    return target
