"""Which version of its template a campaign uses: the one place that decides it.

A campaign linked to a template follows the template's active version while it is a draft; the
version is frozen (``campaigns.template_version``) as it leaves draft (``lifecycle``), and from
then on it uses that one. Rendering, the campaign object, the readiness checks and the
references (which sit below ``campaigns``) all ask here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from lettr_cli.store.tables import Campaign, Template, TemplateVersion


@dataclass(frozen=True)
class TemplateInUse:
    """A campaign's template and the number of the version it uses."""

    template: Template
    version: int

    def row(self, session: Session) -> TemplateVersion | None:
        """The version's content, None if it is gone."""
        return session.get(TemplateVersion, (self.template.id, self.version))


def version_in_use(campaign: Campaign, template: Template) -> int:
    """The version of ``template`` that ``campaign`` uses: its frozen one, else the active one."""
    if campaign.template_version is not None:
        return campaign.template_version
    return template.active_version


def template_in_use(session: Session, campaign: Campaign) -> TemplateInUse | None:
    """The template ``campaign`` is linked to and the version it uses; None when it has no
    template (its own content), or the template is gone."""
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
