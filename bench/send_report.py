"""The tables ``bench/send.py`` prints: one per message (``report``: messages, seconds, msg/s,
the ratios to mailmerge and to the aiosmtplib ceiling, CPU time, peak RSS and preparing time
per ``Row``), the summary grid of msg/s at defaults against the goals (``grid``), and the
verdicts on memory and preparing at 100,000 recipients (``memory``).
"""

from __future__ import annotations

from dataclasses import dataclass

from send_measure import Run
from send_store import Store
from send_workloads import WORKLOADS


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


def memory(big: Row | None, small: Row | None, big_store: Store | None) -> None:
    """The verdicts of the 100,000-recipient run; its growth is measured from the signed 8 KB
    message at 5,000 (``small``), so without that row (``--workloads``) it is not compared."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    if big is None or big_store is None:
        print("\nmemory and preparing at 100,000: not measured (--skip-big)")
        return
    peak = big.run.peak_kib / 1024
    if small is None:
        growth_text = "not compared (the 8 KB message was left out of --workloads)"
    else:
        growth = (big.run.peak_kib - small.run.peak_kib) / 1024
        growth_text = (
            f"{growth:+.1f} MiB from the peak at {small.messages:,} "
            f"(within 50 MB: {verdict(growth * 1.048576 <= 50)})"
        )
    print(
        f"\nmemory flat: peak at {big.messages:,}: {growth_text}; "
        f"{peak:.0f} MiB (under 400 MB: {verdict(peak * 1.048576 < 400)})"
    )
    print(
        f"preparing {big.messages:,} recipients in under 2 s: {big_store.prepare_seconds:.2f} s "
        f"({verdict(big_store.prepare_seconds < 2)})"
    )
