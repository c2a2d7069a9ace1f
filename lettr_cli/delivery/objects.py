"""The campaign object of CONTRACT "Objects": the campaign's fields, its audience and template,
and its outbox counts. It lives above both campaigns and the outbox, so every face shows the same
object."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from lettr_cli.campaigns.audience import audience_json
from lettr_cli.campaigns.campaigns import STAT_KEYS, content_of
from lettr_cli.campaigns.utm import utm_json
from lettr_cli.delivery import outbox
from lettr_cli.store.tables import Campaign
from lettr_cli.store.template_use import template_in_use


def campaign_json(session: Session, campaign: Campaign, *, detail: bool = False) -> dict[str, Any]:
    html, text, _ = content_of(session, campaign)
    used = template_in_use(session, campaign)
    conn = session.connection()
    body: dict[str, Any] = {
        "id": campaign.id,
        "name": campaign.name,
        "subject": campaign.subject,
        "from_email": campaign.from_email,
        "from_name": campaign.from_name,
        "reply_to": campaign.reply_to,
        "status": campaign.status,
        "scheduled_at": campaign.scheduled_at,
        "total_recipients": campaign.total_recipients,
        "sent_count": campaign.sent_count,
        "sent_at": campaign.sent_at,
        "created_at": campaign.created_at,
        "stats": {key: getattr(campaign, key) for key in STAT_KEYS},
        "preview_text": campaign.preview_text,
        "track_opens": campaign.track_opens,
        "track_clicks": campaign.track_clicks,
        "utm": utm_json(campaign),
        "audience": audience_json(session, campaign),
        "template": None if used is None else {"name": used.template.name, "version": used.version},
        "failure_reason": campaign.failure_reason,
        "outbox": outbox.counts(conn, campaign.id),
    }
    if detail:
        body["html_content"] = html
        body["text_content"] = text
        body["in_doubt_recipients"] = outbox.in_doubt_emails(conn, campaign.id)
    return body
