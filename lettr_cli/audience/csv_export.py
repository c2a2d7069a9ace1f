"""`contact export`: every contact matching the `contact list` filters, as CSV, streamed.

Columns: ``email, status``, every property in name order, ``lists, topics`` (names joined with
``; ``), ``created_at, updated_at``. Values are written so that `contact import` reads them back
unchanged: dates ``YYYY-MM-DD``, booleans ``true``/``false``, numbers as Python writes them, json
values as compact JSON, and formula-like cells guarded with a leading ``'`` (``formulas``).
"""

from __future__ import annotations

import csv
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlmodel import Session, col

from lettr_cli.audience.contacts import ContactFilter, filtered, memberships
from lettr_cli.audience.formulas import guard
from lettr_cli.audience.properties import all_properties
from lettr_cli.errors import ValidationError
from lettr_cli.store.location import create_private_file
from lettr_cli.store.tables import Contact

BATCH = 1000
LIST_SEPARATOR = "; "


def write_contacts(session: Session, chosen: ContactFilter, out: TextIO) -> int:
    """Write the matching contacts to ``out`` as CSV, oldest first; returns how many."""
    query = filtered(session, chosen).order_by(col(Contact.created_at), col(Contact.email_key))
    definitions = {name: prop.type for name, prop in all_properties(session).items()}
    writer = csv.writer(out)
    writer.writerow(
        ["email", "status", *definitions, "lists", "topics", "created_at", "updated_at"]
    )
    count = 0
    for batch in session.exec(query.execution_options(yield_per=BATCH)).partitions():
        lists, topics = memberships(session, [c.id for c in batch])
        for contact in batch:
            values = contact.properties
            writer.writerow(
                [
                    guard(contact.email),
                    contact.status,
                    *(cell(kind, values.get(name)) for name, kind in definitions.items()),
                    guard(LIST_SEPARATOR.join(g["name"] for g in lists[contact.id])),
                    guard(LIST_SEPARATOR.join(g["name"] for g in topics[contact.id])),
                    _timestamp(contact.created_at),
                    _timestamp(contact.updated_at),
                ]
            )
        count += len(batch)
    return count


def cell(kind: str, value: Any) -> str:
    """The CSV cell for a property value of type ``kind`` (empty when unset)."""
    if value is None:
        return ""
    if kind == "json" or isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(value)
    return guard(text)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def export_to_file(session: Session, chosen: ContactFilter, path: Path) -> int:
    """Write the export to ``path`` (0600), whole or not at all; returns how many contacts.

    The rows go to a private file beside ``path`` that is renamed over it at the end, so an
    interrupted export never leaves half a file (nor destroys the file it was replacing).
    """
    path = path.expanduser().absolute()
    if path.is_dir():
        raise ValidationError.field("file", f"{path} is a folder; name a file")
    filtered(session, chosen)  # unknown lists or topics are refused before any file is made
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    create_private_file(temporary)
    try:
        with temporary.open("w", encoding="utf-8", newline="") as out:
            count = write_contacts(session, chosen, out)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return count
