"""The sending engine's transitions in ``lifecycle`` (issue 14, "One owner per rule"): each moves
a campaign only from the state it expects, in SQL (``UPDATE … WHERE id = :id AND status =
:from``, the rowcount checked), so a change made meanwhile by another process is never
overwritten, whatever the caller's copy of the campaign says."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from lettr_cli.campaigns import lifecycle
from lettr_cli.store.tables import Campaign
from lettr_cli.workspace import Workspace
from tests.sending_helpers import make_campaign, store_path


@pytest.fixture
def store(lettr: Any, tmp_path: Path, isolated_home: Path) -> Iterator[tuple[Workspace, str]]:
    campaign_id = make_campaign(lettr, tmp_path, ["a@example.org"])
    workspace = Workspace.open(store_path(isolated_home), home=isolated_home, environ={})
    try:
        yield workspace, campaign_id
    finally:
        workspace.close()


def _set(home: Path, campaign_id: str, status: str) -> None:
    """What another process does, through a connection of its own."""
    with sqlite3.connect(store_path(home)) as conn:
        conn.execute("UPDATE campaigns SET status = ? WHERE id = ?", (status, campaign_id))


def _row(home: Path, campaign_id: str) -> tuple[str, str | None, str | None]:
    with sqlite3.connect(store_path(home)) as conn:
        found = conn.execute(
            "SELECT status, failure_reason, sent_at FROM campaigns WHERE id = ?", (campaign_id,)
        ).fetchone()
    return found[0], found[1], found[2]


def test_sending_to_sent_and_to_failed_move_only_a_sending_campaign(
    store: tuple[Workspace, str], isolated_home: Path
) -> None:
    workspace, campaign_id = store
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    _set(isolated_home, campaign_id, lifecycle.IN_REVIEW)
    with workspace.store.connect("IMMEDIATE") as conn, conn.begin():
        assert not lifecycle.sending_to_sent(conn, campaign_id, at)
        assert not lifecycle.sending_to_failed(conn, campaign_id, "broken")
    assert _row(isolated_home, campaign_id) == ("in_review", None, None)

    _set(isolated_home, campaign_id, lifecycle.SENDING)
    with workspace.store.connect("IMMEDIATE") as conn, conn.begin():
        assert lifecycle.sending_to_sent(conn, campaign_id, at)
        assert not lifecycle.sending_to_failed(conn, campaign_id, "too late")
    status, reason, sent_at = _row(isolated_home, campaign_id)
    assert (status, reason) == ("sent", None) and sent_at is not None
    assert sent_at.startswith("2026-01-02")

    _set(isolated_home, campaign_id, lifecycle.SENDING)
    with workspace.store.connect("IMMEDIATE") as conn, conn.begin():
        assert lifecycle.sending_to_failed(conn, campaign_id, "the content broke")
    assert _row(isolated_home, campaign_id)[:2] == ("failed", "the content broke")


def test_end_preparing_goes_by_the_store_not_by_the_callers_copy(
    store: tuple[Workspace, str], isolated_home: Path
) -> None:
    workspace, campaign_id = store
    _set(isolated_home, campaign_id, lifecycle.PREPARING)
    with workspace.store.connect("IMMEDIATE") as conn, conn.begin():
        session = Session(bind=conn)
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None and campaign.status == lifecycle.PREPARING
        # Changed meanwhile (on PostgreSQL, by another process between the read and the write).
        conn.execute(
            sa.text("UPDATE campaigns SET status = 'failed' WHERE id = :id"), {"id": campaign_id}
        )
        assert lifecycle.end_preparing(session, campaign, 0) == ("failed", None)
        assert campaign.status == "failed" and campaign.failure_reason is None
    assert _row(isolated_home, campaign_id)[:2] == ("failed", None)


def test_end_preparing_fails_an_empty_audience_and_sends_a_small_one(
    store: tuple[Workspace, str], isolated_home: Path
) -> None:
    workspace, campaign_id = store
    for total, expected in ((0, "failed"), (lifecycle.REVIEW_THRESHOLD, "sending")):
        _set(isolated_home, campaign_id, lifecycle.PREPARING)
        with workspace.store.connect("IMMEDIATE") as conn, conn.begin():
            session = Session(bind=conn)
            campaign = session.get(Campaign, campaign_id)
            assert campaign is not None
            status, reason = lifecycle.end_preparing(session, campaign, total)
        assert status == expected == _row(isolated_home, campaign_id)[0]
        assert (reason is None) == (expected == "sending")


def test_one_place_decides_the_template_version_a_campaign_uses() -> None:
    from lettr_cli.store.tables import Template
    from lettr_cli.store.template_use import version_in_use

    template = Template(name="News", active_version=3)
    assert version_in_use(Campaign(name="draft"), template) == 3  # a draft follows the active one
    assert version_in_use(Campaign(name="sent", template_version=2), template) == 2  # frozen
