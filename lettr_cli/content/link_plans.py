"""A campaign's tracked links by the merge values they depend on (issue 18, "the tracking
server under a burst"): what a click needs when the campaign has no message skeleton.

A click is redirected to link n of the message its row got, so the server must know that
message's links; rendering the row's message again (CSS inlining included) for each clicked
row would cost more than everything else a click does.

Rendering is a function of the merge values the HTML reads, the campaign's content and
fallbacks (frozen once it is prepared) and the row's tokens. So the links are rendered once per
combination of the values the HTML reads, with token slots (``skeleton.token_slot``) in place
of the tokens, and each row's links are those with its tokens put in. A campaign with a message
skeleton (``content.skeleton``: merge tags only in text, none in a link) has one combination:
its links are the same for everyone but the tokens. That holds only where a token is printed
as it is: a built-in link (``{{ unsubscribe_link }}``) used in any other way (``{% if
unsubscribe_link %}``, a filter) could make a slot render differently from a token, and then
``plan`` gives no plans (the caller renders each row). A value the contact lacks is keyed
apart from any value it could have (``{% if city %}`` tells them apart).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from lettr_cli.content.compose import Composer, Links, merge_values
from lettr_cli.content.html import TrackedLink
from lettr_cli.content.missing import Missing
from lettr_cli.content.sandbox import environment
from lettr_cli.content.skeleton import Skeleton, SlottedLinks, token_slot
from lettr_cli.signing.tokens import Purpose

OWN_LINKS = ("unsubscribe_link", "webversion_link", "preferences_link")
PLANS_KEPT = 2_000  # combinations of values kept per campaign (least recently used go first)
_MISSING = ("missing",)  # the key of a value the contact does not have


class LinkPlans:
    """One campaign's tracked links, rendered once per combination of the values its HTML
    reads; thread-safe."""

    def __init__(self, composer: Composer, names: list[str], kept: int = PLANS_KEPT) -> None:
        self.composer = composer
        self.names = names  # the merge values the HTML reads, built-in links left out
        self.kept = kept
        self._plans: OrderedDict[Hashable, SlottedLinks] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def plan(cls, composer: Composer) -> LinkPlans | None:
        """The campaign's link plans; None when a built-in link is used in any way but printed
        as it is (then each row's message must be rendered)."""
        from jinja2 import meta, nodes

        tree = environment(autoescape=True).parse(composer.content.html)
        printed = sum(
            1
            for output in tree.find_all(nodes.Output)
            for child in output.nodes
            if isinstance(child, nodes.Name) and child.name in OWN_LINKS
        )
        used = sum(1 for name in tree.find_all(nodes.Name) if name.name in OWN_LINKS)
        if used != printed:
            return None
        if Skeleton.plan(composer) is not None:
            return cls(composer, [])  # no merge value changes the links, only the tokens
        names = sorted(set(meta.find_undeclared_variables(tree)) - set(OWN_LINKS))
        return cls(composer, names)

    def links(
        self, email: str, values: Mapping[str, Any], token: Callable[[Purpose], str]
    ) -> tuple[TrackedLink, ...]:
        """The row's tracked links (``Composer.links_for``'s for it), its tokens from ``token``;
        raises what rendering raises (``LettrError``)."""
        merged = merge_values(self.composer.fallbacks, values, email)
        key = tuple(_keyed(merged.get(name, Missing(name, ""))) for name in self.names)
        with self._lock:
            found = self._plans.get(key)
            if found is not None:
                self._plans.move_to_end(key)
        if found is None:
            slots = Links(self.composer.sender.base_url, token_slot)
            found = SlottedLinks(self.composer.links_for(email, values, slots))
            with self._lock:
                self._plans[key] = found
                while len(self._plans) > self.kept:
                    self._plans.popitem(last=False)
        return found.fill(token)


def _keyed(value: Any) -> Hashable:
    """A merge value as a key: its type and JSON form (values come from JSON columns)."""
    if isinstance(value, Missing):
        return _MISSING
    return (type(value).__name__, json.dumps(value, sort_keys=True, default=str))
