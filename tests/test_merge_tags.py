"""Merge tags: a property a contact has no value for is undefined to Jinja, so `default()` and
`is defined` see it, while a plain `{{ name }}` shows the property's fallback, else nothing."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from lettr_cli.content.compose import merge_values
from lettr_cli.content.sandbox import compile_template, render
from tests.sending_helpers import new_campaign

HTML = (
    "<html><body><p>From {{ city | default('your city') }}.</p>"
    "<p>Near {{ city | default('your town', true) }}.</p>"
    "<p>Region [{{ region }}] or {{ region | default('somewhere') }}.</p>"
    "<p>City [{{ city }}]{% if city is defined %} is known{% endif %}.</p>"
    "<p>Hi {{ first_name }}, {{ first_name | upper }}.</p></body></html>"
)
WITHOUT = "From your city. Near your town. Region [Europe] or somewhere. City []. Hi there, THERE."
WITH = "From Oslo. Near Oslo. Region [North] or North. City [Oslo] is known. Hi Ann, ANN."
FALLBACKS = {"city": None, "region": "Europe", "first_name": "there"}


def words(html: str) -> str:
    import lxml.html

    return " ".join(" ".join(lxml.html.fromstring(html).itertext()).split())


def test_a_missing_property_is_undefined_but_shows_its_fallback() -> None:
    template = compile_template(HTML, html=True)
    missing = merge_values(FALLBACKS, {"city": None}, "bob@example.org")
    assert words(render(template, missing)) == WITHOUT
    values = {"city": "Oslo", "region": "North", "first_name": "Ann"}
    present = merge_values(FALLBACKS, values, "ann@example.org")
    assert words(render(template, present)) == WITH


def test_a_missing_property_behaves_like_its_fallback_text_elsewhere() -> None:
    source = (
        "{{ region ~ '!' }}|{{ region.lower() }}|{{ region | length }}|{{ region == 'Europe' }}"
        "|{{ city or 'none' }}|{{ region or 'none' }}|{{ city + 'x' }}|{{ region[0] }}"
    )
    merged = merge_values(FALLBACKS, {}, "bob@example.org")
    out = render(compile_template(source, html=False), merged)
    assert out == "Europe!|europe|6|True|none|none|x|E"


def setup(lettr: Any, tmp_path: Path) -> str:
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("property", "create", "city")
    lettr("property", "create", "region", "--fallback", "Europe")
    lettr("list", "create", "Customers")
    for args in (
        ("ann@example.org", "--prop", "city=Oslo", "--prop", "region=North",
         "--prop", "first_name=Ann"),
        ("bob@example.org",),
    ):  # fmt: skip
        added = lettr("contact", "add", *args, "--list", "Customers")
        assert added.exit_code == 0, added.stderr
    return new_campaign(lettr, tmp_path, "Merge", html=HTML)


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def test_preview_renders_default_for_a_contact_without_the_property(
    lettr: Any, tmp_path: Path
) -> None:
    campaign = setup(lettr, tmp_path)
    for contact, expected in (("bob@example.org", WITHOUT), ("ann@example.org", WITH)):
        result = lettr("campaign", "preview", campaign, "--as", contact, "--raw")
        assert result.exit_code == 0, result.stderr
        message = email.message_from_bytes(result.stdout.encode(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        assert words(html_of(message)).startswith(expected)
    sample = lettr("campaign", "preview", campaign)
    assert "From your city." in sample.stdout and "Region [Europe]" in sample.stdout


def test_a_sent_message_renders_default_for_a_contact_without_the_property(
    lettr: Any, smtp_server: Any, verified_domain: Any, tmp_path: Path
) -> None:
    verified_domain()
    campaign = setup(lettr, tmp_path)
    result = lettr("campaign", "send", campaign, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    got = {rcpts[0]: html_of(message) for _, rcpts, message in smtp_server.arrived()}
    assert words(got["bob@example.org"]).startswith(WITHOUT)
    assert words(got["ann@example.org"]).startswith(WITH)
