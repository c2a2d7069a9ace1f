"""What lettr does to rendered HTML: preheader, footer, tracked links, open pixel, inlined CSS,
and the plain-text part derived from it."""

from __future__ import annotations

import html as html_escape
import re
from collections.abc import Callable
from dataclasses import dataclass

_BODY_OPEN = re.compile(r"<body\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.IGNORECASE)
_BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)
_ANCHOR = re.compile(r"<a\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.IGNORECASE)
_HREF = re.compile(r"""(\shref\s*=\s*)("([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)
_OFF = re.compile(
    r"""\s(?:data-lettr-track\s*=\s*["']?off|data-msys-clicktrack\s*=\s*["']?0)\b""", re.IGNORECASE
)


@dataclass(frozen=True)
class TrackedLink:
    number: int  # counted from 1 in document order (CONTRACT "Tracking")
    url: str  # where a click on it goes
    written: str | None = None  # the URL as the content has it, when ``url`` was tagged
    own: bool = False  # one of lettr's own pages: numbered, but left as it is (not a click)

    @property
    def as_written(self) -> str:
        return self.url if self.written is None else self.written


def add_preheader(document: str, preview_text: str | None) -> str:
    """Preview text as a hidden block at the start of the body."""
    if not preview_text:
        return document
    block = (
        '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true">'
        f"{html_escape.escape(preview_text)}</div>"
    )
    found = _BODY_OPEN.search(document)
    if found is None:
        return block + document
    return document[: found.end()] + block + document[found.end() :]


def append_to_body(document: str, fragment: str) -> str:
    """Insert ``fragment`` before ``</body>`` (at the end when there is none)."""
    closings = list(_BODY_CLOSE.finditer(document))
    if not closings:
        return document + fragment
    at = closings[-1].start()
    return document[:at] + fragment + document[at:]


def footer_html(unsubscribe_url: str, postal_address: str, preferences_url: str = "") -> str:
    address = html_escape.escape(postal_address).replace("\n", "<br>")
    parts = [
        '<div style="margin-top:24px;font-size:12px;color:#666666;text-align:center">',
        f'<a href="{html_escape.escape(unsubscribe_url)}" data-lettr-track="off">Unsubscribe</a>',
    ]
    if preferences_url:
        parts.append(
            f' &middot; <a href="{html_escape.escape(preferences_url)}" data-lettr-track="off">'
            "Email preferences</a>"
        )
    if postal_address:
        parts.append(f"<br>{address}")
    parts.append("</div>")
    return "".join(parts)


def footer_text(unsubscribe_url: str, postal_address: str, preferences_url: str = "") -> str:
    lines = ["", "--", f"Unsubscribe: {unsubscribe_url}"]
    if preferences_url:
        lines.append(f"Email preferences: {preferences_url}")
    if postal_address:
        lines.append(postal_address)
    return "\n".join(lines) + "\n"


def own_page(url: str, own_base_url: str) -> bool:
    """Whether ``url`` is one of lettr's own pages (unsubscribe, web version, preferences...),
    served under the tracking base URL."""
    if not own_base_url:
        return False
    return url.lower().startswith(own_base_url.rstrip("/").lower() + "/")


def tracked_links(document: str, own_base_url: str = "") -> list[TrackedLink]:
    """The http(s) links that click tracking numbers, in document order. A link to one of
    lettr's own pages keeps its number (so the numbers of messages already out stay true) but
    is marked ``own``: it is not rewritten, and following it is not a click."""
    links: list[TrackedLink] = []
    for tag in _ANCHOR.finditer(document):
        url = _trackable_href(tag.group(0))
        if url is not None:
            links.append(TrackedLink(len(links) + 1, url, own=own_page(url, own_base_url)))
    return links


def rewrite_links(
    document: str, target: Callable[[TrackedLink], str], own_base_url: str = ""
) -> str:
    """Replace each tracked link's href with ``target(link)``; links to lettr's own pages
    keep theirs."""
    number = 0

    def replace_tag(tag: re.Match[str]) -> str:
        nonlocal number
        text = tag.group(0)
        url = _trackable_href(text)
        if url is None:
            return text
        number += 1
        if own_page(url, own_base_url):
            return text
        new = html_escape.escape(target(TrackedLink(number, url)))
        return _HREF.sub(lambda m: f'{m.group(1)}"{new}"', text, count=1)

    return _ANCHOR.sub(replace_tag, document)


def _trackable_href(tag: str) -> str | None:
    if _OFF.search(tag):
        return None
    found = _HREF.search(tag)
    if found is None:
        return None
    raw = next(v for v in found.groups()[2:] if v is not None)
    url = html_escape.unescape(raw).strip()
    return url if url.lower().startswith(("http://", "https://")) else None


def pixel(url: str) -> str:
    return (
        f'<img src="{html_escape.escape(url)}" width="1" height="1" alt="" '
        'style="display:block;border:0;width:1px;height:1px">'
    )


def inline_css(document: str) -> str:
    """Inline the document's CSS (remote stylesheets are never fetched; @media rules stay)."""
    import css_inline

    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)
    return inliner.inline(document)


def html_to_text(document: str) -> str:
    """A readable plain-text version of the HTML, links shown after their text."""
    import inscriptis
    from inscriptis.model.config import ParserConfig

    text = inscriptis.get_text(document, ParserConfig(display_links=True))
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip("\n") + "\n"
