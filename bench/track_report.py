"""bench/track.py's report: one line per step (rate, latencies, errors, what wrk counted beside
what the store recorded, CPU shares), whether each step ``held`` the goal (p99 under
``GOAL_P99_MS``, no error, every answered request recorded) and the highest rate held against
``GOAL_RATE``; and ``--profile``: one more step with py-spy sampling the server, its frames ranked
by own time (``IDLE`` frames left out) and by inclusive time.
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
from pathlib import Path

from track_steps import step

GOAL_RATE = 2000
GOAL_P99_MS = 100.0
# Frames where a thread waits rather than works (left out of the profile's own-time ranking).
IDLE = ("Condition.wait", "select (selectors", "Queue.get", "_wait_for_tstate_lock", "sleep")


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
