"""The campaign object of CONTRACT "Objects": the campaign's fields, its audience and template,
and its outbox counts. It lives above both campaigns and the outbox, so every face shows the same
object; ``campaign_body`` builds it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from lettr_cli.delivery.campaign_body import campaign_body
from lettr_cli.store.core_tables import connection_of
from lettr_cli.store.tables import Campaign


def campaign_json(session: Session, campaign: Campaign, *, detail: bool = False) -> dict[str, Any]:
    """The object of ``campaign``, read in ``session``'s transaction (its changes flushed)."""
    return campaign_body(connection_of(session), campaign, detail=detail)
