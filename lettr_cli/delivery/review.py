"""The Review step (reference §5; `campaign review`, the wizard's last step): what would go out,
to how many, and every reason a send would be refused now, the relay's included. Plain data."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.campaigns.readiness import assess, check_relay
from lettr_cli.delivery.objects import campaign_json
from lettr_cli.errors import LettrError
from lettr_cli.workspace import Workspace


@dataclass
class Summary:
    """A campaign as a send would take it, and what would stop the send: ``refusals`` (each a
    ``LettrError`` with its CONTRACT code, the relay's last) and the content check's warnings."""

    campaign_id: str
    name: str
    status: str
    subject: str | None
    from_email: str | None
    from_name: str | None
    reply_to: str | None
    audience: dict[str, Any]  # {"all": bool, "lists": [names], "segments": [names]}
    estimated_recipients: int  # subscribed, de-duplicated
    scheduled_at: str | None  # ISO 8601, UTC
    refusals: list[LettrError] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)

    @property
    def sendable(self) -> bool:
        return not self.refusals

    def errors(self) -> list[dict[str, str]]:
        """The refusals as CONTRACT's error objects (code and message)."""
        return [{"code": r.code, "message": r.message} for r in self.refusals]

    def to_json(self) -> dict[str, Any]:
        """The summary `campaign review --json` prints."""
        return {
            "errors": self.errors(),
            "warnings": self.warnings,
            "subject": self.subject,
            "from_email": self.from_email,
            "from_name": self.from_name,
            "reply_to": self.reply_to,
            "status": self.status,
            "audience": self.audience,
            "estimated_recipients": self.estimated_recipients,
            "scheduled_at": self.scheduled_at,
        }


def summarize(workspace: Workspace, ref: str, relay: LettrError | None = None) -> Summary:
    """The summary of the campaign ``ref`` names, with the relay's verdict (``check_relay``)
    taken by the caller: ``None`` when it answered, or when it was not asked."""
    with workspace.store.write() as session:
        campaign = find_campaign(session, ref)
        readiness = assess(workspace, session, campaign)
        body = campaign_json(session, campaign)
    refusals = list(readiness.refusals)
    if relay is not None:
        refusals.append(relay)
    return Summary(
        campaign_id=body["id"],
        name=body["name"],
        status=body["status"],
        subject=body["subject"],
        from_email=body["from_email"],
        from_name=body["from_name"],
        reply_to=body["reply_to"],
        audience=body["audience"],
        estimated_recipients=readiness.estimated_recipients,
        scheduled_at=body["scheduled_at"],
        refusals=refusals,
        warnings=list(readiness.findings.warnings),
    )


async def review(workspace: Workspace, ref: str) -> Summary:
    """The summary, the relay checked too (connect, TLS, AUTH). Safe inside any running event
    loop: the store's work (a render and an audience count) runs on a worker thread, and no
    transaction is open while the relay is asked."""
    found = await asyncio.to_thread(summarize, workspace, ref)
    relay = await check_relay(workspace)
    if relay is not None:
        found.refusals.append(relay)
    return found
