"""How fast `lettr contact import` is, side by side with `sqlite-utils insert --csv`.

    python bench/import.py [--rows 100000] [--repeat 3] [--domains realistic|unique] [--dir DIR]

Generates a CSV of contacts like ``sample_audience.csv`` (a realistic mix of domains, or one
domain per address for the worst case), imports it into a fresh lettr store (the properties
defined beforehand, as the docs advise) and, in the same run, inserts it with sqlite-utils into
a fresh database in the same folder. Both run as the commands a user would type. Prints each
best-of-N wall time, the ratio, lettr's rows per second, CPU time and peak memory.

sqlite-utils checks nothing; lettr checks every address with email-validator and every value
against its property's type, and writes in one transaction. Needs the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

FIRST = ["Ann", "Bob", "Chloé", "Dmitri", "Ömer", "Julia", "Kenji", "Sara", "Farid", "Nadia"]
LAST = ["Kim", "Jensen", "García", "Dubois", "Martín", "Andersen", "Fernández", "Okafor"]
PLACES = [
    ("Kraków", "PL", "Europe/Warsaw"),
    ("Lyon", "FR", "Europe/Paris"),
    ("Toronto", "CA", "America/Toronto"),
    ("Manchester", "GB", "Europe/London"),
    ("Ciudad de México", "MX", "America/Mexico_City"),
]
POPULAR = [f"{name}.example.com" for name in ("mail", "inbox", "post", "web", "box")] + [
    "example.com",
    "example.org",
    "example.net",
]
PROPERTIES = {
    "first_name": "string",
    "last_name": "string",
    "city": "string",
    "country": "string",
    "plan": "string",
    "signup_date": "date",
    "timezone": "string",
}


def generate(path: Path, rows: int, domains: str) -> None:
    """A CSV of ``rows`` contacts; most addresses on a few domains, a long tail of companies."""
    rng = random.Random(42)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["email", *PROPERTIES, "status"])
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            city, country, zone = rng.choice(PLACES)
            if domains == "unique":
                domain = f"company{i}.example.net"
            elif rng.random() < 0.7:
                domain = rng.choice(POPULAR)
            else:
                domain = f"company{rng.randrange(rows // 20 or 1)}.example.net"
            local = f"{first.lower()}.{last.lower()}{i}".encode("ascii", "ignore").decode()
            writer.writerow(
                [
                    f"{local}@{domain}",
                    first,
                    last,
                    city,
                    country,
                    rng.choice(["free", "starter", "pro", "business"]),
                    f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    zone,
                    "unsubscribed" if rng.random() < 0.03 else "subscribed",
                ]
            )


@dataclass
class Run:
    wall: float
    cpu: float  # user + system, the process and the processes it waited for
    peak_kib: int
    stdout: str


def timed(args: list[str], env: dict[str, str]) -> Run:
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    stdout = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{args[:4]} failed with exit code {proc.returncode}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, stdout)


def lettr_import(csv_path: Path, folder: Path) -> Run:
    home = folder / "lettr-home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "LETTR_HOME": str(home)}
    for name, kind in PROPERTIES.items():
        command = [sys.executable, "-m", "lettr_cli", "property", "create", name, "--type", kind]
        subprocess.run(command, env=env, check=True, capture_output=True)
    run = timed(
        [sys.executable, "-m", "lettr_cli", "contact", "import", str(csv_path), "--json"], env
    )
    summary = json.loads(run.stdout)
    assert summary["invalid"] == 0 and summary["skipped"] == 0, summary
    return run


def sqlite_utils_insert(csv_path: Path, folder: Path) -> Run:
    db = folder / "sqlite-utils.db"
    for leftover in folder.glob("sqlite-utils.db*"):
        leftover.unlink()
    command = shutil.which("sqlite-utils", path=str(Path(sys.executable).parent)) or "sqlite-utils"
    return timed([command, "insert", str(db), "contacts", str(csv_path), "--csv"], dict(os.environ))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument("--domains", choices=["realistic", "unique"], default="realistic")
    parser.add_argument("--dir", type=Path, help="where the files go (default: a temp folder)")
    options = parser.parse_args()
    folder = options.dir or Path(tempfile.mkdtemp(prefix="lettr-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"contacts-{options.rows}.csv"
    generate(csv_path, options.rows, options.domains)
    print(f"{options.rows} rows ({options.domains} domains), {csv_path.stat().st_size:,} bytes")
    lettr_runs, reference_runs = [], []
    for _ in range(options.repeat):  # interleaved, so that a busy moment hurts both alike
        lettr_runs.append(lettr_import(csv_path, folder))
        reference_runs.append(sqlite_utils_insert(csv_path, folder))
    lettr = min(lettr_runs, key=lambda r: r.wall)
    reference = min(reference_runs, key=lambda r: r.wall)
    print(f"lettr contact import      {lettr.wall:6.2f} s wall  {lettr.cpu:6.2f} s CPU")
    print(f"sqlite-utils insert --csv {reference.wall:6.2f} s wall  {reference.cpu:6.2f} s CPU")
    print(f"ratio (wall)              {lettr.wall / reference.wall:6.2f}x")
    print(f"ratio (CPU)               {lettr.cpu / reference.cpu:6.2f}x")
    print(f"lettr rows per second     {options.rows / lettr.wall:9,.0f}")
    print(f"lettr peak memory         {lettr.peak_kib / 1024:6.1f} MiB")
    if not options.dir:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
