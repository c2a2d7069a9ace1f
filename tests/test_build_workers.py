"""The engine's build worker processes never write to the terminal (the wizard draws its
screen there): what a worker prints, through Python or straight to file descriptors 1 and 2,
goes nowhere, the messages are still built, and an error in a worker still reaches the parent
as an exception. Run in a subprocess with pipes: its pipes are the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="worker processes are used with two cores or more"
)


def _build(tmp_path: Path, broken: bool) -> tuple[subprocess.CompletedProcess[str], dict, list]:
    out, marker = tmp_path / "out.json", tmp_path / "marker.txt"
    code = (
        "import sys; from tests.noisy_build import main; "
        "main(sys.argv[1], sys.argv[2], sys.argv[3] == 'broken')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(out), str(marker), "broken" if broken else "ok"],
        capture_output=True, text=True, timeout=120, check=False, cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "always"},
    )  # fmt: skip
    report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    noise = marker.read_text(encoding="utf-8").splitlines() if marker.exists() else []
    return done, report, noise


def test_workers_write_nothing_to_the_terminal_and_still_build(tmp_path: Path) -> None:
    done, report, noise = _build(tmp_path, broken=False)
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")
    assert report["processes"] is True
    assert report["built"] == [f"user{n}@example.org" for n in range(1, 7)]
    assert report["subjects"] == [f"Hello user{n}@example.org" for n in range(1, 7)]
    workers = {line.split()[0] for line in noise}
    assert workers and str(report["pid"]) not in workers  # the noise ran, in the workers
    assert sum("building" in line for line in noise) == 6


def test_an_error_in_a_worker_reaches_the_parent_as_an_exception(tmp_path: Path) -> None:
    done, report, noise = _build(tmp_path, broken=True)
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")
    assert report["error"] == "RuntimeError: the template engine broke"
    assert "built" not in report
    assert any("starting" in line for line in noise)
