"""Messages per second: `lettr campaign send` beside mailmerge 2.x, a bare aiosmtplib loop and a
pipelined raw loop, all into one SMTP sink, in one run, for a grid of three messages.

Set up from a clean clone (not run by CI):

    pip install -e '.[bench]'          # mailmerge, sqlite-utils
    apt-get install postfix            # /usr/sbin/smtp-sink, the sink
    python bench/send.py [--recipients 5000] [--big 100000] [--skip-big]
        [--workloads short,medium,newsletter] [--concurrency N] [--baseline ../other-checkout]
        [--sink smtp-sink|lettr|aiosmtpd] [--profile] [--dir DIR] [--pg-url URL | --skip-pg]

The sink is Postfix's ``smtp-sink``, a C process of its own on a free loopback port that
answers everything at once, announces PIPELINING and counts messages. Without it the bench uses
``lettr sink`` if this lettr has that command, else a small aiosmtpd process, and says that its
ratios are not comparable with the goals (a Python sink is as slow as the clients it serves).

Defaults as a user gets them: lettr's own settings (``sending.concurrency`` included, unless
``--concurrency`` says otherwise, which the report then flags), 5,000 recipients, and start-up
counted. The only settings a run changes are the relay's address (``smtp.host``, ``smtp.port``,
``smtp.security none`` on loopback), ``plan.tier enterprise`` (no plan limit on 100,000
recipients) and ``tracking.base_url`` (links tracked, as a user's are).

The grid (``bench/send_workloads.py``): a short note (~1.4 KB of HTML, 2 links), the 8 KB
message (~3.6 KB of HTML, 8 links, ~8 KB once built as multipart), and a newsletter (~25 KB of
HTML, 30 links, table layout, inline styles). For each: mailmerge sends the same HTML and merge
fields; then lettr unsigned and DKIM-signed (``domain add --no-dkim`` or not), each timed as the
wall time of ``lettr campaign send ID --yes`` as a subprocess from start to exit (plus ``lettr
campaign approve ID`` when the risk check parks it), on a fresh copy of a store set up through
the commands a user types (properties, a list, ``contact import``, ``domain add example.com``
verified through the loopback DNS responder as the tests do, one campaign per message with merge
tags, tracked links and ``{{ unsubscribe_link }}``). Afterwards the outbox must say that every row
is ``sent`` and the sink must have counted N more messages. ``--baseline DIR`` also runs the
lettr of another checkout (``PYTHONPATH=DIR``) on the same copies, alternating with this one.

The ceilings, per message: ``concurrency`` aiosmtplib connections (``sendmail()``, four round
trips a message) and as many bare asyncio streams with MAIL+RCPT+DATA pipelined (two round trips,
almost no Python: the transport's limit), both sending pre-built messages of lettr's size, timed
from the first connect to the last reply (``bench/send_ceiling.py``). mailmerge sends over one
connection per message.

Preparing (recipients resolved into the outbox) is timed through the library on a copy of each
store made just before its send (``lettr store backup``): in a fresh process, the campaign is
started as ``campaign send`` starts it and ``prepare_campaign`` runs in its own write
transaction, commit included. When the real send parks in review, the same step is also read
from the store between the two commands (the outbox rows' ``updated_at``, taken as preparing
begins, to the campaign's, taken as it ends; commit excluded).

The short note and the newsletter are also sent, signed, with the store on PostgreSQL: one
``campaign send`` and three ``daemon run`` processes sharing the campaign, beside the SQLite row
(``bench/send_postgres.py`` says how; ``--skip-pg`` leaves them out).

Peak RSS is the highest sum of VmRSS over the command's process tree, sampled from /proc every
50 ms (and never below the kernel's ru_maxrss for the command). ``--profile`` sends the
unsigned short note once more, from a copy of its store, under cProfile in every thread (``python -m
cProfile`` alone sees only the main thread, not the render and writer threads) and prints the
top 25 lines by cumulative time. Not run by CI; needs the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import send_postgres
from send_ceiling import ceiling
from send_workloads import SUBJECT, WORKLOADS, Workload

HERE = Path(__file__).resolve()
LETTR = [sys.executable, "-m", "lettr_cli"]
SAMPLE_EVERY = 0.05  # seconds between two samples of a process tree's memory

FIRST = ["Ann", "Bob", "Chloé", "Dmitri", "Ömer", "Julia", "Kenji", "Sara", "Farid", "Nadia"]
LAST = ["Kim", "Jensen", "García", "Dubois", "Martín", "Andersen", "Fernández", "Okafor"]
CITIES = [
    ("Kraków", "PL"),
    ("Lyon", "FR"),
    ("Toronto", "CA"),
    ("Manchester", "GB"),
    ("Ciudad de México", "MX"),
]
PLANS = ["free", "starter", "pro", "business"]
PROPERTIES = ["first_name", "last_name", "city", "country", "plan"]


# -- the audience -----------------------------------------------------------------------------
def write_audience(path: Path, rows: int) -> None:
    """``rows`` contacts ``user{i}@example.org`` with names, cities and plans."""
    rng = random.Random(42)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["email", *PROPERTIES])
        for i in range(rows):
            city, country = rng.choice(CITIES)
            writer.writerow(
                [
                    f"user{i}@example.org",
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    city,
                    country,
                    rng.choice(PLANS),
                ]
            )


# -- the sink ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the sink exited with code {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise SystemExit(f"the sink did not listen on port {port} within {seconds:.0f}s")


def smtp_sink_path() -> str | None:
    if Path("/usr/sbin/smtp-sink").exists():
        return "/usr/sbin/smtp-sink"
    return shutil.which("smtp-sink")


def lettr_has_sink() -> bool:
    probe = subprocess.run([*LETTR, "sink", "--help"], capture_output=True, check=False)
    return probe.returncode == 0


class Sink:
    """An SMTP sink in a process of its own on a free loopback port; ``count()`` is the number of
    messages it has taken so far (None when the sink does not say)."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.port = free_port()
        self.log = folder / f"sink-{kind}.out"
        if kind == "smtp-sink":
            path = smtp_sink_path()
            assert path is not None
            # -c: a running count of messages; as root it must drop privileges (-u).
            user = ["-u", "nobody"] if os.geteuid() == 0 else []
            command = [path, "-c", *user, f"127.0.0.1:{self.port}", "1000"]
            self.label = f"Postfix smtp-sink ({path}), a C process of its own"
        elif kind == "lettr":
            command = [*LETTR, "sink", "--host", "127.0.0.1", "--port", str(self.port)]
            self.label = "`lettr sink` (Python): ratios NOT comparable with the goals"
        else:
            command = [sys.executable, str(HERE), "_aiosmtpd-sink", str(self.port)]
            self.label = "an aiosmtpd process (Python): ratios NOT comparable with the goals"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process)

    def count(self) -> int | None:
        if self.kind == "lettr":
            return None
        with self.log.open("rb") as log:
            log.seek(max(0, self.log.stat().st_size - 4096))
            counts = re.findall(rb"mesg=(\d+)", log.read())
        return int(counts[-1]) if counts else 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def serve_aiosmtpd(port: int) -> None:
    """The fallback sink: accept everything, print a running count like smtp-sink's ``-c``."""
    from aiosmtpd.smtp import SMTP

    taken = 0

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            nonlocal taken
            taken += 1
            sys.stdout.write(f"mesg={taken}\r")
            sys.stdout.flush()
            return "250 2.0.0 Ok"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        server = await loop.create_server(
            lambda: SMTP(Handler(), hostname="sink", enable_SMTPUTF8=True),
            "127.0.0.1",
            port,
            backlog=1000,
        )
        async with server:
            await stop.wait()

    asyncio.run(main())


# -- timing a command and the memory of its process tree --------------------------------------
def _status_kib(pid: int, field_name: bytes) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(field_name):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _descendants(root: int) -> set[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                # the name in parentheses may hold spaces; the parent pid is 2 fields after it
                ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class TreeSampler(threading.Thread):
    """The highest sum of VmRSS over a process and its descendants, every 50 ms. The tree is
    rescanned every tenth sample, so the sampler costs the measured process little."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.root_hwm_kib = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        tree: set[int] = set()
        sample = 0
        while not self._stop_event.is_set():
            if sample % 10 == 0:
                tree = _descendants(self.pid)
            sample += 1
            total = _status_kib(self.pid, b"VmRSS:") + sum(
                _status_kib(pid, b"VmRSS:") for pid in tree
            )
            self.peak_kib = max(self.peak_kib, total)
            self.root_hwm_kib = max(self.root_hwm_kib, _status_kib(self.pid, b"VmHWM:"))
            self._stop_event.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class Run:
    wall: float
    cpu: float  # user + system of the command and the processes it waited for
    peak_kib: int  # of the whole process tree
    stdout: str

    def __add__(self, other: Run) -> Run:
        return Run(
            self.wall + other.wall,
            self.cpu + other.cpu,
            max(self.peak_kib, other.peak_kib),
            self.stdout + other.stdout,
        )


def timed(
    args: Sequence[str],
    env: dict[str, str],
    *,
    cwd: Path | None = None,
    stdout_file: Path | None = None,
    stderr_file: Path | None = None,
) -> Run:
    """Run a command to its end; wall and CPU time, the tree's peak RSS and its stdout (when
    it goes to no file). Its stderr goes to ``stderr_file``, else is kept for an error."""
    with contextlib.ExitStack() as files:
        out = files.enter_context(stdout_file.open("wb")) if stdout_file else subprocess.PIPE
        if stderr_file:
            err = files.enter_context(stderr_file.open("a+b"))
        else:
            err = files.enter_context(tempfile.TemporaryFile())
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=cwd)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        stdout = proc.stdout.read() if proc.stdout is not None else b""
        _, status, usage = os.wait4(proc.pid, 0)  # wait4, so that the usage is this child's
        wall = time.perf_counter() - started
        sampler.stop()
        if proc.stdout is not None:
            proc.stdout.close()
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.flush()
            err.seek(max(0, os.fstat(err.fileno()).st_size - 3000))
            raise SystemExit(
                f"{' '.join(map(str, args[:6]))} … failed with exit code {code}:\n"
                f"{err.read().decode(errors='replace')}"
            )
    peak = max(sampler.peak_kib, sampler.root_hwm_kib, usage.ru_maxrss)
    return Run(wall, usage.ru_utime + usage.ru_stime, peak, stdout.decode(errors="replace"))


# -- a lettr store ----------------------------------------------------------------------------
@dataclass
class Store:
    label: str
    home: Path
    recipients: int
    campaigns: dict[str, str] = field(default_factory=dict)  # workload key -> campaign id
    env: dict[str, str] = field(default_factory=dict)
    prepare_seconds: float = 0.0  # through the library, on a copy (the 8 KB campaign)
    prepare_in_command: float | None = None  # from the store, between send and approve
    message_bytes: dict[str, int] = field(default_factory=dict)  # per workload
    longest_line: int = 0
    sends: int = 0  # copies sent from so far

    @property
    def campaign_id(self) -> str:
        """The 8 KB campaign: the one prepared, profiled and sent at 100,000."""
        return self.campaigns.get("medium") or next(iter(self.campaigns.values()))

    def sample(self, key: str) -> Path:
        return self.home.parent / f"{self.home.name}-{key}-message.eml"

    def lettr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*LETTR, *args], env=self.env, capture_output=True, text=True, check=False
        )
        if check and done.returncode != 0:
            raise SystemExit(f"lettr {' '.join(args)} failed:\n{done.stderr}")
        return done

    def json(self, *args: str) -> object:
        return json.loads(self.lettr(*args, "--json").stdout)


def lettr_env(home: Path) -> dict[str, str]:
    """The environment of a timed lettr: as an installed lettr runs, with compiled bytecode (a
    shell's PYTHONDONTWRITEBYTECODE would have every run compile lettr's modules again)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LETTR_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(LETTR_HOME=str(home), NO_COLOR="1", TERM="dumb")
    return env


def set_up_store(
    label: str,
    folder: Path,
    audience: Path,
    recipients: int,
    *,
    dkim: bool,
    port: int,
    c: int | None,
    workloads: Sequence[Workload],
) -> Store:
    """A fresh store with the audience, a verified example.com and one campaign per workload
    ready to send. Settings beyond the relay's address are lettr's defaults, except
    ``plan.tier enterprise`` (no plan limit on 100,000 recipients), ``tracking.base_url`` (the
    links are tracked, as a user's are) and ``sending.concurrency`` when ``c`` is given."""
    from lettr_cli.domains.responder import DnsResponder

    home = folder / label.replace(" ", "-")
    store = Store(label, home, recipients, env=lettr_env(home))
    for key, value in {
        "smtp.host": "127.0.0.1",
        "smtp.port": str(port),
        "smtp.security": "none",
        "plan.tier": "enterprise",
        "tracking.base_url": "https://t.example.com",
        **({"sending.concurrency": str(c)} if c is not None else {}),
    }.items():
        store.lettr("config", "set", key, value)
    store.lettr("property", "create", "first_name", "--fallback", "there")
    for name in PROPERTIES[1:]:
        store.lettr("property", "create", name)
    store.lettr("list", "create", "Customers")
    summary = store.json("contact", "import", str(audience), "--list", "Customers")
    assert isinstance(summary, dict)
    if summary["created"] != recipients:
        raise SystemExit(f"the import created {summary['created']} contacts, not {recipients}")
    store.lettr("domain", "add", "example.com", *([] if dkim else ["--no-dkim"]))
    records = store.json("domain", "records", "example.com")
    assert isinstance(records, list)
    with DnsResponder() as dns:  # as tests/conftest.py's verified_domain does
        for record in records:
            dns.publish(record["name"], record["value"])
        store.lettr("domain", "verify", "example.com", "--nameserver", dns.nameserver)
    for workload in workloads:
        page = folder / f"campaign-{workload.key}.html"
        page.write_text(workload.html, encoding="utf-8")
        created = store.json(
            "campaign", "create", f"Autumn news ({workload.label})",
            "--subject", SUBJECT,
            "--from-email", "news@example.com",
            "--from-name", "Example News",
            "--preview-text", "Offers, a long read and events near you",
            "--html", str(page),
        )  # fmt: skip
        assert isinstance(created, dict)
        store.campaigns[workload.key] = campaign = str(created["id"])
        store.lettr("campaign", "audience", campaign, "--list", "Customers")
    return store


def measure_preparing(store: Store, folder: Path, key: str) -> None:
    """Time preparing ``key``'s campaign through the library on a copy of the store; keep one
    built message (``store.sample(key)``)."""
    copy = folder / f"{store.home.name}-prepare.db"
    store.lettr("store", "backup", str(copy), "--yes")
    env = lettr_env(folder / f"{store.home.name}-prepare-home")
    campaign = store.campaigns[key]
    done = subprocess.run(
        [sys.executable, str(HERE), "_prepare", str(copy), campaign, str(store.sample(key))],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"preparing on a copy failed:\n{done.stderr}")
    body = json.loads(done.stdout)
    if body["total"] != store.recipients:
        raise SystemExit(f"preparing resolved {body['total']} recipients: {body}")
    if campaign == store.campaign_id:
        store.prepare_seconds = body["seconds"]
        store.longest_line = body["longest_line"]
    store.message_bytes[key] = body["message_bytes"]
    copy.unlink()


def prepare_on_copy(db: str, campaign_id: str, sample: str) -> None:
    """(child) Start the campaign as `campaign send` does, time ``prepare_campaign`` in one
    write transaction, commit included; build the first row's message."""
    from lettr_cli.delivery import outbox
    from lettr_cli.delivery.control import start_send
    from lettr_cli.delivery.preparing import factory_spec, prepare_campaign
    from lettr_cli.workspace import Workspace

    home = Path(os.environ["LETTR_HOME"])
    ws = Workspace.open(Path(db), home=home, environ=dict(os.environ))
    handle = asyncio.run(start_send(ws, campaign_id, detach=False)).handle
    assert handle is not None
    started = time.perf_counter()
    with ws.store.connect("IMMEDIATE") as conn, conn.begin():
        status, _ = prepare_campaign(ws, conn, handle)
    seconds = time.perf_counter() - started
    with ws.store.connect() as conn, conn.begin():
        total = outbox.total(conn, campaign_id)
        row = conn.execute(
            outbox.outbox.select().where(outbox.outbox.c.campaign_id == campaign_id).limit(1)
        ).one()
        factory = factory_spec(ws, conn, campaign_id).factory()
        built = factory.build(row.id, row.email, row.merge_values)
    Path(sample).write_bytes(built.message)
    longest = max(len(line) for line in built.message.split(b"\r\n"))
    ws.close()
    json.dump(
        {
            "seconds": seconds,
            "status": status,
            "total": total,
            "message_bytes": len(built.message),
            "longest_line": longest,
        },
        sys.stdout,
    )


def read_store_times(db: Path, campaign: str) -> tuple[str, float | None]:
    """The campaign's status and, while its outbox is untouched since preparing, how long
    preparing took inside the command (outbox rows stamped as it began, the campaign as it
    ended)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(db)) as conn:
        status, ended = conn.execute(
            "SELECT status, updated_at FROM campaigns WHERE id = ?", (campaign,)
        ).fetchone()
        began, untouched = conn.execute(
            "SELECT min(updated_at), count(*) = sum(status = 'queued') FROM outbox "
            "WHERE campaign_id = ?",
            (campaign,),
        ).fetchone()
    if not untouched or began is None:
        return status, None
    seconds = (datetime.fromisoformat(ended) - datetime.fromisoformat(began)).total_seconds()
    return status, seconds


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


def check_sink(sink: Sink, before: int | None, expected: int, label: str) -> None:
    after = sink.count()
    if before is not None and after is not None and after - before != expected:
        raise SystemExit(f"{label}: the sink counted {after - before} messages, not {expected}")


# -- mailmerge --------------------------------------------------------------------------------
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


# -- profiling --------------------------------------------------------------------------------
def profiled(out: str, args: list[str]) -> None:
    """(child) Run lettr with ``args`` under cProfile in every thread; dump the merged stats."""
    import cProfile
    import pstats

    extra: list[cProfile.Profile] = []
    thread_run = threading.Thread.run

    def run_profiled(self: threading.Thread) -> None:
        profile = cProfile.Profile()
        try:
            profile.enable()
        except ValueError:  # a profiler that already sees every thread (sys.monitoring)
            thread_run(self)
            return
        extra.append(profile)
        try:
            thread_run(self)
        finally:
            profile.disable()

    threading.Thread.run = run_profiled  # type: ignore[method-assign]
    from lettr_cli.cli.main import main

    sys.argv = ["lettr", *args]
    profile = cProfile.Profile()
    code: str | int | None = 0
    profile.enable()
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, str | int | None) else 1
    finally:
        profile.disable()
        stats = pstats.Stats(profile)
        for more in extra:
            stats.add(more)
        stats.dump_stats(out)
    sys.exit(code)


def run_profile(store: Store, key: str, folder: Path) -> None:
    """Send ``key``'s campaign again from a copy of its store, profiled."""
    import pstats

    copy = folder / "profile.db"
    store.lettr("store", "backup", str(copy), "--yes")
    campaign = store.campaigns[key]
    env = {**lettr_env(folder / "profile-home"), "LETTR_DB": str(copy)}
    files = []
    for step in ("send", "approve"):
        if step == "approve":
            shown = json.loads(
                subprocess.run(
                    [*LETTR, "campaign", "show", campaign, "--json"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            if shown["status"] != "in_review":
                break
        out = folder / f"profile-{step}.pstats"
        args = [step, campaign, *(["--yes"] if step == "send" else [])]
        timed(
            [sys.executable, str(HERE), "_profile", str(out), "campaign", *args],
            env,
            stderr_file=folder / "profile.log",
        )
        files.append(str(out))
    stats = pstats.Stats(*files)
    steps = " + ".join(Path(f).stem.removeprefix("profile-") for f in files)
    print(
        f"\nProfile of the {store.label} {key} send ({steps}; every thread). Top 25 of lettr's own "
        "functions by cumulative time (idle threads and the CLI's call chain left out):"
    )
    stats.sort_stats("cumulative").print_stats(r"lettr_cli/(?!cli/main|cli/command)", 25)
    print("Top 15 by own time (where the CPU goes):")
    stats.sort_stats("tottime").print_stats(15)


# -- the report -------------------------------------------------------------------------------
@dataclass
class Row:
    name: str
    messages: int
    run: Run
    prepare: float | None = None

    @property
    def rate(self) -> float:
        return self.messages / self.run.wall


def report(title: str, rows: list[Row], reference: Row, ceiling_row: Row) -> None:
    width = max(len(row.name) for row in rows)
    header = (
        f"{'run':{width}} {'messages':>9} {'seconds':>8} {'msg/s':>7} {'×mailmerge':>10} "
        f"{'×ceiling':>8} {'CPU s':>7} {'peak RSS MiB':>12} {'prepare s':>9}"
    )
    print(f"\n{title}")
    print(header)
    print("-" * len(header))
    for row in rows:
        prepare = f"{row.prepare:9.2f}" if row.prepare is not None else f"{'-':>9}"
        peak = f"{row.run.peak_kib / 1024:12.1f}" if row.run.peak_kib else f"{'-':>12}"
        print(
            f"{row.name:{width}} {row.messages:9,} {row.run.wall:8.2f} {row.rate:7.0f} "
            f"{row.rate / reference.rate:10.2f} {row.rate / ceiling_row.rate:8.2f} "
            f"{row.run.cpu:7.2f} {peak} {prepare}"
        )


PG_WORKLOADS = ("short", "newsletter")  # the messages also sent with the store on PostgreSQL
GOALS = {"short": 2.0, "medium": 3.0, "newsletter": 3.0}  # × mailmerge (issue 18)


def grid(results: dict[str, dict[str, Row]], variants: list[str]) -> None:
    """The summary: msg/s per workload and run, with the ratio to mailmerge and the goal."""
    print("\nSummary, msg/s at defaults, start-up included (× mailmerge in the same run):")
    names = [f"lettr {sign}{variant}" for variant in variants for sign in ("unsigned", "signed")]
    header = f"{'message':14} {'mailmerge':>9} " + " ".join(f"{n:>22}" for n in names)
    print(header + "  goal")
    print("-" * (len(header) + 6))
    for workload in WORKLOADS:
        rows = results.get(workload.key)
        if rows is None:
            continue
        reference = rows["mailmerge"]
        cells = []
        for name in names:
            row = rows[name]
            cells.append(f"{row.rate:7.0f} ({row.rate / reference.rate:4.2f}×)".rjust(22))
        goal = GOALS[workload.key]
        print(f"{workload.label:14} {reference.rate:9.0f} " + " ".join(cells) + f"  ≥{goal:.0f}×")


def memory(big: Row | None, small: Row, big_store: Store | None) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    if big is None or big_store is None:
        print("\nmemory and preparing at 100,000: not measured (--skip-big)")
        return
    growth = (big.run.peak_kib - small.run.peak_kib) / 1024
    peak = big.run.peak_kib / 1024
    print(
        f"\nmemory flat: peak at {big.messages:,} is {growth:+.1f} MiB from the peak at "
        f"{small.messages:,} (within 50 MB: {verdict(growth * 1.048576 <= 50)}), "
        f"{peak:.0f} MiB (under 400 MB: {verdict(peak * 1.048576 < 400)})"
    )
    print(
        f"preparing {big.messages:,} recipients in under 2 s: {big_store.prepare_seconds:.2f} s "
        f"({verdict(big_store.prepare_seconds < 2)})"
    )


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


def choose_sink(wanted: str | None) -> str:
    if wanted == "smtp-sink" and smtp_sink_path() is None:
        raise SystemExit("smtp-sink is not installed: apt-get install postfix")
    if wanted == "lettr" and not lettr_has_sink():
        raise SystemExit("this lettr has no `lettr sink` command")
    if wanted:
        return wanted
    if smtp_sink_path():
        return "smtp-sink"
    return "lettr" if lettr_has_sink() else "aiosmtpd"


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
            on_pg = send_postgres.rows(pg, signed, key, sink, folder, (timed, check_sink, Row, Run))
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
    if small is not None:
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
