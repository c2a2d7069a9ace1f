"""How ``bench/send.py`` runs a command and measures it: ``timed`` runs one to its end and
returns a ``Run`` (wall time, the user + system CPU time of the command and the processes it
waited for, and the peak RSS of its whole process tree, the highest sum of VmRSS sampled from
/proc every 50 ms by a ``TreeSampler`` and never below the kernel's ru_maxrss). Also how the
bench starts lettr (``LETTR``, in the environment ``lettr_env`` gives it) and the script whose
child roles the bench's processes run (``SEND``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SEND = Path(__file__).resolve().with_name("send.py")  # its ROLES run the bench's child processes
LETTR = [sys.executable, "-m", "lettr_cli"]
SAMPLE_EVERY = 0.05  # seconds between two samples of a process tree's memory


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
