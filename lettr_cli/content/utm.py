"""UTM tagging of tracked links (issue "Engagement"): ``utm_source``, ``utm_medium`` and
``utm_campaign`` added to a link's target, so that web analytics credit the campaign.

A link that already carries any ``utm_*`` parameter is left as the operator wrote it, as are
links that are not http(s) and links to lettr's own tracking server (unsubscribe, preferences,
web version). The rest of the URL (scheme, host, path, the query as written, its encoding, the
fragment) is kept byte for byte: the tags are appended to the query.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from lettr_cli.content.html import own_page

DEFAULT_SOURCE = "lettr"
DEFAULT_MEDIUM = "email"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Utm:
    """The three values a campaign's tracked links are tagged with."""

    source: str
    medium: str
    campaign: str

    def pairs(self) -> list[tuple[str, str]]:
        return [
            ("utm_source", self.source),
            ("utm_medium", self.medium),
            ("utm_campaign", self.campaign),
        ]


def slugify(name: str) -> str:
    """``Spring Sale — 2026!`` → ``spring-sale-2026``: lower-case ASCII letters and digits,
    runs of anything else one hyphen; accents dropped (``Zoë`` → ``zoe``)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")


def has_utm(url: str) -> bool:
    """Whether the URL's query already names any ``utm_*`` parameter (in any case)."""
    query = url.partition("#")[0].partition("?")[2]
    return any(
        key.lower().startswith("utm_") for key, _ in parse_qsl(query, keep_blank_values=True)
    )


def taggable(url: str, own_base_url: str) -> bool:
    """Whether ``url`` gets the tags: http(s), not already tagged, not lettr's own pages."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # an unparseable URL (a bad IPv6 host) is left alone
        return False
    if scheme not in ("http", "https"):
        return False
    return not own_page(url, own_base_url) and not has_utm(url)


def tag_url(url: str, utm: Utm, own_base_url: str) -> str:
    """``url`` with ``utm``'s parameters appended to its query, when it is ``taggable``;
    else ``url`` unchanged. Tagging a tagged URL changes nothing."""
    if not taggable(url, own_base_url):
        return url
    head, hashed, fragment = url.partition("#")
    base, _, query = head.partition("?")
    added = urlencode(utm.pairs(), quote_via=quote, safe="")
    joined = f"{query}&{added}" if query and not query.endswith("&") else query + added
    return f"{base}?{joined}{hashed}{fragment}"
