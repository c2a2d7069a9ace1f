"""What refers to a list, topic, property, segment, template or domain, so that deleting one
that is still in use is refused with ``resource_in_use`` (CONTRACT "Errors and exit codes").

Segments refer through their conditions and list scope; campaigns that are a draft or
scheduled refer through their audience, their template, their sender's domain and the merge
tags in their content. Services of every package call :func:`refuse_if_used` before a delete;
the audience's services go through ``lettr_cli.audience.in_use``, which adds the segments (this
part sits below the audience, so it reads campaigns only and is told about segments).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from lettr_cli.addressing.domains import domain_name
from lettr_cli.content.sandbox import referenced_names
from lettr_cli.errors import LettrError, ResourceInUse
from lettr_cli.store import statuses
from lettr_cli.store.tables import Campaign
from lettr_cli.store.template_use import template_in_use


def campaigns_using(
    session: Session,
    *,
    list_id: str | None = None,
    segment_id: str | None = None,
    template_id: str | None = None,
    domain: str | None = None,
    property_name: str | None = None,
) -> list[str]:
    """Names of the draft or scheduled campaigns that refer to the thing given."""
    names: list[str] = []
    campaigns = session.exec(
        select(Campaign).where(col(Campaign.status).in_(statuses.OPEN)).order_by(col(Campaign.name))
    )
    for campaign in campaigns:
        audience = campaign.audience
        if (
            (list_id is not None and list_id in audience.get("lists", []))
            or (segment_id is not None and segment_id in audience.get("segments", []))
            or (template_id is not None and campaign.template_id == template_id)
            or (domain is not None and _domain_of(campaign.from_email) == domain)
            or (property_name is not None and property_name in _merge_tags(session, campaign))
        ):
            names.append(campaign.name)
    return names


def refuse_if_used(
    session: Session, noun: str, name: str, *, segments: Sequence[str] = (), **reference: str
) -> None:
    """Raise ``resource_in_use`` naming the segments (given by the caller) and the campaigns
    that use the thing."""
    campaign_keys = {"list_id", "segment_id", "template_id", "domain", "property_name"}
    campaigns = campaigns_using(
        session, **{k: v for k, v in reference.items() if k in campaign_keys}
    )
    users = [f"segment '{s}'" for s in segments] + [f"campaign '{c}'" for c in campaigns]
    if users:
        raise ResourceInUse(
            f"the {noun} '{name}' is used by {', '.join(users)}; change or delete "
            f"{'them' if len(users) > 1 else 'it'} first"
        )


def _domain_of(email: str | None) -> str | None:
    if not email:
        return None
    try:
        return domain_name(email.rpartition("@")[2])
    except LettrError:
        return None


def _merge_tags(session: Session, campaign: Campaign) -> set[str]:
    sources = [(campaign.subject or "", False)]
    if campaign.template_id is not None:
        used = template_in_use(session, campaign)
        version = used.row(session) if used is not None else None
        if version is not None:
            sources += [(version.html_content, True), (version.text_content or "", False)]
    else:
        sources += [(campaign.html_content or "", True), (campaign.text_content or "", False)]
    names: set[str] = set()
    for source, html in sources:
        try:
            names |= referenced_names(source, html=html)
        except LettrError:
            continue  # a broken template refers to nothing we can name
    return names
