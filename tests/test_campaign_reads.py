"""`campaign list` and `campaign show` read through SQLAlchemy Core (issue 18, "Start-up"), on
SQLite and on PostgreSQL alike: the same objects as the ORM session builds, the same order, the
same refusals."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.cli.output import emit_json
from lettr_cli.delivery.objects import campaign_json
from lettr_cli.workspace import Workspace
from tests.conftest import store_location

pytestmark = pytest.mark.usefixtures("each_engine")


@pytest.fixture
def campaigns(lettr: Any, tmp_path: Path) -> dict[str, str]:
    """Oldest first: Alpha (own HTML, list VIP), Beta (template Base v2, segment Fans), Gamma
    (empty); returns their ids by name."""
    html = tmp_path / "a.html"
    html.write_text("<p>Hello {{ email }}</p>", encoding="utf-8")
    assert lettr("list", "create", "VIP").exit_code == 0
    assert lettr("contact", "add", "ann@example.com", "--list", "VIP").exit_code == 0
    assert lettr("segment", "create", "Fans", "--where", "email contains @").exit_code == 0
    assert lettr("template", "create", "Base", "--html", str(html)).exit_code == 0
    html.write_text("<p>Second {{ email }}</p>", encoding="utf-8")
    assert lettr("template", "update", "Base", "--html", str(html)).exit_code == 0
    ids = {}
    for name, extra in (
        ("Alpha", ["--html", str(html)]),
        ("Beta", ["--template", "Base"]),
        ("Gamma", []),
    ):
        created = lettr("campaign", "create", name, "--subject", f"{name}!", *extra, "--json")
        assert created.exit_code == 0, created.stderr
        ids[name] = created.json()["id"]
    assert lettr("campaign", "audience", "Alpha", "--list", "VIP").exit_code == 0
    assert lettr("campaign", "audience", "Beta", "--segment", "Fans").exit_code == 0
    return ids


def _orm_objects(home: Path, names: list[str], *, detail: bool) -> list[Any]:
    """What the ORM path builds, as `--json` prints it."""
    ws = Workspace.open(store_location(home), home=home, environ={})
    try:
        with ws.store.read() as session:
            found = [find_campaign(session, name) for name in names]
            bodies = [campaign_json(session, campaign, detail=detail) for campaign in found]
    finally:
        ws.close()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        emit_json(bodies)
    return list(json.loads(printed.getvalue()))


def test_show_prints_the_campaign_object(lettr, campaigns, isolated_home: Path) -> None:
    for name in campaigns:
        shown = lettr("campaign", "show", name, "--json")
        assert shown.exit_code == 0, shown.stderr
        assert [shown.json()] == _orm_objects(isolated_home, [name], detail=True)
    beta = lettr("campaign", "show", campaigns["Beta"][:8], "--json").json()
    assert beta["template"] == {"name": "Base", "version": 2}
    assert beta["html_content"] == "<p>Second {{ email }}</p>"
    assert beta["audience"] == {"all": False, "lists": [], "segments": ["Fans"]}
    alpha = lettr("campaign", "show", "Alpha").stdout
    assert "list VIP" in alpha and "Alpha!" in alpha


def test_list_prints_newest_first(lettr, campaigns, isolated_home: Path) -> None:
    listed = lettr("campaign", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert [c["name"] for c in listed.json()] == ["Gamma", "Beta", "Alpha"]
    assert listed.json() == _orm_objects(isolated_home, ["Gamma", "Beta", "Alpha"], detail=False)
    table = lettr("campaign", "list", "--limit", "2")
    assert [line.split()[1] for line in table.stdout.splitlines()[1:]] == ["Gamma", "Beta"]
    assert table.stderr.strip() == "2 of 3 shown (--limit 0 shows all)"
    assert lettr("campaign", "list", "--status", "sent", "--json").json() == []


def test_refusals_are_the_same(lettr, campaigns) -> None:
    missing = lettr("campaign", "show", "Nope", "--json")
    assert missing.exit_code == 1
    assert missing.error()["error_code"] == "not_found"
    assert lettr("campaign", "show", "Nope").stderr.startswith("Error [not_found]")
    status = lettr("campaign", "list", "--status", "done", "--json")
    assert status.exit_code == 1
    assert status.error()["error_code"] == "validation_error"
    assert lettr("campaign", "create", "Alpha").exit_code == 0  # a second Alpha
    twice = lettr("campaign", "show", "Alpha", "--json")
    assert twice.exit_code == 1
    assert "names several campaigns" in twice.error()["message"]
