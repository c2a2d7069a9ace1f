"""`lettr demo`: show lettr end to end on embedded defaults, touching nothing of the user's."""

from __future__ import annotations

import tempfile
from pathlib import Path

from lettr_cli.cli.output import emit_line, say

NOT_YET = (
    "verifying a sender domain through the loopback DNS responder",
    "writing a campaign from the bundled template",
    "sending it to the built-in SMTP server with live progress",
)


def demo() -> None:
    """Run a demonstration in a temporary store (no relay or configuration needed)."""
    from lettr_cli.demo import build_demo

    with tempfile.TemporaryDirectory(prefix="lettr-demo-") as folder:
        outcome = build_demo(Path(folder))
        for step in outcome.steps:
            say(f"✓ {step}")
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(outcome.statuses.items()))
        emit_line(
            f"Demo store: {outcome.db} (schema version {outcome.schema_version}, removed on exit)"
        )
        summary = outcome.imported
        emit_line(
            f"Import: {summary['created']} created, {summary['updated']} updated, "
            f"{summary['skipped']} skipped, {summary['invalid']} invalid"
        )
        emit_line(f"Sample audience: {outcome.contacts} contacts ({statuses})")
        emit_line(f"Columns: {', '.join(outcome.columns)}")
    emit_line("Not in this version of lettr yet, so the demo stops here:")
    for item in NOT_YET:
        emit_line(f"  - {item}")
