"""How long `lettr` takes to start and answer, beside `python -c pass` and `sqlite-utils tables`.

    python bench/startup.py [--repeat 5] [--dir DIR] [--baseline CHECKOUT]

Builds a SQLite store of 325 contacts (``sample_audience.csv`` imported into a list and a topic
with its properties, plus five contacts added one by one), one campaign addressed to that list and
one stored configuration value; then times, as a user types them, `lettr --version`, `--help`,
`contact list`, `campaign list`, `campaign show ID` and `config get KEY`, and, on the same store,
`sqlite-utils tables` and a bare `python -c pass`, and the floors: importing typer alone, typer
with its Rich help (what `--help` needs), and typer with SQLAlchemy (what a command that reads
the store needs). Runs are interleaved (a busy moment hurts every
command alike); the median of ``--repeat`` runs counts. Prints wall seconds, the ratio to each
reference, CPU seconds (user + system; steadier than wall time on a busy machine) and the
issue's goal. Needs the ``bench`` extra (sqlite-utils).

``--baseline CHECKOUT`` (another checkout of lettr, such as ``git worktree add --detach
../base main``) times each lettr command a second time with that checkout's ``lettr_cli`` first
on ``PYTHONPATH``, in the same interleaved runs, and prints it beside as "before".

Commands run as an installed lettr does: with compiled bytecode (``PYTHONDONTWRITEBYTECODE`` is
dropped, and the warm-up run writes the ``.pyc`` files).

Timings on a shared machine are noisy: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_audience.csv"
BIN = Path(sys.executable).parent

# What the issue asks of each command on a SQLite store (seconds); None: no goal, shown for scale.
GOALS: dict[str, float | None] = {
    "--version": None,
    "--help": 0.15,
    "contact list": 0.3,
    "campaign list": 0.3,
    "campaign show ID": 0.3,
    "config get KEY": 0.3,
}


def tool(name: str) -> str:
    """A console script of this environment, else whatever is on PATH."""
    return shutil.which(name, path=str(BIN)) or shutil.which(name) or name


def lettr(*args: str) -> list[str]:
    return [tool("lettr"), *args]


def build_store(folder: Path, env: dict[str, str]) -> str:
    """The bench store; returns the campaign's id."""

    def run(*args: str) -> str:
        done = subprocess.run(lettr(*args), env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"lettr {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    run("list", "create", "newsletter")
    run("topic", "create", "news")
    run("contact", "import", str(SAMPLE), "--create-properties", "--list", "newsletter",
        "--topic", "news", "--yes")  # fmt: skip
    for n in range(1, 6):
        run("contact", "add", f"extra{n}@example.com", "--list", "newsletter",
            "--prop", f"first_name=Extra {n}")  # fmt: skip
    html = folder / "spring.html"
    html.write_text(
        '<p>Hello {{ first_name }}, <a href="https://example.com/spring">spring news</a>.</p>\n',
        encoding="utf-8",
    )
    campaign_id = run(
        "campaign", "create", "Spring news", "--subject", "Spring news",
        "--from-email", "news@example.com", "--html", str(html), "--json",
    ).split('"id": "', 1)[1].split('"', 1)[0]  # fmt: skip
    run("campaign", "audience", campaign_id, "--list", "newsletter")
    run("config", "set", "smtp.host", "smtp.example.com")
    listed = run("contact", "list", "--limit", "0", "--json").count('"email":')
    assert listed == 325, listed
    return campaign_id


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed: {errors.decode().strip()}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each; the median counts")
    parser.add_argument("--dir", type=Path, help="where the store goes (default: a temp folder)")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout of lettr to time beside (as 'before')"
    )
    options = parser.parse_args()
    folder = options.dir or Path(tempfile.mkdtemp(prefix="lettr-startup-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "lettr.db"
    for leftover in folder.glob("lettr.db*"):
        leftover.unlink()
    dropped = ("LETTR_", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
    env = {name: value for name, value in os.environ.items() if not name.startswith(dropped)}
    env.update(LETTR_HOME=str(folder / "home"), LETTR_DB=str(store), NO_COLOR="1")
    campaign_id = build_store(folder, env)

    commands: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "sqlite-utils tables": [tool("sqlite-utils"), "tables", str(store)],
        # The floors: what lettr cannot start quicker than while it uses these libraries.
        "floor: typer": [sys.executable, "-c", "import typer"],
        "floor: typer help (rich)": [sys.executable, "-c", "import typer.rich_utils"],
        "floor: typer+sqlalchemy": [sys.executable, "-c", "import typer, sqlalchemy"],
        "--version": lettr("--version"),
        "--help": lettr("--help"),
        "contact list": lettr("contact", "list"),
        "campaign list": lettr("campaign", "list"),
        "campaign show ID": lettr("campaign", "show", campaign_id),
        "config get KEY": lettr("config", "get", "smtp.host"),
    }
    envs = dict.fromkeys(commands, env)
    if options.baseline:
        before = {**env, "PYTHONPATH": str(options.baseline.resolve())}
        for name in [name for name in commands if name in GOALS]:
            commands[f"{name} (before)"] = commands[name]
            envs[f"{name} (before)"] = before
    for name, args in commands.items():  # warm the caches (.pyc files, the page cache) once
        timed(args, envs[name])
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(options.repeat):
        for name, args in commands.items():
            runs[name].append(timed(args, envs[name]))
    median = {name: statistics.median(wall for wall, _ in times) for name, times in runs.items()}
    cpu = {name: statistics.median(used for _, used in times) for name, times in runs.items()}

    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"lettr start-up, SQLite store of 325 contacts; median of {options.repeat} runs")
    print(f"load average {load} on {os.cpu_count()} CPUs (figures are indicative)")
    print()
    python, sqlite_utils = median["python -c pass"], median["sqlite-utils tables"]
    header = f"{'command':31} {'seconds':>8} {'× python':>9} {'× sqlite-utils':>15} {'CPU s':>7}"
    print(f"{header} {'goal':>10}")
    shown = [n for name in commands if "(before)" not in name for n in (f"{name} (before)", name)]
    for name in [name for name in shown if name in commands]:
        goal = GOALS.get(name)
        mark = "" if goal is None else f"< {goal:.2f}" + (" ok" if median[name] < goal else " !!")
        print(
            f"{name:31} {median[name]:8.3f} {median[name] / python:9.2f} "
            f"{median[name] / sqlite_utils:15.2f} {cpu[name]:7.3f} {mark:>10}"
        )
    if not options.dir:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
