"""The campaign object of CONTRACT "Objects", built through SQLAlchemy Core alone: the
campaign's fields, its audience and template, and its outbox counts.

Every face shows this one object: ``objects.campaign_json`` builds it here for an ORM campaign,
and `campaign show` and `campaign list --json` for a Core row, without loading the ORM (issue
18, "Start-up").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lettr_cli.campaigns.campaign_rows import audience_body, content_row, template_in_use_row
from lettr_cli.campaigns.utm import utm_json
from lettr_cli.delivery.outbox_counts import counts, in_doubt_emails
from lettr_cli.store.counters import STAT_KEYS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def campaign_body(conn: Connection, campaign: Any, *, detail: bool = False) -> dict[str, Any]:
    """The object of ``campaign`` (an ORM ``Campaign`` or a ``core_tables.campaigns`` row);
    ``detail`` adds its content and its in-doubt recipients (`campaign show`)."""
    html, text = content_row(conn, campaign)
    used = template_in_use_row(conn, campaign)
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
        "audience": audience_body(conn, campaign),
        "template": None if used is None else {"name": used[1], "version": used[2]},
        "failure_reason": campaign.failure_reason,
        "outbox": counts(conn, campaign.id),
    }
    if detail:
        body["html_content"] = html
        body["text_content"] = text
        body["in_doubt_recipients"] = in_doubt_emails(conn, campaign.id)
    return body
