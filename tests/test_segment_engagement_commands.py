"""Engagement conditions through the commands: preview, refusals, renames, deletes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.test_campaigns import set_status


@pytest.fixture
def campaigns(lettr: Any) -> dict[str, str]:
    """Two contacts and two campaigns (a draft, and one marked sent); their ids by name."""
    assert lettr("contact", "add", "ann@example.com", "bob@example.org").exit_code == 0
    ids = {}
    for name in ("Spring sale", "Summer draft"):
        result = lettr("campaign", "create", name, "--json")
        assert result.exit_code == 0, result.stderr
        ids[name] = result.json()["id"]
    return ids


def test_preview_and_show_read_engagement_like_any_field(lettr, campaigns) -> None:
    where = 'not opened "Spring sale" and opened_any within 90d'
    preview = lettr("segment", "preview", "--where", where, "--json")
    assert preview.exit_code == 0, preview.stderr
    assert preview.json() == {"count": 0, "sample": []}  # nobody opened anything yet
    never = lettr("segment", "preview", "--where", 'not received "Spring sale"', "--json")
    assert never.json() == {"count": 2, "sample": ["ann@example.com", "bob@example.org"]}
    created = lettr("segment", "create", "Cold", "--where", where, "--json")
    assert created.exit_code == 0, created.stderr
    assert created.json()["condition_groups"] == [
        {
            "conditions": [
                {"field": "opened", "operator": "is_not", "value": campaigns["Spring sale"]}
            ]
        },
        {"conditions": [{"field": "opened_any", "operator": "within", "value": "90d"}]},
    ]
    assert created.json()["where"] == where


BAD = [
    ('opened "No such campaign"', "there is no campaign named 'No such campaign'"),
    ("opened_any within 90", "'90' is not a duration; write days as 90d or weeks as 12w"),
    ("clicked_any within 0d", "out of range"),
    ("last_open before 2026-13-01", "'2026-13-01' is not a date"),
    ("last_open after tomorrow", "'tomorrow' is not a date"),
    ("opened_any equals 90d", "'equals' does not apply to opened_any"),
    ("not city equals x", "expected clicked or clicked_any or opened or opened_any or received"),
    ("not opened_any after 2026-01-01", "write 'not opened_any within 90d'"),
    ("opened", "'opened' needs a campaign"),
]


@pytest.mark.parametrize(("where", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_engagement_conditions_are_clear_validation_errors(
    lettr, campaigns, where: str, message: str
) -> None:
    result = lettr("segment", "create", "Bad", "--where", where, "--json")
    assert result.exit_code == 1, result.stdout
    error = result.error()
    assert error["error_code"] == "validation_error"
    assert message in error["errors"]["where"][0], error
    assert lettr("segment", "list", "--json").json() == []  # nothing saved


def test_a_json_document_naming_an_unknown_campaign_is_refused(
    lettr, campaigns, tmp_path: Path
) -> None:
    document = tmp_path / "c.json"
    document.write_text(
        '{"groups": [{"conditions": [{"field": "clicked", "operator": "is", "value": "nope"}]}]}'
    )
    result = lettr("segment", "create", "Bad", "--conditions", str(document), "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "validation_error"
    assert "there is no campaign named 'nope'" in result.error()["errors"]["conditions"][0]


def test_a_renamed_campaign_keeps_its_segments(lettr, campaigns) -> None:
    lettr("segment", "create", "Openers", "--where", 'opened "Spring sale"')
    renamed = lettr("campaign", "edit", "Spring sale", "--name", "Spring (final)")
    assert renamed.exit_code == 0, renamed.stderr
    shown = lettr("segment", "show", "Openers", "--json").json()
    assert shown["condition_groups"][0]["conditions"][0]["value"] == campaigns["Spring sale"]
    assert shown["where"] == 'opened "Spring (final)"'
    # a second campaign under the old name does not capture the segment
    lettr("campaign", "create", "Spring sale")
    again = lettr("segment", "show", "Openers", "--json").json()
    assert again["condition_groups"] == shown["condition_groups"]


def test_a_shared_name_is_refused_and_shown_by_id(lettr, campaigns) -> None:
    twin = lettr("campaign", "create", "Spring sale", "--json").json()["id"]
    refused = lettr("segment", "create", "X", "--where", 'opened "Spring sale"', "--json")
    assert refused.error()["error_code"] == "validation_error"
    assert "names 2 campaigns" in refused.error()["errors"]["where"][0]
    made = lettr("segment", "create", "X", "--where", f"opened {twin}", "--json")
    assert made.exit_code == 0, made.stderr
    assert made.json()["where"] == f"opened {twin}"  # the name would not read back as one


def test_deleting_a_campaign_a_segment_uses_is_refused(lettr, campaigns, isolated_home) -> None:
    lettr("segment", "create", "Draft readers", "--where", 'not clicked "Summer draft"')
    refused = lettr("campaign", "delete", "Summer draft", "--yes", "--json")
    assert refused.exit_code == 1
    assert refused.error()["error_code"] == "resource_in_use"
    assert "segment 'Draft readers'" in refused.error()["message"]
    assert lettr("campaign", "show", "Summer draft").exit_code == 0
    # the lifecycle's refusal wins where it refuses too
    set_status(isolated_home, campaigns["Spring sale"], "sent")
    lettr("segment", "create", "Sale readers", "--where", 'opened "Spring sale"')
    sent = lettr("campaign", "delete", "Spring sale", "--yes", "--json")
    assert sent.error()["error_code"] == "campaign_not_editable"
    # once the segment no longer names it, the draft can go
    assert lettr("segment", "delete", "Draft readers", "--yes").exit_code == 0
    assert lettr("campaign", "delete", "Summer draft", "--yes").exit_code == 0


def test_a_property_named_like_an_engagement_field_keeps_its_meaning(lettr, campaigns) -> None:
    """A store that had a date property `last_open` before this release: its segments stay."""
    assert lettr("property", "create", "last_open", "--type", "date").exit_code == 0
    lettr("contact", "edit", "ann@example.com", "--prop", "last_open=2025-01-01")
    made = lettr("segment", "create", "Old", "--where", "last_open before 2026-01-01", "--json")
    assert made.exit_code == 0, made.stderr
    assert made.json()["sample"] == ["ann@example.com"]


def test_the_upgrade_adds_the_engagement_indexes(lettr, tmp_path: Path) -> None:
    """store_v10.db (a campaign sent to Ann and Bob, opened and clicked through the tracking
    server) upgrades with the indexes of step 14 and answers engagement segments."""
    from tests.test_migrations import copy_fixture

    db = copy_fixture("store_v10.db", tmp_path)
    with sqlite3.connect(db) as conn:
        opened = {
            email
            for (email,) in conn.execute(
                "SELECT email FROM outbox WHERE first_open_at IS NOT NULL "
                "OR first_click_at IS NOT NULL"
            )
        }
    result = lettr("--db", str(db), "segment", "preview", "--where", "opened Sale", "--json")
    assert result.exit_code == 0, result.stderr
    assert set(result.json()["sample"]) == opened and opened
    with sqlite3.connect(db) as conn:
        names = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
        versions = [row[0] for row in conn.execute("SELECT version FROM lettr_migrations")]
    assert "ix_outbox_contact_engagement" in names
    assert 14 in versions
