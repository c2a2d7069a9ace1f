"""A group of the tracking server's writes written as sets (issue 18): one transaction holding
several opens, clicks and an unsubscribe of the same rows records what the same requests
record one at a time (unique counters once per row, a person's and a machine's opens apart,
clicks per row and URL), and a row that does not exist records nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import store_location
from tests.store_access import store_connect
from tests.tracking_helpers import BROWSER, contact_status, counters, sent_campaign

pytestmark = pytest.mark.usefixtures("each_engine")

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_one_group_of_many_kinds_records_what_one_by_one_records(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    from lettr_cli.tracking.group_writes import Click, Unsubscribe, write_group
    from lettr_cli.tracking.recording import LIST_UNSUBSCRIBE, Open
    from lettr_cli.tracking.tracker import Tracker
    from lettr_cli.workspace import Workspace

    campaign, _ = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    with store_connect(isolated_home) as conn:
        rows = dict(conn.execute("SELECT email, id FROM outbox").fetchall())
    ann, bob = rows["ann@example.com"], rows["bob@example.org"]
    tracker = Tracker(Workspace.open(store_location(isolated_home), home=isolated_home, environ={}))

    def seen(row: int, agent: str = BROWSER) -> Open:
        return Open(row_id=row, user_agent=agent, address=None, now=NOW, machine_seconds=0)

    items = [
        seen(ann),
        seen(ann),
        seen(ann, "Mozilla/5.0"),  # a machine's open, counted apart
        seen(999_999),
        Click(bob, 1, BROWSER, NOW),
        Click(bob, 1, BROWSER, NOW),
        Click(bob, 2, BROWSER, NOW),
        Click(bob, 9, BROWSER, NOW),  # no such link
        Click(999_999, 1, BROWSER, NOW),
        Unsubscribe(bob, LIST_UNSUBSCRIBE, BROWSER, NOW),
        Unsubscribe(999_999, LIST_UNSUBSCRIBE, BROWSER, NOW),
    ]
    results = tracker.store.transact(lambda conn: write_group(conn, items, tracker.links_of))
    tracker.writer.close()

    offer, shop = "https://example.com/offer?id=1", "https://example.org/shop"
    assert results[:9] == [True, True, True, False, offer, offer, shop, None, None]
    assert results[9].email == "bob@example.org" and results[10] is None
    stats = counters(isolated_home, campaign)
    assert (stats["opens"], stats["unique_opens"]) == (2, 1)
    assert (stats["machine_opens"], stats["unique_machine_opens"]) == (1, 1)
    assert (stats["clicks"], stats["unique_clicks"]) == (3, 1)
    assert stats["unsubscribes"] == 1
    assert contact_status(isolated_home, "bob@example.org") == "unsubscribed"
    with store_connect(isolated_home) as conn:
        kinds = conn.execute(
            "SELECT event_type, machine, count(*) FROM events"
            " WHERE event_type IN ('open', 'click', 'list_unsubscribe')"
            " GROUP BY event_type, machine ORDER BY event_type, machine"
        ).fetchall()
        links = conn.execute(
            "SELECT url, clicks FROM link_clicks WHERE outbox_id = ? ORDER BY url", (bob,)
        ).fetchall()
        firsts = conn.execute(
            "SELECT first_open_at IS NOT NULL, first_machine_open_at IS NOT NULL,"
            " first_click_at IS NOT NULL FROM outbox WHERE id = ?",
            (ann,),
        ).fetchone()
    assert [tuple(k) for k in kinds] == [
        ("click", 0, 3),
        ("list_unsubscribe", 0, 1),
        ("open", 0, 2),
        ("open", 1, 1),
    ]
    assert [tuple(link) for link in links] == [(offer, 2), (shop, 1)]
    assert tuple(firsts) == (1, 1, 0)
