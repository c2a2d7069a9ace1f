"""The commands' transitions in ``lifecycle`` (issue 17): `send`, `schedule`, `unschedule`,
`approve`, `reject` and the promotion of a due campaign move a campaign only from the state
they expect, in SQL (a conditional UPDATE, the rowcount checked). A caller whose copy of the
campaign is stale (on PostgreSQL, another process changed it between the read and the write)
is refused with the error the store's state gives, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from lettr_cli.campaigns import lifecycle
from lettr_cli.errors import CampaignNotScheduled, CampaignNotSendable, LettrError
from lettr_cli.store.tables import Campaign
from lettr_cli.workspace import Workspace
from tests.conftest import store_location
from tests.sending_helpers import make_campaign
from tests.store_access import store_connect

LATER = datetime.now(UTC) + timedelta(days=1)
pytestmark = pytest.mark.usefixtures("each_engine")

MOVES: list[tuple[str, str, Callable[[Session, Campaign], None], type[LettrError]]] = [
    # (what the caller's copy says, what the store says, the move, the refusal)
    ("draft", "preparing", lifecycle.to_sending_now, CampaignNotSendable),
    ("draft", "sent", lambda s, c: lifecycle.to_scheduled(s, c, LATER), CampaignNotSendable),
    ("scheduled", "draft", lifecycle.to_draft, CampaignNotScheduled),
    ("scheduled", "preparing", lifecycle.to_preparing, CampaignNotScheduled),
    ("scheduled", "draft", lambda s, c: lifecycle.to_failed(s, c, "why"), CampaignNotSendable),
    ("in_review", "sending", lifecycle.to_approved, CampaignNotSendable),
    ("in_review", "failed", lambda s, c: lifecycle.to_rejected(s, c, "no"), CampaignNotSendable),
]


@pytest.fixture
def store(lettr: Any, tmp_path: Path, isolated_home: Path) -> Iterator[tuple[Workspace, str]]:
    campaign_id = make_campaign(lettr, tmp_path, ["a@example.org"])
    workspace = Workspace.open(store_location(isolated_home), home=isolated_home, environ={})
    try:
        yield workspace, campaign_id
    finally:
        workspace.close()


def _row(home: Path, campaign_id: str) -> tuple[str, str | None, str | None]:
    with store_connect(home) as conn:
        found = conn.execute(
            "SELECT status, failure_reason, scheduled_at FROM campaigns WHERE id = ?",
            (campaign_id,),
        ).fetchone()
    return found[0], found[1], found[2]


@pytest.mark.parametrize(("seen", "stored", "move", "refusal"), MOVES)
def test_a_move_from_a_stale_copy_is_refused_and_writes_nothing(
    store: tuple[Workspace, str],
    isolated_home: Path,
    seen: str,
    stored: str,
    move: Callable[[Session, Campaign], None],
    refusal: type[LettrError],
) -> None:
    workspace, campaign_id = store
    with store_connect(isolated_home) as conn:
        conn.execute("UPDATE campaigns SET status = ? WHERE id = ?", (stored, campaign_id))
    before = _row(isolated_home, campaign_id)
    with pytest.raises(refusal) as refused, workspace.store.write() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        set_committed_value(campaign, "status", seen)  # the copy read before the change
        move(session, campaign)
    assert stored in refused.value.message
    assert _row(isolated_home, campaign_id) == before


@pytest.mark.parametrize(("seen", "stored", "move", "refusal"), MOVES)
def test_a_move_from_the_state_the_store_has_is_written(
    store: tuple[Workspace, str],
    isolated_home: Path,
    seen: str,
    stored: str,
    move: Callable[[Session, Campaign], None],
    refusal: type[LettrError],
) -> None:
    workspace, campaign_id = store
    with store_connect(isolated_home) as conn:
        conn.execute("UPDATE campaigns SET status = ? WHERE id = ?", (seen, campaign_id))
    with workspace.store.write() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        move(session, campaign)
        moved_to = campaign.status  # the copy is refreshed from the store
    assert moved_to != seen
    assert _row(isolated_home, campaign_id)[0] == moved_to
