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
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from send_measure import lettr_env  # the environment of a timed lettr, as bench/send.py's
from track_report import profile, report
from track_setup import TEMPLATES, prepare_and_sign, set_up_store
from track_steps import free_port, serve, step

HERE = Path(__file__).resolve()  # the ``_prepare`` child runs this file again


@contextlib.contextmanager
def work_folder(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="lettr-track-bench-") as folder:
        yield Path(folder)


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
