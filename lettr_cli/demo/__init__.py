"""The demo: a throwaway store built from data that ships inside the package.

The audience is the same data as ``sample_audience.csv`` at the repository root; it is read with
``importlib.resources`` so that the demo works from a plain (non-editable) install, and goes
into the store through the same importer as `lettr contact import`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from lettr_cli.audience import groups
from lettr_cli.audience.importer import ImportRequest, import_contacts
from lettr_cli.store.location import STORE_FILENAME
from lettr_cli.store.tables import Contact
from lettr_cli.workspace import Workspace

SAMPLE_FILE = "sample_audience.csv"
SAMPLE_LIST = "Sample audience"


def sample_audience_text() -> str:
    """The bundled sample audience as CSV text."""
    return resources.files(__package__).joinpath(SAMPLE_FILE).read_text(encoding="utf-8")


@dataclass
class DemoOutcome:
    db: Path
    schema_version: int
    contacts: int
    statuses: dict[str, int]
    columns: list[str]
    imported: dict[str, Any] = field(default_factory=dict)  # the import summary (CONTRACT)
    steps: list[str] = field(default_factory=list)


def build_demo(folder: Path) -> DemoOutcome:
    """Build everything the demo can build today in ``folder`` (a temporary directory).

    The store lives only in ``folder``; the user's own store and environment are not touched.
    """
    workspace = Workspace.open(folder / STORE_FILENAME, home=folder, environ={})
    try:
        workspace.set_config("plan.tier", "enterprise")
        workspace.set_config("sender.postal_address", "lettr demo, 1 Example Street, Springfield")
        with workspace.store.write() as session:
            groups.create(session, groups.LISTS, SAMPLE_LIST)
        request = ImportRequest(name=SAMPLE_FILE, lists=[SAMPLE_LIST], create_properties=True)
        with resources.files(__package__).joinpath(SAMPLE_FILE).open("rb") as source:
            summary = import_contacts(workspace.store, source, request)
        with workspace.store.read() as session:
            statuses = dict(
                session.exec(
                    select(Contact.status, func.count()).group_by(col(Contact.status))
                ).all()
            )
        created = ", ".join(f"{name} ({kind})" for name, kind in summary.new_properties.items())
        return DemoOutcome(
            db=workspace.store.path,
            schema_version=workspace.schema_version,
            contacts=sum(statuses.values()),
            statuses=statuses,
            columns=next(csv.reader(io.StringIO(sample_audience_text()))),
            imported=summary.to_json(),
            steps=[
                "created a temporary store (SQLite, WAL, private files)",
                "set plan.tier = enterprise and a sender postal address",
                f"imported the bundled sample audience into the list '{SAMPLE_LIST}', "
                f"creating the properties {created}",
            ],
        )
    finally:
        workspace.close()
