"""The JSON schemas of what the API answers: one per object (campaign, event page, contact,
list, topic, segment, property, domain, pagination...), kept here once and referred to by each
route's ``Doc`` (``data=ref("Campaign")``, ``data=page_of("campaigns", "Campaign")``), so that
``/api/openapi.json`` describes typed objects. Every listed field is required; fields come from
the same key lists the services build their objects from where such lists exist."""

from __future__ import annotations

from typing import Any, Final

from lettr_cli.analytics.events import EVENT_KEYS
from lettr_cli.delivery.outbox import STATES
from lettr_cli.store.counters import STAT_KEYS

Schema = dict[str, Any]


def obj(properties: Schema, required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def whole(properties: Schema) -> Schema:
    """An object whose every listed field is always present."""
    return obj(properties, tuple(properties))


def ref(name: str) -> Schema:
    assert name in SCHEMAS, name
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def page_of(key: str, name: str) -> Schema:
    """A list page: ``{key: [name...], pagination}``."""
    return whole({key: array(ref(name)), "pagination": ref("Pagination")})


TEXT: Final = {"type": "string"}
MAYBE_TEXT: Final = {"type": ["string", "null"]}
INT: Final = {"type": "integer"}
BOOL: Final = {"type": "boolean"}
MOMENT: Final = {"type": "string", "format": "date-time"}
MAYBE_MOMENT: Final = {"type": ["string", "null"], "format": "date-time"}
_COUNTS = whole
_NAMED = whole({"id": TEXT, "name": TEXT})
_CONDITION = whole({"field": TEXT, "operator": TEXT, "value": {}})
_RECORD = whole(
    {
        "type": TEXT,
        "dns_type": TEXT,
        "name": TEXT,
        "value": MAYBE_TEXT,
        "status": TEXT,
        "detail": MAYBE_TEXT,
    }
)
_CHECK = {
    "type": ["object", "null"],
    "properties": {"is_valid": BOOL, "status": TEXT, "record": MAYBE_TEXT, "error": MAYBE_TEXT},
    "required": ["is_valid", "status", "record", "error"],
}
_DNS = whole(
    {f"{kind}_{part}": MAYBE_TEXT for kind in ("dkim", "cname", "dmarc", "spf")
     for part in ("record", "error")}
)  # fmt: skip
_DKIM = {
    "type": ["object", "null"],
    "properties": {"public": TEXT, "selector": TEXT, "headers": TEXT, "signing_domain": TEXT},
    "required": ["public", "selector", "headers", "signing_domain"],
}

_CAMPAIGN: Final = {
    "id": TEXT,
    "name": TEXT,
    "subject": MAYBE_TEXT,
    "from_email": MAYBE_TEXT,
    "from_name": MAYBE_TEXT,
    "reply_to": MAYBE_TEXT,
    "status": TEXT,
    "scheduled_at": MAYBE_MOMENT,
    "total_recipients": INT,
    "sent_count": INT,
    "sent_at": MAYBE_MOMENT,
    "created_at": MOMENT,
    "stats": _COUNTS(dict.fromkeys(STAT_KEYS, INT)),
    "preview_text": MAYBE_TEXT,
    "track_opens": BOOL,
    "track_clicks": BOOL,
    "utm": {
        "type": ["object", "null"],
        "properties": {"source": TEXT, "medium": TEXT, "campaign": TEXT},
    },
    "audience": obj(
        {"all": BOOL, "lists": array(TEXT), "segments": array(TEXT), "where": TEXT},
        ("all", "lists", "segments"),
    ),
    "template": {
        "type": ["object", "null"],
        "properties": {"name": TEXT, "version": INT},
        "required": ["name", "version"],
    },
    "failure_reason": MAYBE_TEXT,
    "outbox": _COUNTS(dict.fromkeys(STATES, INT)),
}
_EVENT: Final = {
    "event_id": TEXT,
    "event_type": TEXT,
    "email": TEXT,
    "timestamp": MOMENT,
    "bounce_class": MAYBE_TEXT,
    "reason": MAYBE_TEXT,
    "target_link_url": MAYBE_TEXT,
    "user_agent": MAYBE_TEXT,
    "machine": {"type": ["boolean", "null"]},
}
assert tuple(_EVENT) == EVENT_KEYS
_DOMAIN: Final = {
    "id": TEXT,
    "domain": TEXT,
    "selector": MAYBE_TEXT,
    "dkim": _DKIM,
    "spf_include": MAYBE_TEXT,
    "status": {"enum": ["approved", "pending"]},
    "status_label": TEXT,
    "can_send": BOOL,
    "records": array(_RECORD),
    **{f"{kind}_status": TEXT for kind in ("dkim", "cname", "dmarc", "spf")},
    "is_primary_domain": BOOL,
    "tracking_domain": MAYBE_TEXT,
    "dns": _DNS,
    "dns_provider": {"type": "null"},
    "created_at": MOMENT,
    "updated_at": MAYBE_MOMENT,
    "checked_at": MAYBE_MOMENT,
    "verified_at": MAYBE_MOMENT,
}

SCHEMAS: Final[dict[str, Schema]] = {
    "Pagination": whole(dict.fromkeys(("total", "per_page", "current_page", "last_page"), INT)),
    "Campaign": whole(_CAMPAIGN),
    "CampaignDetail": whole(
        {
            **_CAMPAIGN,
            "html_content": MAYBE_TEXT,
            "text_content": MAYBE_TEXT,
            "in_doubt_recipients": array(TEXT),
        }
    ),
    "Event": whole(_EVENT),
    "EventPage": whole(
        {"events": array({"$ref": "#/components/schemas/Event"}), "next_cursor": MAYBE_TEXT}
    ),
    "Contact": whole(
        {
            "id": TEXT,
            "email": TEXT,
            "status": TEXT,
            "properties": {"type": "object"},
            "lists": array(_NAMED),
            "topics": array(_NAMED),
            "created_at": MOMENT,
            "updated_at": MOMENT,
        }
    ),
    "Property": whole(
        {
            "id": TEXT,
            "name": TEXT,
            "type": TEXT,
            "fallback_value": MAYBE_TEXT,
            "created_at": MOMENT,
        }
    ),
    "List": whole({"id": TEXT, "name": TEXT, "contacts_count": INT, "created_at": MOMENT}),
    "Topic": whole(
        {
            "id": TEXT,
            "name": TEXT,
            "description": MAYBE_TEXT,
            "default_subscription": {"enum": ["opt_in", "opt_out"]},
            "visibility": TEXT,
            "contacts_count": INT,
            "created_at": MOMENT,
        }
    ),
    "Segment": whole(
        {
            "id": TEXT,
            "name": TEXT,
            "list_id": MAYBE_TEXT,
            "list_name": MAYBE_TEXT,
            "condition_groups": array(whole({"conditions": array(_CONDITION)})),
            "contacts_count": INT,
            "created_at": MOMENT,
            "cached_contacts_count": INT,
        }
    ),
    "BulkContacts": whole(
        {
            "created": INT,
            "already_existed": INT,
            "updated": INT,
            "error_count": INT,
            "errors": array(
                whole({"index": INT, "email": MAYBE_TEXT, "error_code": TEXT, "error": TEXT})
            ),
            "contacts": array(whole({"id": TEXT, "email": TEXT, "created": BOOL})),
        }
    ),
    "Health": whole({"status": TEXT, "timestamp": MOMENT}),
    "AuthCheck": whole({"team_id": INT, "timestamp": MOMENT}),
    "Domain": whole(_DOMAIN),
    "DomainVerification": whole(
        {**_DOMAIN, "ownership_verified": {"type": "null"}, "spf": _CHECK, "dmarc": _CHECK}
    ),
}
