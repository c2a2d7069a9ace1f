"""`campaign check`: specific findings about a campaign's content, no score (issue: "check").

Errors stop a send or schedule; warnings are advice. Each finding has a stable code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sqlmodel import Session

from lettr_cli.campaigns.campaigns import content_of
from lettr_cli.campaigns.rendering import preview
from lettr_cli.content.compose import MAX_SUBJECT
from lettr_cli.errors import LettrError
from lettr_cli.settings import Settings
from lettr_cli.store.tables import Campaign

MOBILE_SUBJECT = 50
# Phrases that spam filters and readers distrust; matched case-insensitively as whole words.
SPAM_PHRASES = (
    "act now",
    "apply now",
    "as seen on",
    "buy now",
    "call now",
    "cancel at any time",
    "click here",
    "click below",
    "congratulations",
    "dear friend",
    "double your",
    "earn money",
    "extra cash",
    "fast cash",
    "free gift",
    "free money",
    "get paid",
    "guaranteed",
    "increase sales",
    "limited time",
    "lowest price",
    "make money",
    "miracle",
    "no catch",
    "no cost",
    "no obligation",
    "once in a lifetime",
    "order now",
    "risk free",
    "risk-free",
    "special promotion",
    "this is not spam",
    "urgent",
    "while supplies last",
    "winner",
    "you have been selected",
    "100% free",
    "cash bonus",
    "instant access",
    "don't delete",
)
_SPAM = re.compile(r"\b(" + "|".join(re.escape(p) for p in SPAM_PHRASES) + r")\b", re.IGNORECASE)
_PUNCTUATION_RUN = re.compile(r"[!?]{2,}")
_SHOUTED_WORD = re.compile(r"\b[^\W\d_]{4,}\b")
_DOMAIN_IN_TEXT = re.compile(r"\b((?:[a-z0-9-]+\.)+[a-z]{2,})\b", re.IGNORECASE)


@dataclass
class Findings:
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def error(self, code: str, message: str) -> None:
        self.errors.append({"code": code, "message": message})

    def warn(self, code: str, message: str) -> None:
        self.warnings.append({"code": code, "message": message})

    def to_json(self) -> dict[str, list[dict[str, str]]]:
        return {"errors": self.errors, "warnings": self.warnings}


class _Links(HTMLParser):
    """Anchors with their text, and how much text and how many images the body has."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[str, str]] = []
        self.images = 0
        self.text: list[str] = []
        self._open: list[tuple[str, list[str]]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open.append((dict(attrs).get("href") or "", []))
        elif tag == "img":
            self.images += 1
        elif tag in {"style", "script", "title"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, words = self._open.pop()
            self.anchors.append((href, "".join(words).strip()))
        elif tag in {"style", "script", "title"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        for _, words in self._open:
            words.append(data)


def check_subject(subject: str, found: Findings) -> None:
    if MOBILE_SUBJECT < len(subject) <= MAX_SUBJECT:
        found.warn(
            "subject_long",
            f"the subject has {len(subject)} characters; phones show about {MOBILE_SUBJECT}",
        )
    if run := _PUNCTUATION_RUN.search(subject):
        found.warn(
            "subject_punctuation",
            f"the subject has '{run.group(0)}'; runs of ! or ? look like spam",
        )
    shouted = [w for w in _SHOUTED_WORD.findall(subject) if w.isupper()]
    if shouted:
        found.warn("subject_capitals", f"words in capitals in the subject: {', '.join(shouted)}")
    letters = [ch for ch in subject if ch.isalpha()]
    if len(letters) >= 10 and sum(ch.isupper() for ch in letters) / len(letters) > 0.5:
        found.warn("subject_capitals_share", "more than half of the subject's letters are capitals")


def check_body(html: str, found: Findings) -> None:
    parser = _Links()
    parser.feed(html)
    for href, text in parser.anchors:
        target = href.strip()
        if target.startswith("{{") or target.lower().startswith(("mailto:", "tel:", "#")):
            continue
        if not target.lower().startswith(("http://", "https://")):
            found.warn("link_without_scheme", f"the link '{target}' does not start with http(s)://")
            continue
        shown = _DOMAIN_IN_TEXT.search(text)
        host = (urlsplit(target).hostname or "").lower()
        if shown and not _same_site(shown.group(1).lower(), host):
            found.warn(
                "link_text_mismatch",
                f"the link text shows {shown.group(1)} but the link goes to {host}",
            )
    words = " ".join("".join(parser.text).split())
    if parser.images and len(words) < 20:
        found.warn(
            "image_only",
            "the body is (almost) only images; filters distrust that and "
            "many readers do not load images",
        )


def _same_site(shown: str, host: str) -> bool:
    return host == shown or host.endswith("." + shown) or shown.endswith("." + host)


def _finding(field_name: str, message: str) -> tuple[str, str]:
    if field_name == "merge_tags":
        return "unknown_merge_tag", f"unknown merge tag {message}"
    if field_name == "subject" and message.startswith("the subject has"):
        return "subject_too_long", message
    if message.endswith("is not set"):
        return f"{field_name}_missing", message
    return f"{field_name}_invalid", message


def check_campaign(session: Session, campaign: Campaign, settings: Settings) -> Findings:
    """Every finding for ``campaign``, rendered once with sample data."""
    found = Findings()
    html, _text, _template = content_of(session, campaign)
    try:
        rendered = preview(session, campaign, settings, None).rendered
    except LettrError as exc:
        check_subject(campaign.subject or "", found)
        for field_name, messages in (exc.errors or {"content": [exc.message]}).items():
            for message in messages:
                found.error(*_finding(field_name, message))
        return found
    subject = rendered.subject  # as a recipient sees it, merge tags filled in
    check_subject(subject, found)
    check_body(html or "", found)
    text = f"{subject}\n{rendered.text}"
    for phrase in sorted({m.group(0).lower() for m in _SPAM.finditer(text)}):
        found.warn("spam_phrase", f"'{phrase}' is a phrase spam filters watch for")
    if "unsubscribe_link" not in (html or ""):
        found.warn(
            "no_unsubscribe_link",
            "the content has no {{ unsubscribe_link }}; lettr adds a footer with one",
        )
    elif "preferences_link" not in (html or ""):
        found.warn(
            "no_preferences_link",
            "the content has its own {{ unsubscribe_link }} but no {{ preferences_link }}: "
            "recipients can only leave, not choose their topics (the footer that has one is "
            "added only when the content has no unsubscribe link)",
        )
    if campaign.utm is not None and not campaign.track_clicks:
        found.warn(
            "utm_without_click_tracking",
            "--utm tags tracked links only, and click tracking is off: no link will be tagged",
        )
    if not settings.text("sender.postal_address"):
        found.warn(
            "no_postal_address",
            "sender.postal_address is empty; the law in many countries wants a postal address "
            "in marketing email",
        )
    return found
