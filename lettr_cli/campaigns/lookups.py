"""Campaigns and templates by exact id (``not_found`` otherwise), and as pages (rows and total)
in a stable order, for every face. People name them through ``find_campaign`` (id, name or id
prefix) and ``find_template`` (name); these are for faces that hold ids."""

from __future__ import annotations

from sqlmodel import Session, col, select

from lettr_cli.campaigns.campaigns import CAMPAIGN_ORDER, campaigns_in
from lettr_cli.store.lookup import by_id
from lettr_cli.store.paging import Page, page
from lettr_cli.store.tables import Campaign, Template


def campaign_by_id(session: Session, campaign_id: str) -> Campaign:
    return by_id(session, Campaign, campaign_id, "campaign")


def template_by_id(session: Session, template_id: str) -> Template:
    return by_id(session, Template, template_id, "template")


def campaigns_page(
    session: Session, status: str | None = None, *, limit: int | None = None, offset: int = 0
) -> Page[Campaign]:
    """Campaigns newest first (``campaign list``'s order), only those in ``status`` if given."""
    return page(session, campaigns_in(status), order_by=CAMPAIGN_ORDER, limit=limit, offset=offset)


def templates_page(
    session: Session, *, limit: int | None = None, offset: int = 0
) -> Page[Template]:
    """Templates by name, as ``template list`` shows them."""
    order = (col(Template.name), col(Template.id))
    return page(session, select(Template), order_by=order, limit=limit, offset=offset)
