"""Messages per second: `lettr campaign send` beside mailmerge 2.x and a bare aiosmtplib loop,
all into one SMTP sink, in one run.

    PYTHONPATH=$PWD python bench/send.py [--recipients 10000] [--big 100000] [--skip-big]
        [--concurrency 16] [--sink smtp-sink|lettr|aiosmtpd] [--profile] [--dir DIR]

The sink is Postfix's ``smtp-sink`` (``apt-get install postfix``), a C process of its own on a
free loopback port that answers everything at once, announces PIPELINING and counts messages.
Without it the bench uses ``lettr sink`` if this lettr has that command, else a small aiosmtpd
process, and says that its ratios are not comparable with the goals (a Python sink is as slow
as the clients it serves).

Every lettr run starts from a fresh store (``$LETTR_HOME`` in a temp folder) set up through the
commands a user types: properties, a list, ``contact import`` of N rows, ``domain add
example.com`` (or ``--no-dkim``) verified through the loopback DNS responder as the tests do,
``plan.tier enterprise``, ``sending.concurrency``, and a campaign with merge tags, tracked links
and ``{{ unsubscribe_link }}`` in a ~5 KB body. Timed: the wall time of ``lettr campaign send ID
--yes`` plus, when the risk check parks it (the store's first campaign to more than 5,000
recipients), ``lettr campaign approve ID``: interpreter start-up, the checks, preparing and
sending all count. Afterwards the outbox must say that every row is ``sent`` and the sink must
have counted N more messages.

Runs: lettr DKIM-signed, lettr unsigned, lettr DKIM-signed to ``--big`` recipients (memory);
mailmerge 2.x sending the same rows (its template as close as mailmerge gets: the same HTML and
merge fields, untracked links, a static unsubscribe URL) over its one connection per message;
and the transport ceiling: ``--concurrency`` aiosmtplib connections sending pre-built messages
of lettr's size, timed from the first connect to the last reply (building them is not timed).

Preparing (recipients resolved into the outbox) is timed through the library on a copy of each
store made just before its send (``lettr store backup``): in a fresh process, the campaign is
started as ``campaign send`` starts it and ``prepare_campaign`` runs in its own write
transaction, commit included. When the real send parks in review, the same step is also read
from the store between the two commands (the outbox rows' ``updated_at``, taken as preparing
begins, to the campaign's, taken as it ends; commit excluded).

Peak RSS is the highest sum of VmRSS over the command's process tree, sampled from /proc every
50 ms (and never below the kernel's ru_maxrss for the command). ``--profile`` sends the signed
campaign once more, from a copy of its store, under cProfile in every thread (``python -m
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

SUBJECT = "{{ first_name }}, this week in {{ city }}"
STORY = (
    "<p style='margin:0 0 16px'>{lead} Our team spent the month talking to customers in "
    "{{{{ city }}}} and around the world, and the same wish came up again and again: fewer "
    "steps between an idea and the people it is for. This issue collects what we shipped for "
    "that, what is coming next, and a few stories from readers like you.</p>\n"
)
HTML = (
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example News</title>
<style>
  body { margin: 0; padding: 0; background: #f4f4f7; font-family: Helvetica, Arial, sans-serif; }
  .wrap { max-width: 600px; margin: 0 auto; background: #ffffff; }
  h1 { font-size: 24px; line-height: 1.3; color: #1a1a2e; margin: 0 0 16px; }
  h2 { font-size: 18px; color: #1a1a2e; margin: 24px 0 8px; }
  p { font-size: 16px; line-height: 1.5; color: #333333; }
  .button { display: inline-block; padding: 12px 24px; background: #3b5bdb; color: #ffffff;
            text-decoration: none; border-radius: 4px; font-weight: bold; }
  .footer { font-size: 12px; line-height: 1.4; color: #888888; }
  @media (max-width: 620px) { .wrap { width: 100% !important; } }
</style>
</head>
<body>
<table class="wrap" role="presentation" width="600" cellpadding="0" cellspacing="0">
<tr><td style="padding: 24px 32px;">
<h1>Hello {{ first_name }}, here is what is new in {{ city }}</h1>
"""
    + STORY.format(lead="Thank you for reading Example News.")
    + """<p style="margin:0 0 24px"><a class="button"
  href="https://example.com/offers/autumn?utm_source=newsletter&amp;utm_medium=email">See
  this week's offers</a></p>
<h2>From the blog</h2>
"""
    + STORY.format(lead="Our longest read this month is about planning a season of events.")
    + """<p><a href="https://example.com/blog/planning-a-season">Read the article on our blog</a>,
or browse <a href="https://example.com/blog">everything we published this year</a>.</p>
<h2>Events near {{ city }}</h2>
"""
    + STORY.format(lead="Meet us in person: workshops, meetups and office hours.")
    + """<p><a href="https://example.com/events?near=home">Find an event near you</a> or
<a href="https://example.com/events/online">join one online</a>.</p>
<h2>Your plan</h2>
<p>You are on the {{ plan }} plan. <a href="https://example.com/account/plan">Compare plans</a>
and see what changes when your team grows.</p>
"""
    + STORY.format(lead="One more thing before you go.")
    + """</td></tr>
<tr><td class="footer" style="padding: 16px 32px 32px;">
<p class="footer">You receive this because you signed up at example.com as {{ email }}.
<a href="{{ unsubscribe_link }}">Unsubscribe</a> at any time, or
<a href="{{ webversion_link }}">read this issue in your browser</a>.<br>
Example Ltd, 1 Main Street, Springfield</p>
</td></tr>
</table>
</body>
</html>
"""
)


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
    campaign_id: str = ""
    env: dict[str, str] = field(default_factory=dict)
    prepare_seconds: float = 0.0  # through the library, on a copy
    prepare_in_command: float | None = None  # from the store, between send and approve
    message_bytes: int = 0
    longest_line: int = 0

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
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETTR_")}
    env.update(LETTR_HOME=str(home), NO_COLOR="1", TERM="dumb")
    return env


def set_up_store(
    label: str, folder: Path, audience: Path, recipients: int, *, dkim: bool, port: int, c: int
) -> Store:
    """A fresh store with the audience, a verified example.com and a campaign ready to send."""
    from lettr_cli.domains.responder import DnsResponder

    home = folder / label.replace(" ", "-")
    store = Store(label, home, recipients, env=lettr_env(home))
    for key, value in {
        "smtp.host": "127.0.0.1",
        "smtp.port": str(port),
        "smtp.security": "none",
        "sending.concurrency": str(c),
        "plan.tier": "enterprise",
        "tracking.base_url": "https://t.example.com",
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
    page = folder / "campaign.html"
    page.write_text(HTML, encoding="utf-8")
    created = store.json(
        "campaign", "create", "Autumn news",
        "--subject", SUBJECT,
        "--from-email", "news@example.com",
        "--from-name", "Example News",
        "--preview-text", "Offers, a long read and events near you",
        "--html", str(page),
    )  # fmt: skip
    assert isinstance(created, dict)
    store.campaign_id = str(created["id"])
    store.lettr("campaign", "audience", store.campaign_id, "--list", "Customers")
    return store


def measure_preparing(store: Store, folder: Path) -> None:
    """Time preparing through the library on a copy of the store; keep one built message."""
    copy = folder / f"{store.home.name}-prepare.db"
    store.lettr("store", "backup", str(copy), "--yes")
    env = lettr_env(folder / f"{store.home.name}-prepare-home")
    sample = folder / f"{store.home.name}-message.eml"
    done = subprocess.run(
        [sys.executable, str(HERE), "_prepare", str(copy), store.campaign_id, str(sample)],
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
    store.prepare_seconds = body["seconds"]
    store.message_bytes = body["message_bytes"]
    store.longest_line = body["longest_line"]
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


def read_store_times(store: Store) -> tuple[str, float | None]:
    """The campaign's status and, while its outbox is untouched since preparing, how long
    preparing took inside the command (outbox rows stamped as it began, the campaign as it
    ended)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(store.home / "lettr.db")) as conn:
        status, ended = conn.execute(
            "SELECT status, updated_at FROM campaigns WHERE id = ?", (store.campaign_id,)
        ).fetchone()
        began, untouched = conn.execute(
            "SELECT min(updated_at), count(*) = sum(status = 'queued') FROM outbox "
            "WHERE campaign_id = ?",
            (store.campaign_id,),
        ).fetchone()
    if not untouched or began is None:
        return status, None
    seconds = (datetime.fromisoformat(ended) - datetime.fromisoformat(began)).total_seconds()
    return status, seconds


def send_campaign(store: Store, sink: Sink, folder: Path) -> Run:
    """The timed part: `campaign send`, and `campaign approve` if it parks in review."""
    before = sink.count()
    log = folder / f"{store.home.name}-send.log"
    run = timed(
        [*LETTR, "campaign", "send", store.campaign_id, "--yes"], store.env, stderr_file=log
    )
    status, store.prepare_in_command = read_store_times(store)
    if status == "in_review":
        approve = [*LETTR, "campaign", "approve", store.campaign_id]
        run = run + timed(approve, store.env, stderr_file=log)
    shown = store.json("campaign", "show", store.campaign_id)
    assert isinstance(shown, dict)
    sent = shown["outbox"]["sent"]
    if shown["status"] != "sent" or sent != store.recipients:
        raise SystemExit(f"{store.label}: {shown['status']}, outbox {shown['outbox']}; see {log}")
    check_sink(sink, before, store.recipients, store.label)
    return run


def check_sink(sink: Sink, before: int | None, expected: int, label: str) -> None:
    after = sink.count()
    if before is not None and after is not None and after - before != expected:
        raise SystemExit(f"{label}: the sink counted {after - before} messages, not {expected}")


# -- mailmerge --------------------------------------------------------------------------------
def mailmerge_template() -> str:
    """The campaign as close as mailmerge gets: the same merge fields and HTML, a plain-text
    part, links untracked, a static unsubscribe URL (mailmerge has none of its own)."""
    html = HTML.replace(
        "{{ unsubscribe_link }}", "https://example.com/unsubscribe?email={{ email }}"
    )
    html = html.replace("{{ webversion_link }}", "https://example.com/news/autumn")
    text = re.sub(r"<[^>]+>", "", html.split("<body>")[1]).replace("&amp;", "&")
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


def mailmerge_folder(folder: Path, audience: Path, port: int) -> Path:
    where = folder / "mailmerge"
    where.mkdir()
    (where / "mailmerge_template.txt").write_text(mailmerge_template(), encoding="utf-8")
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
def ceiling(port: int, count: int, concurrency: int, sample: str) -> None:
    """(child) ``concurrency`` aiosmtplib connections send ``count`` pre-built messages."""
    import aiosmtplib

    template = Path(sample).read_bytes()
    first = re.search(rb"^To: .*?([\w.+-]+@example\.org)", template, re.M | re.I)
    assert first is not None, "the sample message has no To: header"
    address = first.group(1)
    messages = [
        (f"user{i}@example.org", template.replace(address, f"user{i}@example.org".encode()))
        for i in range(count)
    ]
    work = iter(messages)

    async def connection() -> int:
        sent = 0
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, use_tls=False)
        await smtp.connect()
        for recipient, message in work:
            await smtp.sendmail("bounces@example.com", [recipient], message)
            sent += 1
        await smtp.quit()
        return sent

    async def main() -> int:
        done = await asyncio.gather(*(connection() for _ in range(concurrency)))
        return sum(done)

    started = time.perf_counter()
    sent = asyncio.run(main())
    json.dump({"sent": sent, "seconds": time.perf_counter() - started}, sys.stdout)


def run_ceiling(sink: Sink, count: int, concurrency: int, sample: Path) -> Run:
    before = sink.count()
    args = [
        sys.executable,
        str(HERE),
        "_ceiling",
        str(sink.port),
        str(count),
        str(concurrency),
        str(sample),
    ]
    run = timed(args, dict(os.environ))
    body = json.loads(run.stdout)
    if body["sent"] != count:
        raise SystemExit(f"the aiosmtplib loop sent {body['sent']} messages, not {count}")
    check_sink(sink, before, count, "aiosmtplib")
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


def run_profile(store: Store, copy: Path, folder: Path) -> None:
    """Send the campaign again from ``copy`` (its store before the timed send), profiled."""
    import pstats

    env = {**lettr_env(folder / "profile-home"), "LETTR_DB": str(copy)}
    files = []
    for step in ("send", "approve"):
        if step == "approve":
            shown = json.loads(
                subprocess.run(
                    [*LETTR, "campaign", "show", store.campaign_id, "--json"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            if shown["status"] != "in_review":
                break
        out = folder / f"profile-{step}.pstats"
        args = [step, store.campaign_id, *(["--yes"] if step == "send" else [])]
        timed(
            [sys.executable, str(HERE), "_profile", str(out), "campaign", *args],
            env,
            stderr_file=folder / "profile.log",
        )
        files.append(str(out))
    stats = pstats.Stats(*files)
    steps = " + ".join(Path(f).stem.removeprefix("profile-") for f in files)
    print(
        f"\nProfile of the DKIM-signed send ({steps}; every thread). Top 25 of lettr's own "
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


def report(rows: list[Row], reference: Row, ceiling_row: Row) -> None:
    width = max(len(row.name) for row in rows)
    header = (
        f"{'run':{width}} {'messages':>9} {'seconds':>8} {'msg/s':>7} {'×mailmerge':>10} "
        f"{'×ceiling':>8} {'CPU s':>7} {'peak RSS MiB':>12} {'prepare s':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        prepare = f"{row.prepare:9.2f}" if row.prepare is not None else f"{'-':>9}"
        print(
            f"{row.name:{width}} {row.messages:9,} {row.run.wall:8.2f} {row.rate:7.0f} "
            f"{row.rate / reference.rate:10.2f} {row.rate / ceiling_row.rate:8.2f} "
            f"{row.run.cpu:7.2f} {row.run.peak_kib / 1024:12.1f} {prepare}"
        )


def goals(
    signed: Row, unsigned: Row, big: Row | None, reference: Row, big_store: Store | None
) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print("\nGoals (issue 8):")
    ratio = unsigned.rate / reference.rate
    print(f"  unsigned ≥ 3× mailmerge: {ratio:.2f}× ({verdict(ratio >= 3)})")
    ratio = signed.rate / reference.rate
    print(f"  DKIM-signed ≥ 1.5× mailmerge: {ratio:.2f}× ({verdict(ratio >= 1.5)})")
    if big is None or big_store is None:
        print("  memory and preparing at 100,000: not measured (--skip-big)")
        return
    growth = (big.run.peak_kib - signed.run.peak_kib) / 1024
    peak = big.run.peak_kib / 1024
    print(
        f"  memory flat: peak at {big.messages:,} is {growth:+.1f} MiB from the peak at "
        f"{signed.messages:,} (within 50 MB: {verdict(growth * 1.048576 <= 50)}), "
        f"{peak:.0f} MiB (under 400 MB: {verdict(peak * 1.048576 < 400)})"
    )
    print(
        f"  preparing {big.messages:,} recipients in under 2 s: {big_store.prepare_seconds:.2f} s "
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
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=100_000, help="recipients of the memory run")
    parser.add_argument("--skip-big", action="store_true", help="leave the memory run out")
    parser.add_argument("--concurrency", type=int, default=16, help="sending.concurrency")
    parser.add_argument("--sink", choices=["smtp-sink", "lettr", "aiosmtpd"])
    parser.add_argument("--profile", action="store_true", help="profile the signed send too")
    parser.add_argument("--dir", type=Path, help="where the files go, kept (default: temp)")
    options = parser.parse_args()
    n, c = options.recipients, options.concurrency

    with work_folder(options.dir) as folder:
        sink = Sink(choose_sink(options.sink), folder)
        try:
            bench(options, folder, sink, n, c)
        finally:
            sink.stop()


def bench(options: argparse.Namespace, folder: Path, sink: Sink, n: int, c: int) -> None:
    print(f"sink: {sink.label}, 127.0.0.1:{sink.port}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    print(f"setting up: {n:,} recipients, concurrency {c}", flush=True)
    audience = folder / f"audience-{n}.csv"
    write_audience(audience, n)
    signed = set_up_store("lettr signed", folder, audience, n, dkim=True, port=sink.port, c=c)
    unsigned = set_up_store("lettr unsigned", folder, audience, n, dkim=False, port=sink.port, c=c)
    big: Store | None = None
    if not options.skip_big:
        print(f"setting up: {options.big:,} recipients", flush=True)
        big_audience = folder / f"audience-{options.big}.csv"
        write_audience(big_audience, options.big)
        big = set_up_store(
            "lettr big", folder, big_audience, options.big, dkim=True, port=sink.port, c=c
        )
        big_audience.unlink()
    for store in (signed, unsigned, big):
        if store is not None:
            measure_preparing(store, folder)
    profile_copy = folder / "profile.db"
    if options.profile:  # the signed store as it is before its timed send
        signed.lettr("store", "backup", str(profile_copy), "--yes")
    merge = mailmerge_folder(folder, audience, sink.port)
    sample = folder / f"{signed.home.name}-message.eml"
    print(
        f"bytes per message: lettr signed {signed.message_bytes:,}, unsigned "
        f"{unsigned.message_bytes:,} (longest line {signed.longest_line}), mailmerge "
        f"{mailmerge_message_bytes(merge):,}, the ceiling's {signed.message_bytes:,}"
    )
    print("sending …", flush=True)

    mailmerge = f"mailmerge {version('mailmerge')}, 1 connection/message"
    reference = Row(mailmerge, n, run_mailmerge(merge, sink, n))
    top = Row(f"bare aiosmtplib, {c} connections", n, run_ceiling(sink, n, c, sample))
    rows = [reference, top]
    signed_row = Row(
        "lettr, DKIM-signed", n, send_campaign(signed, sink, folder), signed.prepare_seconds
    )
    unsigned_row = Row(
        "lettr, unsigned (--no-dkim)",
        n,
        send_campaign(unsigned, sink, folder),
        unsigned.prepare_seconds,
    )
    rows += [signed_row, unsigned_row]
    big_row = None
    if big is not None:
        big_row = Row(
            f"lettr, DKIM-signed, {big.recipients:,}",
            big.recipients,
            send_campaign(big, sink, folder),
            big.prepare_seconds,
        )
        rows.append(big_row)
    print(f"load average {os.getloadavg()[0]:.1f} at the end\n")
    report(rows, reference, top)
    print(
        "\nlettr's seconds: wall time of `campaign send --yes` (+ `campaign approve` when parked "
        "in review), start-up, checks and preparing included; the ceiling's: sending only. "
        "CPU s: the command's user + system time. prepare s: prepare_campaign through the "
        "library on a copy of the store, commit included."
    )
    for store in (signed, unsigned, big):
        if store is not None and store.prepare_in_command is not None:
            print(
                f"{store.label}: preparing inside `campaign send` took "
                f"{store.prepare_in_command:.2f} s (store timestamps, commit excluded)"
            )
    goals(signed_row, unsigned_row, big_row, reference, big)
    if options.profile:
        run_profile(signed, profile_copy, folder)


ROLES = {
    "_prepare": lambda a: prepare_on_copy(a[0], a[1], a[2]),
    "_ceiling": lambda a: ceiling(int(a[0]), int(a[1]), int(a[2]), a[3]),
    "_profile": lambda a: profiled(a[0], a[1:]),
    "_aiosmtpd-sink": lambda a: serve_aiosmtpd(int(a[0])),
}

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ROLES:
        ROLES[sys.argv[1]](sys.argv[2:])
    else:
        main()
