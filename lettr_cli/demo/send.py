"""The demo's send: the same path as `lettr campaign send` (``start_send``, then the engine
holding the campaign's lease), reported through the engine's ``Observer``.

A campaign to more than 5,000 recipients is the store's first, so the risk check parks it in
review (DESIGN "Lifecycle"); the demo then approves it, as `lettr campaign approve` would, and
says so through the observer before it sends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lettr_cli.campaigns import lifecycle
from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.delivery.control import approve, start_send, take_lease
from lettr_cli.delivery.engine import CampaignRun
from lettr_cli.delivery.leases import Holder
from lettr_cli.delivery.objects import campaign_json
from lettr_cli.delivery.observer import Observer, RunResult
from lettr_cli.errors import CampaignNotSendable
from lettr_cli.workspace import Workspace

APPROVED = "by the demo, as `lettr campaign approve` would"


async def send_campaign(
    workspace: Workspace, campaign_id: str, *, observer: Observer, stop: asyncio.Event
) -> RunResult:
    """Send the draft now and drive it until it is sent (or stopped); returns the last run."""
    started = await start_send(workspace, campaign_id, detach=False)
    assert started.handle is not None  # not detached: the lease came with the transition
    result = await CampaignRun(workspace, started.handle, observer=observer, stop=stop).drive()
    if result.status != lifecycle.IN_REVIEW or stop.is_set():
        return result
    approved = await asyncio.to_thread(approve, workspace, campaign_id)
    observer.state(campaign_id, approved.name, "approved", APPROVED)
    taken = await asyncio.to_thread(take_lease, workspace, campaign_id)
    if isinstance(taken, Holder):  # nobody else knows this store; kept for completeness
        raise CampaignNotSendable(
            f"the campaign is being sent by another process ({taken.describe()})"
        )
    return await CampaignRun(workspace, taken, observer=observer, stop=stop).drive()


def outcome(workspace: Workspace, campaign_id: str) -> dict[str, Any]:
    """The campaign as `lettr campaign show --json` prints it (outbox counts and stats)."""
    with workspace.store.read() as session:
        return campaign_json(session, find_campaign(session, campaign_id))
