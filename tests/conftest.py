"""Every test runs with its own LETTR_HOME and no LETTR_* variable from the outside; Hypothesis
runs under the profile HYPOTHESIS_PROFILE names (dev, or ci for CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from lettr_cli.cli.main import app
from tests.smtp_relay import Relay

REPO = Path(__file__).resolve().parent.parent

# Hypothesis profiles, chosen by HYPOTHESIS_PROFILE (default dev). dev: Hypothesis's defaults, a
# new random search each run. ci (.ci/run sets it): the same examples on every run (a red build
# is reproducible), no deadline on a loaded machine, twice the examples where a test names none.
# Both built on Hypothesis's own defaults, not on whatever profile is loaded: this module also
# runs as tests.conftest when a test imports a helper from it.
_defaults = settings.get_profile("default")
settings.register_profile("dev", settings(_defaults, print_blob=True))
settings.register_profile(
    "ci",
    settings(
        _defaults, derandomize=True, deadline=None, max_examples=200, print_blob=True, database=None
    ),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "dev")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("LETTR_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("LETTR_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    return home


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> Any:
        return json.loads(self.stderr)


@pytest.fixture
def lettr() -> Any:
    """Run lettr in this process: ``lettr("config", "show", "--json")``."""

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        result = CliRunner().invoke(app, list(args), env=env, input=input, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


def run_process(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m lettr_cli ARGS`` in a fresh interpreter, as a user would."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "lettr_cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def smtp_server() -> Iterator[Relay]:
    """A real SMTP relay (aiosmtpd) on loopback, on an ephemeral port: the scriptable ``Relay``."""
    with Relay() as relay:
        yield relay


@pytest.fixture
def auth_server() -> Iterator[Relay]:
    """A relay on loopback that requires AUTH: user ``apikey``, password ``s3cret``."""
    with Relay(auth=("apikey", "s3cret")) as relay:
        yield relay


@pytest.fixture
def relay(smtp_server: Relay, verified_domain: Any) -> Relay:
    """example.com verified and lettr pointed at ``smtp_server``, the relay a test scripts."""
    verified_domain()
    return smtp_server


@pytest.fixture
def verified_domain(lettr: Any, smtp_server: Relay) -> Any:
    """Point lettr at the test SMTP server and verify example.com through a loopback DNS."""
    from lettr_cli.domains.responder import DnsResponder

    def verify(domain: str = "example.com") -> None:
        lettr("config", "set", "smtp.host", smtp_server.host)
        lettr("config", "set", "smtp.port", str(smtp_server.port))
        lettr("config", "set", "smtp.security", "none")
        assert lettr("domain", "add", domain).exit_code == 0
        records = lettr("domain", "records", domain, "--json").json()
        with DnsResponder() as dns:
            for record in records:
                dns.publish(record["name"], record["value"])
            result = lettr("domain", "verify", domain, "--nameserver", dns.nameserver, "--json")
        assert result.exit_code == 0, result.stderr

    return verify


@pytest.fixture
def responder() -> Iterator[Any]:
    """A DNS responder on loopback (``DnsResponder``) that answers what the test publishes."""
    from lettr_cli.domains.responder import DnsResponder

    with DnsResponder() as server:
        yield server


@pytest.fixture
def audience(template: Path, isolated_home: Path) -> None:
    """The store the test module's ``template`` fixture built, copied into this test's home."""
    from tests.store_templates import install

    install(template, isolated_home)


# -- lettr in real processes (the crash and lease tests) ----------------------------------------
@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """example.com verified, ``SMALL`` contacts in the list Customers and the draft ``Sale``:
    built once per test process, installed by each test."""
    from tests.crash_helpers import SMALL, stored_audience

    return stored_audience(tmp_path_factory, SMALL)


@pytest.fixture
def lettr_processes(smtp_server: Relay, isolated_home: Path, tmp_path: Path) -> Iterator[Any]:
    """Start lettr in processes of its own that send to ``smtp_server``; ends them all."""
    from tests.crash_helpers import Processes

    processes = Processes(tmp_path, isolated_home, smtp_server.port)
    try:
        yield processes
    finally:
        processes.end_all()


@pytest.fixture(autouse=True)
def truecolour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual apps made in a test see a truecolour terminal whatever TERM and COLORTERM say
    (the wizard styles its inputs for 16 colours), so snapshots do not depend on where the
    tests run. Textual reads ``TEXTUAL_COLOR_SYSTEM`` once, at import."""
    constants = sys.modules.get("textual.constants")
    if constants is not None:
        monkeypatch.setattr(constants, "COLOR_SYSTEM", "truecolor")


@pytest.fixture
def sixteen_colours(monkeypatch: pytest.MonkeyPatch, truecolour_terminal: None) -> None:
    """Apps made in the test see a 16-colour terminal, as ``TEXTUAL_COLOR_SYSTEM=standard``
    (or TERM=xterm without COLORTERM) gives them."""
    import textual.constants

    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "standard")


# -- both engines (the PostgreSQL issue) ---------------------------------------------------------
@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A throwaway PostgreSQL for this test process (tests/pg_server.py), or why there is none.

    With LETTR_TEST_REQUIRE_PG=1 (.ci/run sets it) a missing server fails instead of skipping.
    """
    from tests.pg_server import Unavailable, start_or_why

    server = start_or_why()
    if isinstance(server, Unavailable):
        yield server
        return
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: Any) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database for this test (dropped afterwards)."""
    from tests.pg_server import Unavailable

    if isinstance(pg_server, Unavailable):
        pytest.skip(f"no PostgreSQL here: {pg_server}")
    url = pg_server.new_database()
    try:
        yield url
    finally:
        pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def each_engine(request: pytest.FixtureRequest, isolated_home: Path, monkeypatch: Any) -> str:
    """Run the test once on SQLite (the default store in LETTR_HOME) and once on PostgreSQL
    (LETTR_DB set to a new database). Modules opt in with
    ``pytestmark = pytest.mark.usefixtures("each_engine")``; code that opens the store itself
    goes through ``store_location``."""
    if request.param == "sqlite":
        return "sqlite"
    url: str = request.getfixturevalue("pg_url")
    monkeypatch.setenv("LETTR_DB", url)
    return url


def store_location(home: Path) -> Any:
    """The store the test's commands use: LETTR_DB when set (the PostgreSQL variant), else the
    default file in ``home``."""
    from lettr_cli.store.location import parse_location

    configured = os.environ.get("LETTR_DB")
    return parse_location(configured) if configured else home / "lettr.db"


def engine_location(request: pytest.FixtureRequest, file: Path) -> Any:
    """For a fixture parametrised by engine ("sqlite", "postgresql"): ``file``, or a new
    database on the session's PostgreSQL (skipped when there is none)."""
    from tests.pg_server import Unavailable

    if request.param == "sqlite":
        return file
    from lettr_cli.store.location import parse_location

    server = request.getfixturevalue("pg_server")
    if isinstance(server, Unavailable):
        pytest.skip(f"no PostgreSQL here: {server}")
    return parse_location(server.new_database())
