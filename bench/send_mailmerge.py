"""mailmerge 2.x, the reference of ``bench/send.py``: the same campaign as close as mailmerge
gets (the same merge fields and HTML, a plain-text part, links untracked, a static unsubscribe
URL) in a folder of its own with the audience and the sink's address, the size of the message
it builds, and a timed ``mailmerge --no-dry-run`` run, one connection per message, whose count
is checked against its own output and the sink's.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import sys
from pathlib import Path

from send_measure import Run, timed
from send_sink import Sink, check_sink
from send_workloads import SUBJECT, Workload


def mailmerge_template(workload: Workload) -> str:
    """The campaign as close as mailmerge gets: the same merge fields and HTML, a plain-text
    part, links untracked, a static unsubscribe URL (mailmerge has none of its own)."""
    html = workload.html.replace(
        "{{ unsubscribe_link }}", "https://example.com/unsubscribe?email={{ email }}"
    )
    html = html.replace("{{ webversion_link }}", "https://example.com/news/autumn")
    text = re.sub(r"<[^>]+>", "", re.split(r"<body[^>]*>", html)[1]).replace("&amp;", "&")
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    return (
        "TO: {{ email }}\n"
        f"SUBJECT: {SUBJECT}\n"
        "FROM: Example News <news@example.com>\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="lettr-bench-boundary"\n'
        "\n"
        "--lettr-bench-boundary\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "\n"
        f"{text}\n"
        "\n"
        "--lettr-bench-boundary\n"
        "Content-Type: text/html; charset=utf-8\n"
        "\n"
        f"{html}\n"
        "--lettr-bench-boundary--\n"
    )


def mailmerge_folder(folder: Path, audience: Path, port: int, workload: Workload) -> Path:
    where = folder / f"mailmerge-{workload.key}"
    where.mkdir()
    template = mailmerge_template(workload)
    (where / "mailmerge_template.txt").write_text(template, encoding="utf-8")
    shutil.copyfile(audience, where / "mailmerge_database.csv")
    (where / "mailmerge_server.conf").write_text(
        f"[smtp_server]\nhost = 127.0.0.1\nport = {port}\nratelimit = 0\n", encoding="utf-8"
    )
    return where


def mailmerge_message_bytes(where: Path) -> int:
    from mailmerge.template_message import TemplateMessage  # type: ignore[import-untyped]

    with (where / "mailmerge_database.csv").open(encoding="utf-8") as rows:
        first = next(csv.DictReader(rows))
    _, _, message = TemplateMessage(where / "mailmerge_template.txt").render(first)
    return len(str(message).replace("\n", "\r\n").encode())


def run_mailmerge(where: Path, sink: Sink, expected: int) -> Run:
    command = shutil.which("mailmerge", path=str(Path(sys.executable).parent)) or "mailmerge"
    before = sink.count()
    output = where / "output.txt"
    args = [command, "--no-dry-run", "--no-limit", "--output-format", "raw"]
    run = timed(
        args, dict(os.environ), cwd=where, stdout_file=output, stderr_file=where / "errors.txt"
    )
    with output.open("rb") as lines:
        sent = sum(1 for line in lines if re.match(rb">>> message \d+ sent", line))
    if sent != expected:
        raise SystemExit(f"mailmerge says it sent {sent} messages, not {expected}")
    check_sink(sink, before, expected, "mailmerge")
    return run
