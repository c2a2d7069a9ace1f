"""Templates: named, versioned HTML (and optional text) that campaigns start from (reference §23).

Every update adds a version and makes it active; ``activate`` rolls back to an older one. A
campaign linked to a template follows the active version while it is a draft.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from lettr_cli.content.sandbox import compile_template
from lettr_cli.errors import NotFound, ResourceAlreadyExists, ValidationError
from lettr_cli.references import refuse_if_used
from lettr_cli.store.tables import Template, TemplateVersion
from lettr_cli.store.template_use import detach_campaigns
from lettr_cli.store.types import utcnow

MAX_NAME = 255


def check_content(html: str, text: str | None) -> None:
    """Both parts must be valid templates for the sandbox."""
    if not html.strip():
        raise ValidationError.field("html_content", "the HTML is empty")
    compile_template(html, html=True, field="html_content")
    if text is not None:
        compile_template(text, html=False, field="text_content")


def find_template(session: Session, name: str) -> Template:
    template = session.exec(select(Template).where(Template.name == name)).first()
    if template is None:
        raise NotFound(f"no template named '{name}'")
    return template


def version_of(session: Session, template: Template, version: int | None = None) -> TemplateVersion:
    """A version of ``template``: the active one unless ``version`` is given."""
    number = template.active_version if version is None else version
    found = session.get(TemplateVersion, (template.id, number))
    if found is None:
        raise NotFound(f"template '{template.name}' has no version {number}")
    return found


def create_template(session: Session, name: str, html: str, text: str | None) -> Template:
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(ord(ch) < 32 for ch in name):
        raise ValidationError.field("name", f"a template name is 1–{MAX_NAME} printable characters")
    if session.exec(select(Template).where(Template.name == name)).first():
        raise ResourceAlreadyExists(f"a template named '{name}' already exists")
    check_content(html, text)
    template = Template(name=name, active_version=1)
    session.add(template)
    session.flush()
    session.add(
        TemplateVersion(template_id=template.id, version=1, html_content=html, text_content=text)
    )
    return template


def update_template(session: Session, name: str, html: str, text: str | None) -> Template:
    """Add a version with new content and make it active."""
    template = find_template(session, name)
    check_content(html, text)
    latest = session.exec(
        select(func.max(TemplateVersion.version)).where(TemplateVersion.template_id == template.id)
    ).one()
    number = int(latest or 0) + 1
    session.add(
        TemplateVersion(
            template_id=template.id, version=number, html_content=html, text_content=text
        )
    )
    template.active_version = number
    template.updated_at = utcnow()
    session.add(template)
    return template


def activate(session: Session, name: str, version: int) -> Template:
    template = find_template(session, name)
    version_of(session, template, version)
    template.active_version = version
    template.updated_at = utcnow()
    session.add(template)
    return template


def deletable_template(session: Session, name: str) -> Template:
    """The template called ``name``, unless a draft or scheduled campaign follows it."""
    template = find_template(session, name)
    refuse_if_used(session, "template", name, template_id=template.id)
    return template


def delete_template(session: Session, name: str) -> str:
    """Delete the template; campaigns that used it (sent or sending: a draft or scheduled one
    refuses the delete) keep the content they used as their own."""
    template = deletable_template(session, name)
    detach_campaigns(session, template)
    session.delete(template)
    return template.id


def all_templates(session: Session) -> list[Template]:
    return list(session.exec(select(Template).order_by(col(Template.name))))


def template_json(session: Session, template: Template, *, content: bool = False) -> dict[str, Any]:
    versions = session.exec(
        select(TemplateVersion)
        .where(TemplateVersion.template_id == template.id)
        .order_by(col(TemplateVersion.version))
    ).all()
    body: dict[str, Any] = {
        "id": template.id,
        "name": template.name,
        "version": template.active_version,
        "versions": [
            {
                "version": v.version,
                "created_at": v.created_at,
                "active": v.version == template.active_version,
            }
            for v in versions
        ],
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }
    if content:
        active = next(v for v in versions if v.version == template.active_version)
        body["html_content"] = active.html_content
        body["text_content"] = active.text_content
    return body
