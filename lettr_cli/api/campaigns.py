"""Lettr's Campaigns API (reference §17): list, get (with ``html_content``), events, send (202:
the daemon sends, as ``campaign send --detach``), schedule and unschedule. Paths take ids only."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lettr_cli.analytics.events import API_FIELDS, list_events, make_filters
from lettr_cli.api.endpoints import Call, route
from lettr_cli.api.envelopes import ok
from lettr_cli.api.openapi import PAGE, Doc, strings
from lettr_cli.api.params import body_text, pagination, text, whole, window
from lettr_cli.api.schemas import page_of, ref
from lettr_cli.campaigns.instants import future_instant
from lettr_cli.campaigns.lookups import campaign_by_id, campaigns_page
from lettr_cli.campaigns.scheduling import schedule_at, unschedule
from lettr_cli.delivery.control import start_send
from lettr_cli.delivery.objects import campaign_json
from lettr_cli.errors import NotFound
from lettr_cli.store.tables import Campaign
from lettr_cli.workspace import Workspace

READ = "campaigns:read"
WRITE = "campaigns:write"
SCHEDULED = "Campaign scheduled for delivery."
EVENT_QUERY = ("event_type", "email", "start_date", "end_date", "limit", "cursor")


def _campaign(session: Session, campaign_id: str) -> Campaign:
    try:
        return campaign_by_id(session, campaign_id)
    except NotFound:
        raise NotFound("Campaign not found.") from None


def _shown(workspace: Workspace, campaign_id: str, *, detail: bool = False) -> dict[str, Any]:
    with workspace.store.read() as session:
        return campaign_json(session, _campaign(session, campaign_id), detail=detail)


def _exists(workspace: Workspace, campaign_id: str) -> None:
    with workspace.store.read() as session:
        _campaign(session, campaign_id)


def list_campaigns(call: Call) -> Response:
    chosen = window(call.query)
    with call.workspace.store.read() as session:
        found = campaigns_page(
            session, text(call.query, "status"), limit=chosen.per_page, offset=chosen.offset
        )
        rows = [campaign_json(session, campaign) for campaign in found.rows]
    data = {"campaigns": rows, "pagination": pagination(found, chosen)}
    return ok("Campaigns retrieved successfully.", data)


def get_campaign(call: Call) -> Response:
    data = _shown(call.workspace, call.path["campaign_id"], detail=True)
    return ok("Campaign retrieved successfully.", data)


def campaign_events(call: Call) -> Response:
    query = call.query
    limit = whole(query, "limit", 25, 1, 100)
    filters = make_filters(
        text(query, "event_type"),
        text(query, "email"),
        text(query, "start_date"),
        text(query, "end_date"),
        "UTC",
        names=API_FIELDS,
    )
    with call.workspace.store.read() as session:
        campaign = _campaign(session, call.path["campaign_id"])
        found = list_events(
            session.connection(), campaign.id, filters, limit=limit, cursor=text(query, "cursor")
        )
    return ok("Campaign events retrieved successfully.", found.to_json())


async def send(call: Call) -> Response:
    campaign_id = call.path["campaign_id"]
    await run_in_threadpool(_exists, call.workspace, campaign_id)
    await start_send(call.workspace, campaign_id, detach=True)
    data = await run_in_threadpool(_shown, call.workspace, campaign_id)
    return ok(SCHEDULED, data, status=202)


async def schedule(call: Call) -> Response:
    campaign_id = call.path["campaign_id"]
    when = body_text(call.body, "scheduled_at", required=True)
    assert when is not None
    await run_in_threadpool(_exists, call.workspace, campaign_id)
    parsed = future_instant(when, "scheduled_at")
    await schedule_at(call.workspace, campaign_id, parsed)
    data = await run_in_threadpool(_shown, call.workspace, campaign_id)
    return ok(SCHEDULED, data)


def unschedule_campaign(call: Call) -> Response:
    campaign_id = call.path["campaign_id"]
    _exists(call.workspace, campaign_id)
    unschedule(call.workspace, campaign_id)
    return ok("Campaign unscheduled successfully.", _shown(call.workspace, campaign_id))


ROUTES = [
    route(
        "/campaigns",
        "GET",
        READ,
        list_campaigns,
        doc=Doc("List campaigns", (*PAGE, "status"), data=page_of("campaigns", "Campaign")),
    ),
    route(
        "/campaigns/{campaign_id}",
        "GET",
        READ,
        get_campaign,
        doc=Doc("Get a campaign", data=ref("CampaignDetail")),
    ),
    route(
        "/campaigns/{campaign_id}/events",
        "GET",
        READ,
        campaign_events,
        doc=Doc("List campaign events", EVENT_QUERY, data=ref("EventPage")),
    ),
    route(
        "/campaigns/{campaign_id}/send",
        "POST",
        WRITE,
        run=send,
        doc=Doc("Send a campaign", success=202, data=ref("Campaign")),
    ),
    route(
        "/campaigns/{campaign_id}/schedule",
        "POST",
        WRITE,
        run=schedule,
        doc=Doc(
            "Schedule a campaign",
            body=strings("scheduled_at", required=("scheduled_at",)),
            data=ref("Campaign"),
        ),
    ),
    route(
        "/campaigns/{campaign_id}/unschedule",
        "POST",
        WRITE,
        unschedule_campaign,
        doc=Doc("Unschedule a campaign", data=ref("Campaign")),
    ),
]
