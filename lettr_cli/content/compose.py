"""From a campaign and one recipient to the message they receive (DESIGN "Messages").

A ``Composer`` compiles the campaign's subject, HTML and text once, refuses unknown merge tags,
and then renders each recipient: merge values, built-in links, preheader, automatic footer,
inlined CSS, tracked links and the open pixel, the text part, and every header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lettr_cli.content import html as page
from lettr_cli.content.message import Headers, build_message, check_header_value
from lettr_cli.content.missing import Missing
from lettr_cli.content.sandbox import compile_template, referenced_names, render
from lettr_cli.content.utm import Utm, tag_url
from lettr_cli.errors import ValidationError
from lettr_cli.signing.tokens import Purpose

BUILTINS = ("email", "unsubscribe_link", "webversion_link", "preferences_link")
MAX_SUBJECT = 998


@dataclass(frozen=True)
class Content:
    """What a campaign sends, as the operator wrote it."""

    campaign_id: str
    campaign_name: str
    subject: str
    html: str
    text: str | None
    preview_text: str | None
    from_email: str
    from_name: str | None
    reply_to: str | None
    track_opens: bool
    track_clicks: bool
    utm: Utm | None = None  # the tags of tracked links' targets; None: no tagging


@dataclass(frozen=True)
class Sender:
    """Store-wide settings that shape every message."""

    base_url: str
    postal_address: str
    unsubscribe_mailto: str | None


@dataclass(frozen=True)
class Links:
    """The tracking URLs of one recipient, made from one token per purpose."""

    base_url: str
    token_for: Callable[[Purpose], str]

    def unsubscribe(self) -> str:
        return f"{self.base_url}/u/{self.token_for(Purpose.UNSUBSCRIBE)}"

    def preferences(self) -> str:
        return f"{self.base_url}/p/{self.token_for(Purpose.PREFERENCES)}"

    def webversion(self) -> str:
        return f"{self.base_url}/v/{self.token_for(Purpose.VIEW)}"

    def click(self, number: int) -> str:
        return f"{self.base_url}/c/{self.token_for(Purpose.CLICK)}/{number}"

    def open_pixel(self) -> str:
        return f"{self.base_url}/o/{self.token_for(Purpose.OPEN)}.gif"


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str
    links: tuple[page.TrackedLink, ...]


def merge_values(
    fallbacks: Mapping[str, str | None], values: Mapping[str, Any], email: str
) -> dict[str, Any]:
    """What merge tags see: each defined property's value; a property the contact has no value
    for is undefined to Jinja (``default()`` works) and prints as its fallback, else ""."""
    merged: dict[str, Any] = {
        name: values[name] if values.get(name) is not None else Missing(name, fallback or "")
        for name, fallback in fallbacks.items()
    }
    merged["email"] = email
    return merged


def unknown_tags(sources: Iterable[tuple[str, str, bool]], known: Iterable[str]) -> list[str]:
    """Merge tags that are neither a defined property nor a built-in, with where they are."""
    allowed = set(known) | set(BUILTINS)
    found: list[str] = []
    for field, source, is_html in sources:
        for name in sorted(referenced_names(source, html=is_html, field=field) - allowed):
            found.append(f"{{{{ {name} }}}} in {field}")
    return found


class Composer:
    def __init__(
        self, content: Content, sender: Sender, fallbacks: Mapping[str, str | None]
    ) -> None:
        self.content = content
        self.sender = sender
        self.fallbacks = dict(fallbacks)
        sources = [("subject", content.subject, False), ("html_content", content.html, True)]
        if content.text is not None:
            sources.append(("text_content", content.text, False))
        unknown = unknown_tags(sources, self.fallbacks)
        if unknown:
            message = (
                "unknown merge tags: "
                + ", ".join(unknown)
                + (" (define the property with `lettr property create`, or fix the tag)")
            )
            raise ValidationError(message, errors={"merge_tags": unknown})
        self.subject = compile_template(content.subject, html=False, field="subject")
        self.html = compile_template(content.html, html=True, field="html_content")
        self.text = (
            None
            if content.text is None
            else compile_template(content.text, html=False, field="text_content")
        )
        self.wants_footer = "unsubscribe_link" not in referenced_names(content.html, html=True)
        self.text_wants_footer = content.text is not None and "unsubscribe_link" not in (
            referenced_names(content.text, html=False)
        )

    def render(self, email: str, values: Mapping[str, Any], links: Links) -> Rendered:
        merged = merge_values(self.fallbacks, values, email)
        merged["unsubscribe_link"] = links.unsubscribe()
        merged["webversion_link"] = links.webversion()
        merged["preferences_link"] = links.preferences()
        subject = self.subject_for(merged)
        document = self._document(merged, links)
        own = self.sender.base_url
        written = page.tracked_links(document, own) if self.content.track_clicks else []
        tracked = tuple(self._tagged(link) for link in written)
        if self.text is not None:
            text = render(self.text, merged, field="text_content")
            if self.text_wants_footer:
                text = (
                    text.rstrip("\n")
                    + "\n"
                    + page.footer_text(
                        links.unsubscribe(), self.sender.postal_address, links.preferences()
                    )
                )
        else:
            text = page.html_to_text(document)
        if any(not link.own for link in tracked):
            by_url = {link.url: link.number for link in written if not link.own}
            document = page.rewrite_links(document, lambda link: links.click(link.number), own)
            for url, number in sorted(by_url.items(), key=lambda item: -len(item[0])):
                text = text.replace(url, links.click(number))
        if self.content.track_opens:
            document = page.append_to_body(document, page.pixel(links.open_pixel()))
        return Rendered(subject=subject, html=document, text=text, links=tracked)

    def links_for(
        self, email: str, values: Mapping[str, Any], links: Links
    ) -> tuple[page.TrackedLink, ...]:
        """The tracked links of ``render``'s message, the same in the same order, without
        the subject, the text part and the rewriting (what a click needs)."""
        if not self.content.track_clicks:
            return ()
        merged = merge_values(self.fallbacks, values, email)
        merged["unsubscribe_link"] = links.unsubscribe()
        merged["webversion_link"] = links.webversion()
        merged["preferences_link"] = links.preferences()
        document = self._document(merged, links)
        written = page.tracked_links(document, self.sender.base_url)
        return tuple(self._tagged(link) for link in written)

    def _document(self, merged: Mapping[str, Any], links: Links) -> str:
        """The HTML with its merge values, preheader, footer and inlined CSS, before its
        links are rewritten and the pixel added."""
        document = render(self.html, merged, field="html_content")
        document = page.add_preheader(document, self.content.preview_text)
        if self.wants_footer:
            footer = page.footer_html(
                links.unsubscribe(), self.sender.postal_address, links.preferences()
            )
            document = page.append_to_body(document, footer)
        return page.inline_css(document)

    def _tagged(self, link: page.TrackedLink) -> page.TrackedLink:
        """The link with its target UTM-tagged (the click token still names it by number);
        ``written`` keeps the URL as the content has it, for the report's top links."""
        utm = self.content.utm
        if utm is None:
            return link
        target = tag_url(link.url, utm, self.sender.base_url)
        if target == link.url:
            return link
        return page.TrackedLink(link.number, target, written=link.url)

    def subject_for(self, merged: Mapping[str, Any]) -> str:
        """The rendered subject; a line break that a merge value brings in is refused, not
        smoothed over."""
        subject = check_header_value(
            "subject", render(self.subject, merged, field="subject").strip()
        )
        if len(subject) > MAX_SUBJECT:
            raise ValidationError.field(
                "subject", f"the subject has {len(subject)} characters; at most {MAX_SUBJECT}"
            )
        return subject

    def headers(self, rendered: Rendered, to_email: str, links: Links, *, test: bool) -> Headers:
        content = self.content
        domain = content.from_email.rpartition("@")[2]
        unsubscribe = [links.unsubscribe()]
        if self.sender.unsubscribe_mailto:
            unsubscribe.append(f"mailto:{self.sender.unsubscribe_mailto}?subject=unsubscribe")
        return Headers(
            subject=f"[Test] {rendered.subject}" if test else rendered.subject,
            from_email=content.from_email,
            from_name=content.from_name,
            to_email=to_email,
            reply_to=content.reply_to,
            list_unsubscribe=tuple(unsubscribe),
            list_id=f"{' '.join(content.campaign_name.split())} <{content.campaign_id}.{domain}>",
            feedback_id=f"{content.campaign_id}:campaign:lettr",
        )

    def message_bytes(
        self, rendered: Rendered, to_email: str, links: Links, *, test: bool
    ) -> bytes:
        from lettr_cli.content.message import to_bytes

        headers = self.headers(rendered, to_email, links, test=test)
        return to_bytes(build_message(headers, rendered.html, rendered.text))
