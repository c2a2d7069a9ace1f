"""Messages per second: `lettr campaign send` beside mailmerge 2.x, a bare aiosmtplib loop and a
pipelined raw loop, all into one SMTP sink, in one run, for a grid of three messages.

Set up from a clean clone (not run by CI):

    pip install -e '.[bench]'          # mailmerge, sqlite-utils
    apt-get install postfix            # /usr/sbin/smtp-sink, the sink
    python bench/send.py [--recipients 5000] [--big 100000] [--skip-big]
        [--workloads short,medium,newsletter] [--concurrency N] [--baseline ../other-checkout]
        [--sink smtp-sink|lettr|aiosmtpd] [--profile] [--dir DIR] [--pg-url URL | --skip-pg]

The sink (``bench/send_sink.py``) is Postfix's ``smtp-sink``, a C process of its own on a free
loopback port that answers everything at once, announces PIPELINING and counts messages. Without it
the bench uses ``lettr sink`` if this lettr has that command, else a small aiosmtpd process, and
says that its ratios are not comparable with the goals (a Python sink is as slow as the clients it
serves).

Defaults as a user gets them: lettr's own settings (``sending.concurrency`` included, unless
``--concurrency`` says otherwise, which the report, ``bench/send_report.py``, then flags), 5,000
recipients, and start-up counted. The only settings a run changes are the relay's address
(``smtp.host``, ``smtp.port``, ``smtp.security none`` on loopback), ``plan.tier enterprise`` (no
plan limit on 100,000 recipients) and ``tracking.base_url`` (links tracked, as a user's are).

The grid (``bench/send_workloads.py``): a short note (~1.4 KB of HTML, 2 links), the 8 KB message
(~3.6 KB of HTML, 8 links, ~8 KB once built as multipart), and a newsletter (~25 KB of HTML, 30
links, table layout, inline styles). For each: mailmerge sends the same HTML and merge fields
(``bench/send_mailmerge.py``); then lettr unsigned and DKIM-signed (``domain add --no-dkim`` or
not), each timed as the wall time of ``lettr campaign send ID --yes`` as a subprocess from start to
exit (plus ``lettr campaign approve ID`` when the risk check parks it), on a fresh copy of a store
set up through the commands a user types (``bench/send_store.py``: properties, a list, ``contact
import``, ``domain add example.com`` verified through the loopback DNS responder as the tests do,
one campaign per message with merge tags, tracked links and ``{{ unsubscribe_link }}``). Afterwards
the outbox must say that every row is ``sent`` and the sink must have counted N more messages.
``--baseline DIR`` also runs the lettr of another checkout (``PYTHONPATH=DIR``) on the same copies,
alternating with this one.

The ceilings, per message: ``concurrency`` aiosmtplib connections (``sendmail()``, four round
trips a message) and as many bare asyncio streams with MAIL+RCPT+DATA pipelined (two round trips,
almost no Python: the transport's limit), both sending pre-built messages of lettr's size, timed
from the first connect to the last reply (``bench/send_ceiling.py``). mailmerge sends over one
connection per message.

Preparing (recipients resolved into the outbox) is timed through the library
(``bench/send_store.py``) on a copy of each store made just before its send (``lettr store
backup``): in a fresh process, the campaign is started as ``campaign send`` starts it and
``prepare_campaign`` runs in its own write transaction, commit included. When the real send parks in
review, the same step is also read from the store between the two commands (the outbox rows'
``updated_at``, taken as preparing begins, to the campaign's, taken as it ends; commit excluded).

The short note and the newsletter are also sent, signed, with the store on PostgreSQL: one
``campaign send`` and three ``daemon run`` processes sharing the campaign, beside the SQLite row
(``bench/send_postgres.py`` says how; ``--skip-pg`` leaves them out).

Peak RSS is the highest sum of VmRSS over the command's process tree, sampled from /proc every 50 ms
(and never below the kernel's ru_maxrss for the command; ``bench/send_measure.py``). ``--profile``
(``bench/send_profile.py``) sends the unsigned short note once more, from a copy of its store, under
cProfile in every thread (``python -m cProfile`` alone sees only the main thread, not the render and
writer threads) and prints the top 25 lines by cumulative time. Not run by CI; needs the ``bench``
extra.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import send_postgres
from send_ceiling import ceiling
from send_mailmerge import mailmerge_folder, mailmerge_message_bytes, run_mailmerge
from send_measure import LETTR, Run, timed
from send_profile import profiled, run_profile
from send_report import Row, grid, memory, report
from send_sink import Sink, check_sink, choose_sink, serve_aiosmtpd
from send_store import (
    Store,
    measure_preparing,
    prepare_on_copy,
    read_store_times,
    set_up_store,
    write_audience,
)
from send_workloads import WORKLOADS

HERE = Path(__file__).resolve()
PG_WORKLOADS = ("short", "newsletter")  # the messages also sent with the store on PostgreSQL


# -- the timed send ---------------------------------------------------------------------------
def send_campaign(
    store: Store, key: str, sink: Sink, folder: Path, source: Path | None = None
) -> Run:
    """The timed part: `campaign send`, and `campaign approve` if it parks in review, on a copy
    of the store made just before (so every run starts from the same store). ``source``: run
    the lettr in that checkout instead of this one (``--baseline``)."""
    campaign = store.campaigns[key]
    store.sends += 1
    copy = folder / f"{store.home.name}-send-{store.sends}.db"
    store.lettr("store", "backup", str(copy), "--yes")
    env = {**store.env, "LETTR_DB": str(copy)}
    if source is not None:
        env["PYTHONPATH"] = str(source)
    before = sink.count()
    log = folder / f"{store.home.name}-send.log"
    run = timed([*LETTR, "campaign", "send", campaign, "--yes"], env, stderr_file=log)
    status, store.prepare_in_command = read_store_times(copy, campaign)
    if status == "in_review":
        approve = [*LETTR, "campaign", "approve", campaign]
        run = run + timed(approve, env, stderr_file=log)
    done = subprocess.run(
        [*LETTR, "campaign", "show", campaign, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    shown = json.loads(done.stdout)
    sent = shown["outbox"]["sent"]
    if shown["status"] != "sent" or sent != store.recipients:
        raise SystemExit(f"{store.label}: {shown['status']}, outbox {shown['outbox']}; see {log}")
    check_sink(sink, before, store.recipients, store.label)
    for leftover in copy.parent.glob(copy.name + "*"):
        leftover.unlink()
    return run


# -- the transport ceiling --------------------------------------------------------------------
def run_ceiling(kind: str, sink: Sink, count: int, concurrency: int, sample: Path) -> Run:
    before = sink.count()
    args = [
        sys.executable,
        str(HERE),
        "_ceiling",
        kind,
        str(sink.port),
        str(count),
        str(concurrency),
        str(sample),
    ]
    run = timed(args, dict(os.environ))
    body = json.loads(run.stdout)
    if body["sent"] != count:
        raise SystemExit(f"the {kind} loop sent {body['sent']} messages, not {count}")
    check_sink(sink, before, count, kind)
    run.wall = body["seconds"]  # sending only, not building the messages or starting Python
    return run


# -- main -------------------------------------------------------------------------------------
@contextlib.contextmanager
def work_folder(given: Path | None) -> Iterator[Path]:
    if given:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    folder = Path(tempfile.mkdtemp(prefix="lettr-bench-send-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=5_000)
    parser.add_argument("--big", type=int, default=100_000, help="recipients of the memory run")
    parser.add_argument("--skip-big", action="store_true", help="leave the memory run out")
    parser.add_argument(
        "--concurrency", type=int, help="sending.concurrency (default: lettr's own default)"
    )
    parser.add_argument(
        "--workloads",
        default=",".join(w.key for w in WORKLOADS),
        help="which messages, comma-separated (short, medium, newsletter)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another lettr checkout: its `campaign send` runs too, alternating (A/B)",
    )
    parser.add_argument("--sink", choices=["smtp-sink", "lettr", "aiosmtpd"])
    parser.add_argument("--profile", action="store_true", help="profile the short-note send")
    parser.add_argument("--dir", type=Path, help="where the files go, kept (default: temp)")
    send_postgres.add_options(parser)
    options = parser.parse_args()

    with work_folder(options.dir) as folder, send_postgres.server(options) as pg:
        sink = Sink(choose_sink(options.sink), folder)
        try:
            bench(options, folder, sink, pg)
        finally:
            sink.stop()


def bench(
    options: argparse.Namespace, folder: Path, sink: Sink, pg: send_postgres.Server | None
) -> None:
    n, c = options.recipients, options.concurrency
    keys = options.workloads.split(",")
    workloads = [w for w in WORKLOADS if w.key in keys]
    print(f"sink: {sink.label}, 127.0.0.1:{sink.port}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    if pg is not None:
        print(pg.describe())
    audience = folder / f"audience-{n}.csv"
    write_audience(audience, n)
    setup = {"port": sink.port, "c": c, "workloads": workloads}
    signed = set_up_store("lettr signed", folder, audience, n, dkim=True, **setup)  # type: ignore[arg-type]
    unsigned = set_up_store("lettr unsigned", folder, audience, n, dkim=False, **setup)  # type: ignore[arg-type]
    if c is None:
        c = int(signed.lettr("config", "get", "sending.concurrency").stdout.strip())
        print(f"setting up: {n:,} recipients, lettr's default sending.concurrency ({c})")
    else:
        print(f"setting up: {n:,} recipients, sending.concurrency {c} (NOT the default)")
    big: Store | None = None
    if not options.skip_big:
        print(f"setting up: {options.big:,} recipients", flush=True)
        big_audience = folder / f"audience-{options.big}.csv"
        write_audience(big_audience, options.big)
        medium = [w for w in WORKLOADS if w.key == "medium"]
        big = set_up_store(
            "lettr big",
            folder,
            big_audience,
            options.big,
            dkim=True,
            **{**setup, "workloads": medium},  # type: ignore[arg-type]
        )
        big_audience.unlink()
        measure_preparing(big, folder, "medium")
    for store in (signed, unsigned):
        for workload in workloads:
            measure_preparing(store, folder, workload.key)
    variants = [""] + ([f" ({options.baseline.name})"] if options.baseline else [])
    sources: list[Path | None] = [None] + ([options.baseline] if options.baseline else [])
    results: dict[str, dict[str, Row]] = {}
    small: Row | None = None
    for workload in workloads:
        key = workload.key
        merge = mailmerge_folder(folder, audience, sink.port, workload)
        sample = signed.sample(key)
        print(
            f"\n{workload.label} ({len(workload.html.encode()):,} bytes of HTML, "
            f"{workload.links} links): bytes per message: lettr signed "
            f"{signed.message_bytes[key]:,}, unsigned {unsigned.message_bytes[key]:,}, "
            f"mailmerge {mailmerge_message_bytes(merge):,}; sending …",
            flush=True,
        )
        mailmerge = f"mailmerge {version('mailmerge')}, 1 connection/message"
        reference = Row(mailmerge, n, run_mailmerge(merge, sink, n))
        top = Row(
            f"bare aiosmtplib, {c} connections", n, run_ceiling("aiosmtplib", sink, n, c, sample)
        )
        raw = Row(f"pipelined raw loop, {c} connections", n, run_ceiling("raw", sink, n, c, sample))
        rows = [reference, top, raw]
        named = {"mailmerge": reference}
        for store, sign in ((unsigned, "unsigned"), (signed, "signed")):
            for variant, source in zip(variants, sources, strict=True):
                row = Row(
                    f"lettr {sign}{variant}",
                    n,
                    send_campaign(store, key, sink, folder, source),
                    store.prepare_seconds if workload.key == "medium" else None,
                )
                rows.append(row)
                named[row.name] = row
                if sign == "signed" and key == "medium" and not variant:
                    small = row
        if pg is not None and key in PG_WORKLOADS:
            on_pg = send_postgres.rows(pg, signed, key, sink, folder)
            rows += on_pg
            named.update((row.name, row) for row in on_pg)
        results[key] = named
        report(
            f"{workload.label}, {n:,} recipients (load average {os.getloadavg()[0]:.1f})",
            rows,
            reference,
            top,
        )
    big_row = None
    if big is not None:
        big_row = Row(
            f"lettr signed, 8 KB, {big.recipients:,}",
            big.recipients,
            send_campaign(big, "medium", sink, folder),
            big.prepare_seconds,
        )
        report(f"memory (load average {os.getloadavg()[0]:.1f})", [big_row], big_row, big_row)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    print(
        "lettr's seconds: wall time of `campaign send --yes` (+ `campaign approve` when parked "
        "in review), start-up, checks and preparing included; the ceilings': sending only. "
        "CPU s: the command's user + system time. prepare s: prepare_campaign through the "
        "library on a copy of the store, commit included."
    )
    grid(results, variants)
    if pg is not None:
        labels = {w.key: w.label for w in WORKLOADS}
        send_postgres.summary(results, labels, "lettr signed")
    memory(big_row, small, big)
    if options.profile:
        run_profile(unsigned, "short" if "short" in keys else keys[0], folder)


ROLES = {
    "_prepare": lambda a: prepare_on_copy(a[0], a[1], a[2]),
    "_ceiling": lambda a: ceiling(a[0], int(a[1]), int(a[2]), int(a[3]), a[4]),
    "_profile": lambda a: profiled(a[0], a[1:]),
    "_aiosmtpd-sink": lambda a: serve_aiosmtpd(int(a[0])),
}

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ROLES:
        ROLES[sys.argv[1]](sys.argv[2:])
    else:
        main()
