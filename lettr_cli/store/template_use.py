"""Which version of its template a campaign uses: the one place that decides it.

A campaign linked to a template follows the template's active version while it is a draft; the
version is frozen (``campaigns.template_version``) as it leaves draft (``lifecycle``), and from
then on it uses that one. Rendering, the campaign object, the readiness checks and the
references (which sit below ``campaigns``) all ask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the models load with the ORM: only where a session is used
    from sqlmodel import Session

    from lettr_cli.store.tables import Campaign, Template, TemplateVersion


@dataclass(frozen=True)
class TemplateInUse:
    """A campaign's template and the number of the version it uses."""

    template: Template
    version: int

    def row(self, session: Session) -> TemplateVersion | None:
        """The version's content, None if it is gone."""
        from lettr_cli.store.tables import TemplateVersion

        return session.get(TemplateVersion, (self.template.id, self.version))


def version_in_use(campaign: Any, template: Any) -> int:
    """The version of ``template`` that ``campaign`` uses: its frozen one, else the active one.
    Either may be a model or a Core row (``campaigns.campaign_rows``)."""
    if campaign.template_version is not None:
        return int(campaign.template_version)
    return int(template.active_version)


def template_in_use(session: Session, campaign: Campaign) -> TemplateInUse | None:
    """The template ``campaign`` is linked to and the version it uses; None when it has no
    template (its own content), or the template is gone."""
    from lettr_cli.store.tables import Template

    if campaign.template_id is None:
        return None
    template = session.get(Template, campaign.template_id)
    if template is None:
        return None
    return TemplateInUse(template, version_in_use(campaign, template))


def detach_campaigns(session: Session, template: Template) -> int:
    """Before ``template`` is deleted: every campaign linked to it takes the content of the
    version it uses as its own, so a campaign already sent keeps its web version, its click
    targets and its report. Returns how many campaigns were detached."""
    from sqlmodel import select

    from lettr_cli.store.tables import Campaign

    linked = session.exec(select(Campaign).where(Campaign.template_id == template.id)).all()
    for campaign in linked:
        version = TemplateInUse(template, version_in_use(campaign, template)).row(session)
        if version is not None:
            campaign.html_content = version.html_content
            campaign.text_content = version.text_content
        campaign.template_id = None
        campaign.template_version = None
        session.add(campaign)
    return len(linked)
