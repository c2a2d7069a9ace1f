"""A campaign without a message skeleton gets a click's links from its link plans
(``content.link_plans``): rendered once per combination of the values its HTML reads, with each
row's tokens put in. They are the links rendering finds, for any values and in any order."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lettr_cli.content.compose import Composer, Content, Links, Sender
from lettr_cli.content.link_plans import LinkPlans
from lettr_cli.content.skeleton import Skeleton
from lettr_cli.content.utm import Utm
from lettr_cli.signing.tokens import Purpose, Signer

SIGNER = Signer({1: b"k" * 32})
HTML = (
    "<html><head><style>a { color: #0a0 }</style></head><body>"
    "<h1>Hello {{ first_name|title }}</h1>"
    "{% if city %}<p><a href='https://example.com/events/{{ city|urlencode }}'>Near you</a></p>"
    "{% else %}<p><a href='https://example.com/events'>All events</a></p>{% endif %}"
    "{% if plan == 'pro' %}<a href='https://example.com/pro?u={{ email }}'>Pro</a>{% endif %}"
    "<table><tr><td><a href='https://example.com/shop'>Shop</a></td></tr></table>"
    "<a href='{{ webversion_link }}'>Web</a> <a href='{{ unsubscribe_link }}'>Leave</a>"
    "</body></html>"
)


def composer(html: str = HTML) -> Composer:
    content = Content(
        "c0ffee00-0000-4000-8000-000000000000", "Events", "Hi", html, None, None,
        "news@example.com", None, None, True, True,
    )  # fmt: skip
    fallbacks = {"first_name": "friend", "city": "Paris", "plan": None}
    return Composer(content, Sender("https://t.example.com", "1 Main St", None), fallbacks)


def rendered(c: Composer, email: str, values: dict[str, Any], row: int) -> Any:
    return c.links_for(email, values, Links(c.sender.base_url, lambda p: SIGNER.for_row(p, row)))


def planned(plans: LinkPlans, email: str, values: dict[str, Any], row: int) -> Any:
    return plans.links(email, values, lambda p: SIGNER.for_row(p, row))


recipients = st.lists(
    st.tuples(
        st.sampled_from(["ann@example.org", "bob@example.org"]),
        st.fixed_dictionaries(
            {
                "first_name": st.one_of(st.none(), st.sampled_from(["ann", "Bob", "zoë"])),
                "city": st.one_of(st.none(), st.sampled_from(["Paris", "Köln", "a b&c"])),
                "plan": st.one_of(st.none(), st.sampled_from(["pro", "free", 3])),
            }
        ),
        st.integers(1, 10**9),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(rows=recipients)
def test_planned_links_are_the_rendered_ones_in_any_order(
    rows: list[tuple[str, dict[str, Any], int]],
) -> None:
    c = composer()
    assert Skeleton.plan(c) is None  # this campaign takes the plans
    plans = LinkPlans.plan(c)
    assert plans is not None
    for email, values, row in rows:
        assert planned(plans, email, values, row) == rendered(c, email, values, row)


def test_a_missing_value_and_its_fallback_are_told_apart() -> None:
    c = composer()
    plans = LinkPlans.plan(c)
    assert plans is not None
    # No city: "All events" (the fallback "Paris" prints, but {% if city %} is false) ...
    lacking = planned(plans, "a@example.org", {"city": None}, 1)
    assert lacking[0].url == "https://example.com/events"
    # ... a contact whose city is "Paris" gets the link to Paris's events.
    paris = planned(plans, "a@example.org", {"city": "Paris"}, 2)
    assert paris[0].url == "https://example.com/events/Paris"


def test_each_row_gets_its_own_tokens_from_a_shared_plan() -> None:
    c = composer()
    plans = LinkPlans.plan(c)
    assert plans is not None
    for row in (1, 2, 3):
        links = planned(plans, "a@example.org", {"first_name": "Ann"}, row)
        own = {link.url for link in links if link.own}
        assert own == {
            f"https://t.example.com/v/{SIGNER.for_row(Purpose.VIEW, row)}",
            f"https://t.example.com/u/{SIGNER.for_row(Purpose.UNSUBSCRIBE, row)}",
        }
    assert len(plans._plans) == 1  # one rendering served the three rows


@pytest.mark.parametrize(
    "html",
    [
        "{% if unsubscribe_link %}<a href='https://example.com'>x</a>{% endif %}",
        "<a href='{{ webversion_link|upper }}'>x</a>",
        "<a href='https://example.com/{{ preferences_link[-4:] }}'>x</a>",
        "{% set leave = unsubscribe_link %}<a href='{{ leave }}'>x</a>",
    ],
)
def test_a_built_in_link_used_but_not_printed_gets_no_plans(html: str) -> None:
    assert LinkPlans.plan(composer(html)) is None


def test_the_oldest_combinations_make_room() -> None:
    c = composer()
    plans = LinkPlans.plan(c)
    assert plans is not None
    plans.kept = 2
    for name in ("a", "b", "c"):
        planned(plans, "a@example.org", {"first_name": name}, 1)
    assert len(plans._plans) == 2
    links = planned(plans, "a@example.org", {"first_name": "a"}, 9)  # made again, still right
    assert links == rendered(c, "a@example.org", {"first_name": "a"}, 9)


# -- a campaign with a message skeleton: one plan for everyone --------------------------------
FLAT_HTML = (
    "<html><head><style>p { color: #333333 }</style></head><body>"
    "<h1>Hello {{ first_name }}!</h1><p>News for {{ city }} &amp; friends.</p>"
    "<p><a href='https://example.com/a?x=1&amp;y=2'>Shop</a> "
    "<a href='https://example.com/b' data-lettr-track='off'>Plain</a> "
    "<a href='{{ webversion_link }}'>Web version</a></p>"
    "<p><a href='{{ unsubscribe_link }}'>Leave</a> {{ preferences_link }}</p>"
    "<p>Written to {{ email }}.</p></body></html>"
)
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)


@settings(max_examples=100, deadline=None)
@given(
    first_name=st.one_of(st.none(), texts),
    city=st.one_of(st.none(), texts),
    email=st.sampled_from(["ann@example.org", "zoë@example.org"]),
    row=st.integers(1, 10**9),
)
def test_a_skeleton_campaign_has_one_plan_and_the_rendered_links(
    first_name: str | None, city: str | None, email: str, row: int
) -> None:
    """Merge tags in text only: the links are the same for everyone but the tokens, so one
    plan serves every value (own pages with the row's tokens, the opted-out link left out)."""
    c = composer(FLAT_HTML)
    assert Skeleton.plan(c) is not None
    plans = LinkPlans.plan(c)
    assert plans is not None and plans.names == []
    values = {"first_name": first_name, "city": city}
    assert planned(plans, email, values, row) == rendered(c, email, values, row)
    assert len(plans._plans) == 1


def test_planned_links_carry_utm_tags_and_each_rows_tokens() -> None:
    c = composer(FLAT_HTML)
    tagged = Composer(
        replace(c.content, utm=Utm(source="lettr", medium="email", campaign="winter")),
        c.sender,
        c.fallbacks,
    )
    plans = LinkPlans.plan(tagged)
    assert plans is not None
    for row in (1, 2):
        links = planned(plans, "a@example.org", {}, row)
        assert links == rendered(tagged, "a@example.org", {}, row)
        assert links[0].url.startswith("https://example.com/a?x=1&y=2&utm_source=lettr")
        assert links[0].as_written == "https://example.com/a?x=1&y=2"
        web_version = f"https://t.example.com/v/{SIGNER.for_row(Purpose.VIEW, row)}"
        leave = f"https://t.example.com/u/{SIGNER.for_row(Purpose.UNSUBSCRIBE, row)}"
        assert [(link.own, link.url) for link in links[1:]] == [(True, web_version), (True, leave)]
