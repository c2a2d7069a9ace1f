"""The tracking server under a burst: `lettr track serve` at default settings, a mix of opens,
clicks and one-click unsubscribes from ``wrk`` at rising loads, and what the store recorded.

    apt-get install -y wrk        # Debian's wrk (not wrk2: no fixed-rate -R)
    PYTHONPATH=$PWD python bench/track.py [--recipients 100000] [--seconds 20]
        [--connections 1,2,4,8,16,32,64] [--profile 16] [--dir DIR] [--template flat|conditional]

A fresh store (``$LETTR_HOME`` in a temp folder) is set up through the commands a user types:
properties, a list, ``contact import`` of N rows, ``domain add example.com --no-dkim`` verified
through the loopback DNS responder, ``plan.tier enterprise``, and a campaign with a merge tag
and three tracked links (``--template conditional``: its greeting in an ``{% if %}``, which
leaves the campaign without a message skeleton, so a click renders its row's message again
unless the row was clicked lately). It is then prepared, not sent: in a child process the
campaign is started as ``campaign send`` starts it (the relay check talks to an aiosmtpd on
loopback) and ``prepare_campaign`` writes its N outbox rows (the store's first campaign to more
than 5,000 recipients then waits in review; the tracking server does not care). The same child
signs the tracking URLs of random rows with the store's own key (``signing``), as messages carry
them, and writes one request file per step: 70 % opens (``GET /o/T.gif``), 25 % clicks (``GET
/c/T/n``, n a link of the message) and 5 % RFC 8058 unsubscribes (``POST /u/T`` with
``List-Unsubscribe=One-Click``), each unsubscribe of a row no earlier step used.

The server is ``lettr track serve --port P`` in a process of its own, default settings, its
stderr (one access line per request) to a file. The generator is ``wrk`` with
``bench/track.lua`` in a process of its own, one thread, for ``--seconds`` per step at rising
numbers of connections. wrk is a closed loop (a connection sends its next request when the
answer came): each step's rate is what the server gave at that concurrency, and its latencies
are those of requests actually sent (no coordinated-omission correction, which only wrk2's
``-R`` has). A rate-limited Python generator was not used: it would need a core of its own to
reach these rates, and the machine has two.

Per step: requests/s, p50 and p99 latency, answers other than 2xx/3xx (and socket errors),
the server's and wrk's CPU share, and the events recorded in the store afterwards (opens,
clicks, unsubscribes; counted once the server has written them all) beside the answers wrk
counted. Requests still in flight when a step ends are answered and recorded but not counted by
wrk, so "recorded" may exceed "answered" by at most the connections. The verdict: the highest
rate held with p99 < 100 ms, no error and every answered request recorded. ``--profile C``
samples the server with py-spy (``pip install py-spy``) during one more step at C connections
and prints the top frames. Not run by CI; needs the ``bench`` extra and wrk.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import csv
import json
import os
import random
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from send_measure import lettr_env  # the environment of a timed lettr, as bench/send.py's

HERE = Path(__file__).resolve()
LUA = HERE.with_name("track.lua")
MIX = (("o", 70), ("c", 25), ("u", 5))
GOAL_RATE = 2000
GOAL_P99_MS = 100.0
# Frames where a thread waits rather than works (left out of the profile's own-time ranking).
IDLE = ("Condition.wait", "select (selectors", "Queue.get", "_wait_for_tstate_lock", "sleep")
HTML = """<!DOCTYPE html>
<html><head><style>p { font-family: Helvetica, Arial, sans-serif; }</style></head><body>
<h1>Hello {{ first_name }}</h1>
<p>This week: <a href="https://example.com/offers?utm_source=newsletter">the offers</a>,
<a href="https://example.com/blog/long-read">a long read</a> and
<a href="https://example.org/events">events near you</a>.</p>
<p>{{ unsubscribe_link }}</p>
</body></html>
"""


def lettr_command() -> list[str]:
    script = Path(sys.executable).with_name("lettr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lettr_cli"]


def run_lettr(home: Path, *args: str) -> str:
    done = subprocess.run(
        [*lettr_command(), *args], env=lettr_env(home), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"lettr {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the store ----------------------------------------------------------------------------------
# ``--template conditional``: the same message with its greeting in an ``{% if %}``. Such a
# campaign has no message skeleton (``content.skeleton``), so the server renders a clicked row's
# message again to find its links instead of filling the skeleton's with the row's tokens.
TEMPLATES = {
    "flat": HTML,
    "conditional": HTML.replace(
        "<h1>Hello {{ first_name }}</h1>",
        "<h1>Hello {% if first_name %}{{ first_name }}{% else %}you{% endif %}</h1>",
    ),
}


def set_up_store(home: Path, recipients: int, template: str = "flat") -> str:
    """A fresh store with N contacts and a campaign to them; returns the campaign's id."""
    from lettr_cli.domains.responder import DnsResponder

    home.mkdir(parents=True)
    audience = home.parent / "audience.csv"
    rng = random.Random(42)
    with audience.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["email", "first_name"])
        for i in range(recipients):
            writer.writerow([f"user{i}@example.org", rng.choice(["Ann", "Bob", "Chloé", "Ömer"])])
    run_lettr(home, "config", "set", "plan.tier", "enterprise")
    run_lettr(home, "config", "set", "smtp.security", "none")
    run_lettr(home, "config", "set", "smtp.host", "127.0.0.1")
    run_lettr(home, "property", "create", "first_name", "--fallback", "there")
    run_lettr(home, "list", "create", "Customers")
    run_lettr(home, "contact", "import", str(audience), "--list", "Customers")
    run_lettr(home, "domain", "add", "example.com", "--no-dkim")
    records = json.loads(run_lettr(home, "domain", "records", "example.com", "--json"))
    with DnsResponder() as dns:  # as tests/conftest.py's verified_domain does
        for record in records:
            dns.publish(record["name"], record["value"])
        run_lettr(home, "domain", "verify", "example.com", "--nameserver", dns.nameserver)
    page = home.parent / "campaign.html"
    page.write_text(TEMPLATES[template], encoding="utf-8")
    created = json.loads(
        run_lettr(
            home,
            "campaign",
            "create",
            "Autumn news",
            "--subject",
            "News for {{ first_name }}",
            "--from-email",
            "news@example.com",
            "--html",
            str(page),
            "--json",
        )
    )
    campaign = str(created["id"])
    run_lettr(home, "campaign", "audience", campaign, "--list", "Customers")
    return campaign


def prepare_and_sign(db: str, campaign_id: str, folder: str, steps: int, lines: int) -> None:
    """(child) Start the campaign as `campaign send` does (its relay check answered by an
    aiosmtpd on loopback), prepare its outbox, and write one request file per step."""
    from aiosmtpd.controller import Controller

    from lettr_cli.campaigns.rendering import composer_for
    from lettr_cli.content.compose import Links
    from lettr_cli.delivery import outbox
    from lettr_cli.delivery.control import start_send
    from lettr_cli.delivery.preparing import prepare_campaign
    from lettr_cli.signing import keys
    from lettr_cli.signing.tokens import Purpose
    from lettr_cli.store.tables import Campaign
    from lettr_cli.workspace import Workspace

    home = Path(os.environ["LETTR_HOME"])

    class Accept:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "250 OK"

    relay = Controller(Accept(), hostname="127.0.0.1", port=free_port())
    relay.start()
    try:
        run_lettr(home, "config", "set", "smtp.port", str(relay.port))
        ws = Workspace.open(Path(db), home=home, environ=dict(os.environ))
        handle = asyncio.run(start_send(ws, campaign_id, detach=False)).handle
    finally:
        relay.stop()
    assert handle is not None
    with ws.store.connect("IMMEDIATE") as conn, conn.begin():
        status, _ = prepare_campaign(ws, conn, handle)
    with ws.store.write() as session:  # the store's first key is made on first use
        signer = keys.signer(session)
    with ws.store.read() as session:
        ids = [
            int(i)
            for i in session.connection()
            .execute(
                outbox.outbox.select()
                .with_only_columns(outbox.outbox.c.id)
                .where(outbox.outbox.c.campaign_id == campaign_id)
            )
            .scalars()
        ]
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        composer = composer_for(session, campaign, ws.settings())
    sample = composer.render(
        "a@example.org", {}, Links(base_url="http://x", token_for=lambda p: "t")
    )
    links = len(sample.links)
    rng = random.Random(7)
    pool = ids[:]
    rng.shuffle(pool)  # each unsubscribe names a row no other request unsubscribes
    kinds = [kind for kind, share in MIX for _ in range(share)]
    for step in range(steps):
        with open(Path(folder) / f"requests-{step}.txt", "w", encoding="ascii") as out:
            for _ in range(lines):
                kind = rng.choice(kinds)
                if kind == "o":
                    out.write(f"o /o/{signer.for_row(Purpose.OPEN, rng.choice(ids))}.gif\n")
                elif kind == "c":
                    token = signer.for_row(Purpose.CLICK, rng.choice(ids))
                    out.write(f"c /c/{token}/{rng.randint(1, links)}\n")
                else:
                    out.write(f"u /u/{signer.for_row(Purpose.UNSUBSCRIBE, pool.pop())}\n")
    ws.close()
    json.dump({"status": status, "rows": len(ids), "links": links}, sys.stdout)


# -- measuring ----------------------------------------------------------------------------------
def recorded(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        found = dict(conn.execute("SELECT event_type, count(*) FROM events GROUP BY event_type"))
    return {
        "opens": found.get("open", 0),
        "clicks": found.get("click", 0),
        "unsubscribes": found.get("list_unsubscribe", 0),
    }


def settled(db: Path, timeout: float = 60.0) -> dict[str, int]:
    """The store's counts once they stop moving (the server has written its last group)."""
    last = recorded(db)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = recorded(db)
        if now == last:
            return now
        last = now
    return last


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port: int, requests: Path, connections: int, threads: int, seconds: int) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}",
            "--",
            str(requests),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk said:\n{done.stdout}\n{done.stderr}")
    result: dict = json.loads(line[6:])
    result["wrk_cpu"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return result


def step(server: subprocess.Popen[str], db: Path, port: int, requests: Path, c: int, a) -> dict:
    before = settled(db)
    cpu = cpu_seconds(server.pid)
    load = os.getloadavg()[0]
    result = wrk(port, requests, c, a.threads, a.seconds)
    result["server_cpu"] = cpu_seconds(server.pid) - cpu
    after = settled(db)
    result["recorded"] = {k: after[k] - before[k] for k in after}
    result["connections"] = c
    result["load"] = load
    return result


def held(r: dict) -> bool:
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"] + r["others"]
    complete = all(r["recorded"][k] >= r[k] for k in ("opens", "clicks", "unsubscribes"))
    return r["p99_ms"] < GOAL_P99_MS and errors == 0 and complete and not r["wrapped"]


def report(results: list[dict]) -> None:
    print(
        f"{'conns':>5} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6} "
        f"{'answered o/c/u':>20} {'recorded o/c/u':>20} {'server CPU':>10} {'ms CPU/req':>10} "
        f"{'wrk CPU':>7} "
        f"{'load':>5} held"
    )
    for r in results:
        errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"] + r["others"]
        answered = f"{r['opens']}/{r['clicks']}/{r['unsubscribes']}"
        rec = r["recorded"]
        stored = f"{rec['opens']}/{rec['clicks']}/{rec['unsubscribes']}"
        secs = r["seconds"]
        per_request = 1000 * r["server_cpu"] / max(1, r["requests"])
        print(
            f"{r['connections']:>5} {r['requests'] / secs:>7.0f} {r['p50_ms']:>7.1f} "
            f"{r['p99_ms']:>7.1f} {r['max_ms']:>7.0f} {errors:>6} {answered:>20} {stored:>20} "
            f"{r['server_cpu'] / secs:>9.0%} {per_request:>10.2f} "
            f"{r['wrk_cpu'] / secs:>6.0%} {r['load']:>5.2f} "
            f"{'yes' if held(r) else 'no'}"
        )
    good = [r["requests"] / r["seconds"] for r in results if held(r)]
    best = max(good, default=0.0)
    print(
        f"\nhighest rate held (p99 < {GOAL_P99_MS:g} ms, no error, all recorded): {best:,.0f} "
        f"requests/s; goal {GOAL_RATE:,}: {'met' if best >= GOAL_RATE else 'NOT met'}"
    )
    print(
        "CPU shares are of one core (200 % = both); wrk is closed-loop, so a step's rate is what "
        "the server gave at that many connections."
    )


def profile(server: subprocess.Popen[str], db: Path, port: int, requests: Path, c: int, a) -> None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = requests.with_suffix(".spy")
    sampler = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(server.pid),
            "--duration",
            str(a.seconds),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result = step(server, db, port, requests, c, a)
    sampler.wait(timeout=60)
    print(f"\nprofile at {c} connections: {result['requests'] / result['seconds']:.0f} req/s")
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if f]
        n = int(count)
        samples += n
        if frames and not any(idle in frames[-1] for idle in IDLE):
            own[_short(frames[-1])] += n
        for name in {_short(f) for f in frames}:
            total[name] += n
    busy = sum(own.values())
    print(f"{samples} samples (all threads), {busy} not idle; top by own time (of those):")
    for name, n in own.most_common(20):
        print(f"  {n / max(1, busy):6.1%}  {name}")
    print("top by inclusive time:")
    for name, n in total.most_common(25):
        print(f"  {n / samples:6.1%}  {name}")


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "lib/python3", "/lettr_cli/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where.rsplit(':', 1)[0]})"


@contextlib.contextmanager
def work_folder(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="lettr-track-bench-") as folder:
        yield Path(folder)


def serve(home: Path, port: int, log: Path) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        [*lettr_command(), "track", "serve", "--port", str(port)],
        env=lettr_env(home),
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        if server.poll() is not None:
            raise SystemExit(f"lettr track serve exited:\n{log.read_text()}")
        time.sleep(0.1)
    raise SystemExit("lettr track serve did not listen")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_prepare":
        prepare_and_sign(*sys.argv[2:5], int(sys.argv[5]), int(sys.argv[6]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", default="1,2,4,8,16,32,64")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lines", type=int, default=150_000, help="requests in a step's file")
    parser.add_argument("--profile", type=int, default=0, metavar="C")
    parser.add_argument("--dir", type=Path)
    parser.add_argument(
        "--template",
        choices=sorted(TEMPLATES),
        default="flat",
        help="flat: merge tags in text only (clicks use the skeleton's links); conditional: "
        "an {%% if %%} (each clicked row's message is rendered again)",
    )
    a = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench/track.py needs wrk: apt-get install -y wrk")
    steps = [int(c) for c in a.connections.split(",")]
    with work_folder(a.dir) as folder:
        home = folder / "home"
        began = time.perf_counter()
        campaign = set_up_store(home, a.recipients, a.template)
        db = home / "lettr.db"
        done = subprocess.run(
            [
                sys.executable,
                str(HERE),
                "_prepare",
                str(db),
                campaign,
                str(folder),
                str(len(steps) + (1 if a.profile else 0)),
                str(a.lines),
            ],
            env=lettr_env(home),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"preparing failed:\n{done.stderr}")
        prepared = json.loads(done.stdout)
        print(
            f"{prepared['rows']:,} outbox rows prepared (campaign {prepared['status']}), "
            f"{prepared['links']} tracked links, in {time.perf_counter() - began:.0f} s"
        )
        port = free_port()
        server = serve(home, port, folder / "server.log")
        try:
            results = []
            for index, c in enumerate(steps):
                results.append(step(server, db, port, folder / f"requests-{index}.txt", c, a))
                print(json.dumps(results[-1]), file=sys.stderr)
            report(results)
            if a.profile:
                profile(server, db, port, folder / f"requests-{len(steps)}.txt", a.profile, a)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
