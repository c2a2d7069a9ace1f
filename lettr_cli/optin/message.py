"""The confirmation mail: transactional, rendered from a template in the sandbox.

Not a campaign's message: no tracking pixel, no rewritten links, no List-Unsubscribe and no
automatic footer; the one link that matters is ``{{ confirmation_url }}``, which the template
must contain. Other merge tags are the contact's properties (with their fallbacks) and
``{{ email }}``; anything else is refused before anything is sent or created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from lettr_cli.addressing.addresses import parse_address, smtp_address
from lettr_cli.content import html as page
from lettr_cli.content.compose import merge_values
from lettr_cli.content.message import Headers, build_message, check_header_value, to_bytes
from lettr_cli.content.sandbox import compile_template, referenced_names, render
from lettr_cli.errors import NotFound, ValidationError
from lettr_cli.store.tables import Template, TemplateVersion

CONFIRMATION_URL = "confirmation_url"
# Lettr's limits on the double_opt_in block (reference §14).
MAX_FROM, MAX_FROM_NAME, MAX_SUBJECT, MAX_TEMPLATE, MAX_REDIRECT = 255, 255, 998, 255, 2048


@dataclass(frozen=True)
class MailSpec:
    """How a contact's confirmation mail is made: Lettr's ``double_opt_in`` fields."""

    template: str
    from_email: str
    subject: str
    redirect_url: str
    from_name: str | None = None

    def checked(self) -> MailSpec:
        """The spec with its address normalised; a bad field is a ``validation_error``."""
        _limit("template", self.template.strip(), MAX_TEMPLATE)
        _limit("from", self.from_email, MAX_FROM)
        _limit("subject", self.subject.strip(), MAX_SUBJECT)
        check_header_value("subject", self.subject)
        if self.from_name is not None:
            _limit("from_name", self.from_name, MAX_FROM_NAME, empty=True)
            check_header_value("from_name", self.from_name)
        _limit("redirect_url", self.redirect_url, MAX_REDIRECT)
        parts = urlsplit(self.redirect_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError.field(
                "redirect_url", f"'{self.redirect_url}' is not an http or https URL with a host"
            )
        check_header_value("redirect_url", self.redirect_url)
        sender = parse_address(self.from_email, "from")
        return MailSpec(
            template=self.template.strip(),
            from_email=sender.email,
            subject=self.subject.strip(),
            redirect_url=self.redirect_url,
            from_name=self.from_name,
        )


def _limit(field: str, value: str, most: int, *, empty: bool = False) -> None:
    if not value and not empty:
        raise ValidationError.field(field, f"{field} is empty")
    if len(value) > most:
        raise ValidationError.field(field, f"{field} has {len(value)} characters; at most {most}")


@dataclass(frozen=True)
class ConfirmationTemplate:
    """A template's active version, checked for use as a confirmation mail."""

    name: str
    html: str
    text: str | None


def confirmation_template(
    session: Session, name: str, properties: Mapping[str, Any]
) -> ConfirmationTemplate:
    """The template's active version; ``not_found`` when there is none, ``validation_error``
    when it lacks ``{{ confirmation_url }}`` or uses a merge tag it cannot have."""
    template = session.exec(select(Template).where(Template.name == name)).first()
    version = (
        None
        if template is None
        else session.get(TemplateVersion, (template.id, template.active_version))
    )
    if template is None or version is None:
        raise NotFound(f"no template named '{name}'")
    html_names = referenced_names(version.html_content, html=True, field="html_content")
    if CONFIRMATION_URL not in html_names:
        raise ValidationError.field(
            "template",
            f"template '{name}' has no {{{{ {CONFIRMATION_URL} }}}}: a confirmation mail "
            "must carry the link that confirms",
        )
    names = set(html_names)
    if version.text_content is not None:
        names |= referenced_names(version.text_content, html=False, field="text_content")
    unknown = sorted(names - set(properties) - {"email", CONFIRMATION_URL})
    if unknown:
        raise ValidationError.field(
            "template",
            f"template '{name}' uses merge tags a confirmation mail cannot fill: "
            + ", ".join(f"{{{{ {tag} }}}}" for tag in unknown),
        )
    return ConfirmationTemplate(name, version.html_content, version.text_content)


def confirmation_bytes(
    template: ConfirmationTemplate,
    spec: MailSpec,
    to_email: str,
    *,
    values: Mapping[str, Any],
    fallbacks: Mapping[str, str | None],
    url: str,
) -> bytes:
    """The whole message for ``to_email``, unsigned: the template rendered with the contact's
    ``values`` and the confirmation ``url``; links left as written, no pixel, no footer."""
    merged = merge_values(fallbacks, values, to_email)
    merged[CONFIRMATION_URL] = url
    document = render(compile_template(template.html, html=True), merged, field="html_content")
    document = page.inline_css(document)
    if template.text is not None:
        text = render(compile_template(template.text, html=False), merged, field="text_content")
    else:
        text = page.html_to_text(document)
    headers = Headers(
        subject=spec.subject,
        from_email=spec.from_email,
        from_name=spec.from_name,
        to_email=smtp_address(to_email),
    )
    return to_bytes(build_message(headers, document, text))
