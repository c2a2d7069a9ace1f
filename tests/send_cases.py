"""More set-up for the sending tests: audiences imported in one command, more campaigns on the
same audience, and reading the store behind lettr's back (plain SQL, never lettr's own modules) to
see exactly what a command left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import REPO
from tests.sending_helpers import new_campaign
from tests.store_access import store_connect

LIVENESS = 60.0  # seconds: generous bounds for things that take well under one


def write_audience(tmp_path: Path, emails: list[str], name: str = "audience") -> Path:
    path = tmp_path / f"{name}.csv"
    lines = ["email,first_name", *(f"{address},Reader{n}" for n, address in enumerate(emails))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_audience(lettr: Any, tmp_path: Path, emails: list[str], list_name: str) -> None:
    """Create the list (and ``first_name``) if needed and import ``emails`` into it."""
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("list", "create", list_name)
    csv = write_audience(tmp_path, emails, list_name)
    result = lettr("contact", "import", str(csv), "--list", list_name, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["created"] == len(emails), result.stdout


def audience_campaign(
    lettr: Any, tmp_path: Path, emails: list[str], name: str = "Sale", list_name: str = "Customers"
) -> str:
    """Like ``make_campaign``, with the audience imported from a CSV in one command."""
    import_audience(lettr, tmp_path, emails, list_name)
    return new_campaign(lettr, tmp_path, name, list_name)


def error_of(result: Any) -> dict[str, Any]:
    """The JSON error of a ``--json`` command: the last line of stderr (progress lines of a
    send may come before it)."""
    lines = result.stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    body = json.loads(lines[-1])
    assert isinstance(body, dict)
    return body


# -- reading the store -------------------------------------------------------------------------
def query(home: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with store_connect(home) as conn:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]


def execute(home: Path, sql: str, *params: Any) -> None:
    with store_connect(home) as conn:
        conn.execute(sql, params)


def campaign_row(home: Path, campaign_id: str) -> dict[str, Any]:
    with store_connect(home) as conn:
        cursor = conn.execute("SELECT * FROM campaigns WHERE id = ?", (campaign_id,))
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def campaign_status(home: Path, campaign_id: str) -> str:
    return str(campaign_row(home, campaign_id)["status"])


def outbox_states(home: Path, campaign_id: str) -> dict[str, int]:
    rows = query(
        home,
        "SELECT status, count(*) FROM outbox WHERE campaign_id = ? GROUP BY status",
        campaign_id,
    )
    return {str(status): int(n) for status, n in rows}


def outbox_count(home: Path, campaign_id: str | None = None) -> int:
    if campaign_id is None:
        return int(query(home, "SELECT count(*) FROM outbox")[0][0])
    return int(query(home, "SELECT count(*) FROM outbox WHERE campaign_id = ?", campaign_id)[0][0])


def contact_states(home: Path) -> dict[str, str]:
    return {str(e): str(s) for e, s in query(home, "SELECT email, status FROM contacts")}


def soft_failures(home: Path) -> dict[str, int]:
    rows = query(
        home,
        "SELECT c.email, s.failures FROM soft_failures s JOIN contacts c ON c.id = s.contact_id",
    )
    return {str(email): int(n) for email, n in rows}


def wait_for(condition: Callable[[], bool], what: str, timeout: float = LIVENESS) -> None:
    """Poll ``condition`` until it holds; fail after a generous ``timeout``."""
    limit = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > limit:
            raise AssertionError(f"still waiting after {timeout:.0f}s: {what}")
        time.sleep(0.05)


# -- lettr in a process of its own ---------------------------------------------------------------
def spawn(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m lettr_cli ARGS`` in a fresh interpreter that sees this worktree's code."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env["LETTR_HOME"] = str(home)
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [full_env.get("PYTHONPATH")])]
    )
    return subprocess.Popen(
        [sys.executable, "-m", "lettr_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=REPO,
    )


def finish(process: subprocess.Popen[str], timeout: float = LIVENESS) -> tuple[int, str, str]:
    """Wait for ``process`` (killing it if it outlives ``timeout``); its code and output."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        raise AssertionError(f"lettr did not finish within {timeout:.0f}s:\n{stderr}") from None
    return process.returncode, stdout, stderr


def stop(process: subprocess.Popen[str]) -> None:
    """For ``finally``: kill ``process`` if it still runs."""
    if process.poll() is None:
        process.kill()
        process.communicate()
