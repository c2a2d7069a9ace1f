"""Schema step 15 (a campaign's UTM tags): a version 10 store upgrades through every step, its
campaigns untagged, their click targets as before; a duplicate can then be tagged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lettr_cli.signing import keys
from lettr_cli.signing.tokens import Purpose
from lettr_cli.workspace import Workspace
from tests.test_migrations import ALL_VERSIONS, copy_fixture
from tests.tracking_helpers import app_client


def test_a_version_10_store_upgrades_with_its_campaigns_untagged(lettr, tmp_path: Path) -> None:
    db = copy_fixture("store_v10.db", tmp_path)
    shown = lettr("--db", str(db), "campaign", "show", "Sale", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert shown.json()["utm"] is None
    with sqlite3.connect(db) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
        stored = conn.execute("SELECT utm FROM campaigns").fetchall()
        row_id = conn.execute("SELECT min(id) FROM outbox").fetchone()[0]
    assert versions == ALL_VERSIONS and 15 in versions
    assert stored == [(None,)]

    # a click on the sent campaign still goes where it went before the upgrade
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    workspace = Workspace.open(db, home=home, environ={})
    with workspace.store.write() as session:
        token = keys.signer(session).for_row(Purpose.CLICK, row_id)
    workspace.close()
    served = tmp_path / "served"
    served.mkdir()
    (served / "lettr.db").write_bytes(db.read_bytes())
    client = app_client(served)
    assert client.get(f"/c/{token}/1").headers["location"] == "https://example.com/offer?id=1"

    copy = lettr("--db", str(db), "campaign", "duplicate", "Sale", "--json")
    assert copy.json()["utm"] is None
    tagged = lettr("--db", str(db), "campaign", "edit", copy.json()["id"], "--utm", "--json")
    assert tagged.exit_code == 0, tagged.stderr
    assert tagged.json()["utm"] == {"source": "lettr", "medium": "email", "campaign": "sale-copy"}
    preview = lettr("--db", str(db), "campaign", "preview", copy.json()["id"], "--json").json()
    assert preview["links"][0]["url"] == (
        "https://example.com/offer?id=1&utm_source=lettr&utm_medium=email&utm_campaign=sale-copy"
    )
