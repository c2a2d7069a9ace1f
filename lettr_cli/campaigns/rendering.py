"""A campaign's messages as recipients get them: previews now, sends through the same path."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from lettr_cli.audience.contacts import find_contact
from lettr_cli.audience.properties import all_properties
from lettr_cli.campaigns.campaigns import content_of
from lettr_cli.campaigns.utm import utm_of
from lettr_cli.content.compose import Composer, Content, Links, Rendered, Sender
from lettr_cli.errors import ValidationError
from lettr_cli.settings import Settings
from lettr_cli.signing import keys
from lettr_cli.store.tables import Campaign

SAMPLE_EMAIL = "recipient@example.com"


def sender_of(settings: Settings) -> Sender:
    return Sender(
        base_url=str(settings["tracking.base_url"]),
        postal_address=settings.text("sender.postal_address") or "",
        unsubscribe_mailto=settings.text("sender.unsubscribe_mailto"),
    )


PART_WORDS = {
    "subject": "a subject",
    "from_email": "a sender (--from-email)",
    "html_content": "content",
}


def missing_parts(campaign: Campaign, html: str | None) -> list[str]:
    """The fields a message cannot be built without that the campaign does not have yet."""
    present = {"subject": campaign.subject, "from_email": campaign.from_email, "html_content": html}
    return [field for field, value in present.items() if not value]


def composer_for(session: Session, campaign: Campaign, settings: Settings) -> Composer:
    """Compile the campaign's content once, with the fallbacks it was prepared with (the
    current ones before that); missing parts and unknown merge tags are refused."""
    html, text, _ = content_of(session, campaign)
    missing = missing_parts(campaign, html)
    if missing:
        raise ValidationError(
            f"campaign '{campaign.name}' has no {', '.join(missing)} yet",
            errors={field: [f"{field} is not set"] for field in missing},
        )
    assert campaign.subject and campaign.from_email and html
    content = Content(
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        subject=campaign.subject,
        html=html,
        text=text,
        preview_text=campaign.preview_text,
        from_email=campaign.from_email,
        from_name=campaign.from_name,
        reply_to=campaign.reply_to,
        track_opens=campaign.track_opens,
        track_clicks=campaign.track_clicks,
        utm=utm_of(campaign),
    )
    fallbacks = campaign.merge_fallbacks
    if fallbacks is None:  # not prepared yet: the fallbacks as they are now
        fallbacks = current_fallbacks(session)
    return Composer(content, sender_of(settings), fallbacks)


def current_fallbacks(session: Session) -> dict[str, str | None]:
    """Each defined property's fallback now; preparing snapshots these on the campaign, so
    that its messages, web versions and click targets keep them (DESIGN "Sending engine")."""
    return {name: prop.fallback_value for name, prop in all_properties(session).items()}


@dataclass(frozen=True)
class Preview:
    sender: str
    to: str
    rendered: Rendered
    raw: bytes


def preview(
    session: Session, campaign: Campaign, settings: Settings, as_email: str | None
) -> Preview:
    """The message as ``as_email`` (a contact) would get it, else with sample data; links carry
    ``test`` tokens, so nothing a preview leads to is recorded. Call inside a write session
    the first time (the store's tracking key is made on first use)."""
    composer = composer_for(session, campaign, settings)
    email, rendered, links = render_as_test(session, composer, campaign, as_email)
    raw = composer.message_bytes(rendered, _smtp_form(email), links, test=False)
    return Preview(sender=composer.content.from_email, to=email, rendered=rendered, raw=raw)


def render_as_test(
    session: Session, composer: Composer, campaign: Campaign, as_email: str | None
) -> tuple[str, Rendered, Links]:
    """Render for the contact ``as_email``, else for sample data, with ``test`` tokens only."""
    if as_email is not None:
        contact = find_contact(session, as_email)
        email, values = contact.email, dict(contact.properties)
    else:
        email, values = SAMPLE_EMAIL, {}
    token = keys.signer(session).for_test(campaign.id)
    links = Links(base_url=composer.sender.base_url, token_for=lambda _purpose: token)
    return email, composer.render(email, values, links), links


def _smtp_form(email: str) -> str:
    from lettr_cli.addressing.addresses import smtp_address

    return smtp_address(email)
