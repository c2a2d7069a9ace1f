"""The campaign listing every face shows (issue 14, item 3): Lettr's columns computed once by
``analytics.listing``; ``lettr campaign list`` only formats them, its output unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lettr_cli.analytics.listing import campaign_listing
from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.errors import ValidationError
from lettr_cli.workspace import Workspace
from tests.test_campaigns import CAMPAIGN_KEYS

SENT_AT = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
DUE_AT = datetime(2031, 6, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def store(isolated_home: Path) -> Iterator[Workspace]:
    ws = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    yield ws
    ws.close()


@pytest.fixture
def campaigns(lettr: Any, store: Workspace) -> None:
    """Oldest first: Sent (20 delivered of 25, 6 unique opens, 1 unique click), Later
    (scheduled), Empty (sent, nothing delivered), Draft."""
    for name in ("Sent", "Later", "Empty", "Draft"):
        assert lettr("campaign", "create", name).exit_code == 0
    with store.store.write() as session:
        sent = find_campaign(session, "Sent")
        sent.status, sent.sent_at, sent.total_recipients = "sent", SENT_AT, 25
        sent.injections, sent.deliveries, sent.opens, sent.unique_opens = 25, 20, 9, 6
        sent.clicks, sent.unique_clicks = 3, 1
        later = find_campaign(session, "Later")
        later.status, later.scheduled_at = "scheduled", DUE_AT
        empty = find_campaign(session, "Empty")
        empty.status, empty.sent_at, empty.total_recipients = "sent", SENT_AT, 3
        session.add_all([sent, later, empty])


def test_the_listing_has_lettrs_columns(campaigns: None, store: Workspace) -> None:
    with store.store.read() as session:
        listing = campaign_listing(session)
    assert listing.total == 4
    rows = {row.name: row for row in listing.rows}
    assert [row.name for row in listing.rows] == ["Draft", "Empty", "Later", "Sent"]
    sent = rows["Sent"]
    assert (sent.status, sent.recipients, sent.sent_at, sent.scheduled_at) == (
        "sent", 25, SENT_AT, None
    )  # fmt: skip
    assert (sent.open_rate, sent.click_rate) == (0.3, 0.05)  # unique over deliveries
    assert sent.when == ("sent", SENT_AT)
    later = rows["Later"]
    assert (later.status, later.scheduled_at, later.when) == (
        "scheduled",
        DUE_AT,
        ("scheduled", DUE_AT),
    )
    assert (later.open_rate, later.click_rate) == (None, None)
    assert (rows["Empty"].open_rate, rows["Empty"].when) == (None, ("sent", SENT_AT))
    draft = rows["Draft"]
    assert (draft.recipients, draft.when, draft.open_rate) == (0, None, None)
    assert draft.campaign.id == draft.id


def test_the_listing_pages_and_filters(campaigns: None, store: Workspace) -> None:
    with store.store.read() as session:
        first = campaign_listing(session, limit=3)
        rest = campaign_listing(session, limit=3, offset=3)
        assert [r.name for r in first.rows + rest.rows] == ["Draft", "Empty", "Later", "Sent"]
        assert first.total == rest.total == 4
        only_sent = campaign_listing(session, "sent")
        assert ([r.name for r in only_sent.rows], only_sent.total) == (["Empty", "Sent"], 2)
        with pytest.raises(ValidationError):
            campaign_listing(session, "bogus")
        with pytest.raises(ValidationError):
            campaign_listing(session, limit=-1)


def test_campaign_list_formats_the_listing(lettr, campaigns: None, store: Workspace) -> None:
    header, *lines = lettr("campaign", "list").stdout.splitlines()
    assert header.split() == [
        "id", "name", "status", "recipients", "when", "open_rate", "click_rate"
    ]  # fmt: skip
    with store.store.read() as session:
        rows = campaign_listing(session).rows
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        assert line.split()[:4] == [row.id[:8], row.name, row.status, str(row.recipients)]
    sent = next(line for line in lines if " Sent " in line)
    assert "sent 2026-05-01" in sent and sent.split()[-2:] == ["30.0%", "5.0%"]
    later = next(line for line in lines if " Later " in line)
    assert "scheduled 2031-06-0" in later and "%" not in later
    assert "%" not in next(line for line in lines if " Empty " in line)
    cut = lettr("campaign", "list", "--limit", "1", "--json")
    assert "1 of 4 shown" in cut.stderr
    items = lettr("campaign", "list", "--json").json()
    assert [item["id"] for item in items] == [row.id for row in rows]
    assert all(set(item) == CAMPAIGN_KEYS for item in items)
    assert items[-1]["stats"]["unique_opens"] == 6
