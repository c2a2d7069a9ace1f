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


def test_the_official_sdk_installs_beside_it_and_the_command_stays_ours() -> None:
    """The test extra pins Lettr's SDK (`lettr` 1.7.0): `import lettr` is the SDK, and the
    `lettr` command is still lettr-cli's."""
    import lettr

    sdk = distribution("lettr")
    assert sdk.version == "1.7.0"
    assert lettr.__version__ == "1.7.0" and hasattr(lettr, "Lettr")
    assert not [e for e in sdk.entry_points if e.group == "console_scripts"]
    script = Path(sys.executable).parent / "lettr"
    done = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"lettr {lettr_cli.__version__}\n"
