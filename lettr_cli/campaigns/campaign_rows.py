"""Campaigns read through SQLAlchemy Core (no ORM, no pydantic), so that `campaign list` and
`campaign show` start quickly (issue 18, "Start-up").

The rules live here once and the ORM side asks here: how people name a campaign
(``campaigns.find_campaign``), which content a campaign sends (``content_of``) and how its
audience reads (``audience_json``). Each function takes the campaign as an ORM ``Campaign`` or
a Core row of ``core_tables.campaigns`` alike: they read the same attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from lettr_cli.errors import NotFound, ValidationError
from lettr_cli.store.core_tables import (
    campaigns,
    counted_page,
    lists,
    segments,
    template_versions,
    templates,
)
from lettr_cli.store.statuses import STATUSES
from lettr_cli.store.template_use import version_in_use

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

MIN_PREFIX = 6
ORDER = (campaigns.c.created_at.desc(), campaigns.c.id.desc())  # newest first


def check_status(status: str) -> str:
    """A campaign status as a filter; anything else is ``validation_error``."""
    if status not in STATUSES:
        raise ValidationError.field(
            "status", f"unknown status '{status}'; one of: {', '.join(STATUSES)}"
        )
    return status


def find_campaign_row(conn: Connection, ref: str) -> Any:
    """By exact id, then exact name, then an id prefix of at least 6 characters."""
    ref = ref.strip()
    found = conn.execute(select(campaigns).where(campaigns.c.id == ref)).first()
    if found is not None:
        return found
    named: Sequence[Any] = conn.execute(select(campaigns).where(campaigns.c.name == ref)).all()
    if not named and len(ref) >= MIN_PREFIX:
        prefixed = select(campaigns).where(campaigns.c.id.startswith(ref.lower()))
        named = conn.execute(prefixed).all()
    if len(named) == 1:
        return named[0]
    if not named:
        raise NotFound(f"no campaign with the id, name or id prefix '{ref}'")
    candidates = ", ".join(f"{c.id} ({c.name}, {c.status})" for c in named)
    raise ValidationError.field("campaign", f"'{ref}' names several campaigns: {candidates}")


def campaign_page(
    conn: Connection, status: str | None, limit: int | None
) -> tuple[Sequence[Any], int]:
    """Campaigns newest first (those in ``status`` when given): at most ``limit`` of them (all
    when None) and how many there are in all."""
    query = select(campaigns)
    if status:
        query = query.where(campaigns.c.status == check_status(status))
    return counted_page(conn, query, ORDER, limit)


def template_in_use_row(conn: Connection, campaign: Any) -> tuple[str, str, int] | None:
    """The id and name of the template ``campaign`` follows and the version it uses
    (``version_in_use``); None without a template, or when it is gone."""
    if campaign.template_id is None:
        return None
    template = conn.execute(
        select(templates.c.name, templates.c.active_version).where(
            templates.c.id == campaign.template_id
        )
    ).first()
    if template is None:
        return None
    return campaign.template_id, template.name, version_in_use(campaign, template)


def content_row(conn: Connection, campaign: Any) -> tuple[str | None, str | None]:
    """The HTML and text a campaign sends: its own, or its template's version in use."""
    used = template_in_use_row(conn, campaign)
    if used is None:
        return campaign.html_content, campaign.text_content
    template_id, name, version = used
    found = conn.execute(
        select(template_versions.c.html_content, template_versions.c.text_content).where(
            template_versions.c.template_id == template_id,
            template_versions.c.version == version,
        )
    ).first()
    if found is None:
        raise NotFound(f"template '{name}' has no version {version}")
    return found.html_content, found.text_content


def audience_body(conn: Connection, campaign: Any) -> dict[str, Any]:
    """The campaign object's ``audience``: the lists and segments by name (an id whose list or
    segment is gone stays as it is), and a resend's conditions as text."""
    audience = campaign.audience
    list_ids = list(audience.get("lists", []))
    segment_ids = list(audience.get("segments", []))
    list_names = dict(
        conn.execute(select(lists.c.id, lists.c.name).where(lists.c.id.in_(list_ids))).all()
    )
    segment_names = dict(
        conn.execute(
            select(segments.c.id, segments.c.name).where(segments.c.id.in_(segment_ids))
        ).all()
    )
    body: dict[str, Any] = {
        "all": bool(audience.get("all")),
        "lists": [list_names.get(i, i) for i in list_ids],
        "segments": [segment_names.get(i, i) for i in segment_ids],
    }
    conditions = audience.get("conditions")
    if conditions:  # only a resend's audience has them
        body["where"] = _conditions_text(conn, conditions)
    return body


def _conditions_text(conn: Connection, conditions: Any) -> str:
    # The segment machinery reads through the ORM; only a resend's campaign object needs it.
    from sqlmodel import Session

    from lettr_cli.audience.segments.checks import display_groups
    from lettr_cli.audience.segments.model import from_stored
    from lettr_cli.audience.segments.parser import to_text

    with Session(bind=conn) as session:
        return to_text(display_groups(session, from_stored(conditions)))
