"""``--profile`` of ``bench/send.py``: a campaign sent again from a copy of its store, with
``campaign send`` (and ``campaign approve`` when it parks in review) run under cProfile in
every thread (``profiled``, ``send.py``'s ``_profile`` role: ``python -m cProfile`` alone sees
only the main thread, not the render and writer threads); ``run_profile`` merges the stats and
prints the top lines by cumulative time and by own time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from send_measure import LETTR, SEND, lettr_env, timed
from send_store import Store


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
            [sys.executable, str(SEND), "_profile", str(out), "campaign", *args],
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
