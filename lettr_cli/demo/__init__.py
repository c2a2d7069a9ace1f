"""The demo: a throwaway store built from data that ships inside the package.

The audience is the same data as ``sample_audience.csv`` at the repository root; it is read with
``importlib.resources`` so that the demo works from a plain (non-editable) install.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from lettr_cli.store.location import STORE_FILENAME
from lettr_cli.workspace import Workspace


def sample_audience_text() -> str:
    """The bundled sample audience as CSV text."""
    return resources.files(__package__).joinpath("sample_audience.csv").read_text(encoding="utf-8")


def sample_audience_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(sample_audience_text())))


@dataclass
class DemoOutcome:
    db: Path
    schema_version: int
    contacts: int
    statuses: dict[str, int]
    columns: list[str]
    steps: list[str] = field(default_factory=list)


def build_demo(folder: Path) -> DemoOutcome:
    """Build everything the demo can build today in ``folder`` (a temporary directory).

    The store lives only in ``folder``; the user's own store and environment are not touched.
    """
    workspace = Workspace.open(folder / STORE_FILENAME, home=folder, environ={})
    try:
        workspace.set_config("plan.tier", "enterprise")
        workspace.set_config("sender.postal_address", "lettr demo, 1 Example Street, Springfield")
        rows = sample_audience_rows()
        return DemoOutcome(
            db=workspace.store.path,
            schema_version=workspace.schema_version,
            contacts=len(rows),
            statuses=dict(Counter(row["status"] for row in rows)),
            columns=list(rows[0]) if rows else [],
            steps=[
                "created a temporary store (SQLite, WAL, private files)",
                "set plan.tier = enterprise and a sender postal address",
                "read the bundled sample audience",
            ],
        )
    finally:
        workspace.close()
