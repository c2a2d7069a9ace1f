"""The demo's audience: the bundled sample imported into a list (through the same importer as
`lettr contact import`), extra generated contacts when more recipients are asked for, and a
segment over the list."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from lettr_cli.audience import groups
from lettr_cli.audience.importer import ImportRequest, Progress, import_contacts
from lettr_cli.audience.segments.service import Definition, create_segment, segment_json
from lettr_cli.demo import SAMPLE_FILE, sample_audience_text
from lettr_cli.errors import ValidationError
from lettr_cli.workspace import Workspace

SAMPLE_LIST = "Sample audience"
SEGMENT = "Pro and business"
SEGMENT_WHERE = "(plan equals pro or plan equals business)"
SUBSCRIBED = "subscribed"
MAX_RECIPIENTS = 100_000


@dataclass(frozen=True)
class AudienceRows:
    """The CSV the demo imports: sample rows (in file order), then generated ones."""

    text: str
    columns: list[str]
    sample_rows: int
    generated: int
    recipients: int  # subscribed rows: the campaign's recipients


def sample_recipients() -> int:
    """How many subscribed contacts the bundled sample has: the demo's default audience."""
    rows = csv.DictReader(io.StringIO(sample_audience_text()))
    return sum(row["status"] == SUBSCRIBED for row in rows)


def audience_rows(recipients: int | None = None) -> AudienceRows:
    """Rows for exactly ``recipients`` subscribed contacts (default: the whole sample).

    Fewer than the sample has: the sample up to its ``recipients``-th subscribed row. More:
    the whole sample and ``demo-0001@example.org``... subscribed, each with the properties of
    a sample contact (deterministic, so two runs import the same file).
    """
    if recipients is not None and not 1 <= recipients <= MAX_RECIPIENTS:
        raise ValidationError.field(
            "recipients", f"the demo sends to 1–{MAX_RECIPIENTS:,} recipients"
        )
    reader = csv.DictReader(io.StringIO(sample_audience_text()))
    columns = list(reader.fieldnames or [])
    sample = list(reader)
    available = sum(row["status"] == SUBSCRIBED for row in sample)
    wanted = available if recipients is None else recipients
    kept: list[dict[str, Any]] = []
    count = 0
    for row in sample:
        if count >= wanted:
            break
        kept.append(row)
        count += row["status"] == SUBSCRIBED
    generated = max(wanted - available, 0)
    width = max(4, len(str(generated)))
    for number in range(1, generated + 1):
        model = sample[(number - 1) % len(sample)]
        kept.append(
            {**model, "email": f"demo-{number:0{width}d}@example.org", "status": SUBSCRIBED}
        )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(kept)
    return AudienceRows(
        text=out.getvalue(),
        columns=columns,
        sample_rows=len(kept) - generated,
        generated=generated,
        recipients=wanted,
    )


@dataclass(frozen=True)
class DemoAudience:
    rows: AudienceRows
    imported: dict[str, Any]  # the import summary (CONTRACT "Objects")
    new_properties: dict[str, str]
    segment_count: int


def build_audience(
    workspace: Workspace, recipients: int | None = None, progress: Progress | None = None
) -> DemoAudience:
    """Create the list, import the rows into it, and create the segment over it."""
    rows = audience_rows(recipients)
    with workspace.store.write() as session:
        groups.create(session, groups.LISTS, SAMPLE_LIST)
    request = ImportRequest(name=SAMPLE_FILE, lists=[SAMPLE_LIST], create_properties=True)
    summary = import_contacts(
        workspace.store, io.BytesIO(rows.text.encode("utf-8")), request, progress
    )
    with workspace.store.write() as session:
        segment = create_segment(
            session, SEGMENT, Definition(where=SEGMENT_WHERE), list_name=SAMPLE_LIST
        )
        count = int(segment_json(session, segment)["contacts_count"])
    return DemoAudience(
        rows=rows,
        imported=summary.to_json(),
        new_properties=dict(summary.new_properties),
        segment_count=count,
    )
