"""The distribution is `lettr-cli`, so it installs beside Lettr's official SDK (`lettr` on
PyPI); the command is still `lettr` and the package `lettr_cli`. Plain `pytest` runs the tests."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import lettr_cli
from tests.conftest import REPO


def test_the_distribution_is_lettr_cli_with_the_lettr_command() -> None:
    dist = distribution("lettr-cli")
    assert dist.version == lettr_cli.__version__
    scripts = {
        entry.name: entry.value for entry in dist.entry_points.select(group="console_scripts")
    }
    assert scripts == {"lettr": "lettr_cli.cli.main:main"}


def test_plain_pytest_finds_the_tests_package(tmp_path: Path) -> None:
    pytest_script = Path(sys.executable).parent / "pytest"
    command = (
        [str(pytest_script)]
        if pytest_script.exists()
        else [sys.executable, "-c", "import sys, pytest; sys.exit(pytest.main())"]
    )
    done = subprocess.run(
        [*command, "--collect-only", "-q", "-p", "no:cacheprovider", "tests/test_times.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tests collected" in done.stdout or "collected" in done.stdout
