"""Campaigns: create, edit (drafts only), find, list, duplicate and delete (reference §2–§4)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, cast

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from lettr_cli.audience.segments.usage import segments_using
from lettr_cli.campaigns import campaign_rows, lifecycle
from lettr_cli.campaigns.campaign_rows import check_status, content_row, find_campaign_row
from lettr_cli.campaigns.templates import check_content, find_template
from lettr_cli.campaigns.utm import UtmChoice, apply_utm
from lettr_cli.content.message import check_header_value
from lettr_cli.errors import ValidationError
from lettr_cli.references import refuse_if_used
from lettr_cli.store import counters
from lettr_cli.store.core_tables import connection_of
from lettr_cli.store.tables import Campaign, Template
from lettr_cli.store.template_use import template_in_use
from lettr_cli.store.types import utcnow

MIN_PREFIX = campaign_rows.MIN_PREFIX
# How campaigns are listed and paged: newest first, the id making the order total.
CAMPAIGN_ORDER = (col(Campaign.created_at).desc(), col(Campaign.id).desc())
STAT_KEYS = counters.STAT_KEYS  # the campaign's counters, written by the ledger alone


@dataclass
class CampaignFields:
    """What `campaign create` and `edit` set; None leaves a field as it is."""

    name: str | None = None
    subject: str | None = None
    from_email: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    preview_text: str | None = None
    html: str | None = None
    text: str | None = None
    template: str | None = None
    track_opens: bool | None = None
    track_clicks: bool | None = None
    utm: UtmChoice | None = None

    def given(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


def find_campaign(session: Session, ref: str) -> Campaign:
    """By exact id, then exact name, then an id prefix of at least 6 characters
    (``campaign_rows.find_campaign_row``)."""
    found = session.get(Campaign, find_campaign_row(connection_of(session), ref).id)
    assert found is not None, "found in this transaction"
    return found


def _address(field: str, value: str) -> str | None:
    from lettr_cli.addressing.addresses import parse_address

    if not value.strip():
        return None
    check_header_value(field, value)
    return parse_address(value, field).email


def _line(field: str, value: str, limit: int) -> str | None:
    check_header_value(field, value)
    if len(value) > limit:
        raise ValidationError.field(field, f"{field} is longer than {limit} characters")
    return value or None


def _apply(session: Session, campaign: Campaign, chosen: CampaignFields) -> None:
    given = chosen.given()
    _apply_envelope(campaign, given)
    _apply_content(session, campaign, given)
    for flag in ("track_opens", "track_clicks"):
        if flag in given:
            setattr(campaign, flag, given[flag])
    if "utm" in given:
        apply_utm(campaign, given["utm"])
    campaign.updated_at = utcnow()


def _apply_envelope(campaign: Campaign, given: dict[str, Any]) -> None:
    if "name" in given:
        name = _line("name", given["name"].strip(), 255)
        if not name:
            raise ValidationError.field("name", "a campaign needs a name")
        campaign.name = name
    if "subject" in given:
        campaign.subject = _line("subject", given["subject"], 998)
    if "from_name" in given:
        campaign.from_name = _line("from_name", given["from_name"], 255)
    if "preview_text" in given:
        campaign.preview_text = _line("preview_text", given["preview_text"], 1000)
    for field in ("from_email", "reply_to"):
        if field in given:
            setattr(campaign, field, _address(field, given[field]))


def _apply_content(session: Session, campaign: Campaign, given: dict[str, Any]) -> None:
    if "html" in given and "template" in given:
        raise ValidationError.field("html_content", "give either --html or --template, not both")
    if "template" in given:
        template = find_template(session, given["template"])
        campaign.template_id, campaign.template_version = template.id, None
        campaign.html_content = campaign.text_content = None
    if "html" in given or "text" in given:
        html = given.get("html", campaign.html_content)
        if html is None:
            raise ValidationError.field("html_content", "a text part needs HTML content too")
        check_content(html, given.get("text"))
        campaign.html_content, campaign.text_content = html, given.get("text")
        campaign.template_id = campaign.template_version = None


def create_campaign(
    session: Session, chosen: CampaignFields, *, track_opens: bool, track_clicks: bool
) -> Campaign:
    """A new draft; tracking defaults come from ``tracking.opens`` / ``tracking.clicks``."""
    campaign = Campaign(
        name="Untitled campaign", track_opens=track_opens, track_clicks=track_clicks
    )
    _apply(session, campaign, chosen)
    session.add(campaign)
    session.flush()
    return campaign


def edit_campaign(session: Session, ref: str, chosen: CampaignFields) -> Campaign:
    campaign = find_campaign(session, ref)
    lifecycle.require_editable(campaign)
    _apply(session, campaign, chosen)
    session.add(campaign)
    return campaign


def duplicate_campaign(session: Session, ref: str, name: str | None) -> Campaign:
    """A new draft with the same content, sender and audience, from a campaign in any state.

    A copy of a campaign linked to a template keeps the link: to the version the original
    froze, or, copying a draft, to the template's active version as the draft does.
    """
    original = find_campaign(session, ref)
    copy = Campaign(
        name=name or f"{original.name} (copy)",
        subject=original.subject,
        from_email=original.from_email,
        from_name=original.from_name,
        reply_to=original.reply_to,
        preview_text=original.preview_text,
        track_opens=original.track_opens,
        track_clicks=original.track_clicks,
        audience=dict(original.audience),
        utm=None if original.utm is None else dict(original.utm),
    )
    copy.template_id, copy.template_version = original.template_id, original.template_version
    copy.html_content, copy.text_content = original.html_content, original.text_content
    _apply(session, copy, CampaignFields(name=copy.name))
    session.add(copy)
    session.flush()
    return copy


def deletable_campaign(session: Session, ref: str) -> Campaign:
    """The campaign ``ref`` names, if its state lets it be deleted (draft or failed) and no
    segment's engagement conditions name it (``resource_in_use``); the state is checked first."""
    campaign = find_campaign(session, ref)
    lifecycle.require_deletable(campaign)
    segments = segments_using(session, campaign_id=campaign.id)
    refuse_if_used(session, "campaign", campaign.name, segments=segments)
    return campaign


def delete_campaign(session: Session, ref: str) -> str:
    campaign = deletable_campaign(session, ref)
    session.delete(campaign)
    return campaign.id


def campaigns_in(status: str | None) -> SelectOfScalar[Campaign]:
    """Every campaign, or those in ``status`` (an unknown status is ``validation_error``)."""
    return cast("SelectOfScalar[Campaign]", _in_status(select(Campaign), status))


def list_campaigns(session: Session, status: str | None, *, limit: int = 0) -> list[Campaign]:
    """Campaigns newest first, only those in ``status`` if given; at most ``limit`` (0: all)."""
    query = campaigns_in(status).order_by(*CAMPAIGN_ORDER)
    if limit:
        query = query.limit(limit)
    return list(session.exec(query))


def _in_status(query: Any, status: str | None) -> Any:
    if not status:
        return query
    return query.where(Campaign.status == check_status(status))


def content_of(
    session: Session, campaign: Campaign
) -> tuple[str | None, str | None, Template | None]:
    """The HTML and text a campaign sends: its own, or its template's (active while a draft,
    frozen once it left draft)."""
    used = template_in_use(session, campaign)
    html, text = content_row(connection_of(session), campaign)
    return html, text, None if used is None else used.template
