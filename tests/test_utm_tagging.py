"""UTM tagging of tracked links (issue "Engagement"): the URL rules, then the campaign's
settings through the CLI."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lettr_cli.content.utm import Utm, has_utm, slugify, tag_url
from tests.sending_helpers import new_campaign

BASE = "http://127.0.0.1:8025"
UTM = Utm(source="lettr", medium="email", campaign="spring-sale")
TAGS = "utm_source=lettr&utm_medium=email&utm_campaign=spring-sale"


@pytest.mark.parametrize(
    ("url", "tagged"),
    [
        ("https://example.com", f"https://example.com?{TAGS}"),
        ("https://example.com/offer", f"https://example.com/offer?{TAGS}"),
        ("https://example.com/a?id=1", f"https://example.com/a?id=1&{TAGS}"),
        ("https://example.com/a?id=1&", f"https://example.com/a?id=1&{TAGS}"),
        ("https://example.com/a?", f"https://example.com/a?{TAGS}"),
        ("https://example.com/a#top", f"https://example.com/a?{TAGS}#top"),
        ("https://example.com/a?q=%C3%A9t%C3%A9+x#s?x=1", f"https://example.com/a?q=%C3%A9t%C3%A9+x&{TAGS}#s?x=1"),
        ("https://example.com/a#", f"https://example.com/a?{TAGS}#"),
        ("HTTP://Example.COM/Caps", f"HTTP://Example.COM/Caps?{TAGS}"),
        ("https://example.com/é?q=ü", f"https://example.com/é?q=ü&{TAGS}"),
    ],
)  # fmt: skip
def test_tags_are_appended_keeping_the_query_its_encoding_and_the_fragment(
    url: str, tagged: str
) -> None:
    assert tag_url(url, UTM, BASE) == tagged


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/?utm_source=news",
        "https://example.com/?x=1&UTM_Campaign=spring",
        "https://example.com/?utm_term=",
        "https://example.com/?utm%5Fmedium=social",
        "mailto:ann@example.com?subject=hi",
        "tel:+44123456",
        f"{BASE}/u/TOKEN",
        f"{BASE}/v/TOKEN",
        f"{BASE}/p/TOKEN",
        "ftp://example.com/file",
        "https://[::1/",
    ],
)
def test_links_with_utm_other_schemes_and_lettrs_own_pages_are_left_alone(url: str) -> None:
    assert tag_url(url, UTM, BASE) == url


def test_campaign_names_are_slugified() -> None:
    assert slugify("Spring Sale — 2026!") == "spring-sale-2026"
    assert slugify("  Zoë's  Café ") == "zoe-s-cafe"
    assert slugify("日本") == ""


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_safe = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~%/:@!$'()*+,;=é", max_size=12)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTPS"]))
    host = draw(st.from_regex(r"[a-z0-9]{1,10}(\.[a-z]{2,5}){1,2}", fullmatch=True))
    port = draw(st.sampled_from(["", ":8080"]))
    path = "/".join(draw(st.lists(_safe, max_size=3)))
    url = f"{scheme}://{host}{port}/{path}"
    if draw(st.booleans()):
        pairs = draw(st.lists(st.tuples(_safe, _safe), max_size=3))
        url += "?" + "&".join(f"{key}={value}" for key, value in pairs)
    if draw(st.booleans()):
        url += "#" + draw(_text.filter(lambda s: " " not in s))
    return url


@given(url=urls(), utm=st.builds(Utm, _text, _text, _text))
def test_tagging_never_breaks_an_url_and_is_idempotent(url: str, utm: Utm) -> None:
    tagged = tag_url(url, utm, BASE)
    before, after = urlsplit(url), urlsplit(tagged)
    assert (after.scheme, after.netloc, after.path) == (before.scheme, before.netloc, before.path)
    assert after.fragment == before.fragment
    assert has_utm(tagged)
    pairs = parse_qsl(after.query, keep_blank_values=True)
    if has_utm(url):
        assert tagged == url
    else:
        assert pairs == parse_qsl(before.query, keep_blank_values=True) + utm.pairs()
        assert after.query.startswith(before.query)
    assert tag_url(tagged, utm, BASE) == tagged
    assert tag_url(tagged, Utm("x", "y", "z"), BASE) == tagged


def _draft(lettr, tmp_path: Path, *args: str):
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("list", "create", "Customers")
    lettr("contact", "add", "ann@example.com", "--list", "Customers")
    campaign = new_campaign(lettr, tmp_path, "Spring Sale — 2026!")
    if args:
        result = lettr("campaign", "edit", campaign, *args, "--json")
        assert result.exit_code == 0, result.stderr
    return campaign


def _utm(lettr, campaign: str):
    result = lettr("campaign", "show", campaign, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()["utm"]


def test_create_with_utm_stores_the_defaults_and_show_reports_them(lettr, tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text("<p><a href='https://example.com'>x</a></p>", encoding="utf-8")
    created = lettr("campaign", "create", "Winter Ball", "--html", str(page), "--utm", "--json")
    assert created.exit_code == 0, created.stderr
    expected = {"source": "lettr", "medium": "email", "campaign": "winter-ball"}
    assert created.json()["utm"] == expected
    assert _utm(lettr, "Winter Ball") == expected
    shown = lettr("campaign", "show", "Winter Ball")
    assert "source lettr, medium email, campaign winter-ball" in shown.stdout
    plain = lettr("campaign", "create", "Plain", "--json")
    assert plain.json()["utm"] is None
    assert "utm" in lettr("campaign", "show", "Plain").stdout


def test_overrides_the_name_follows_renames_and_no_utm_turns_it_off(lettr, tmp_path: Path) -> None:
    campaign = _draft(lettr, tmp_path, "--utm-source", "newsletter")
    assert _utm(lettr, campaign) == {
        "source": "newsletter",
        "medium": "email",
        "campaign": "spring-sale-2026",
    }
    lettr("campaign", "edit", campaign, "--name", "Autumn")
    assert _utm(lettr, campaign)["campaign"] == "autumn"
    edited = lettr("campaign", "edit", campaign, "--utm-medium", "mail", "--utm-campaign", "q3")
    assert edited.exit_code == 0, edited.stderr
    assert _utm(lettr, campaign) == {"source": "newsletter", "medium": "mail", "campaign": "q3"}
    lettr("campaign", "edit", campaign, "--utm-source", "", "--utm-campaign", "")
    assert _utm(lettr, campaign) == {"source": "lettr", "medium": "mail", "campaign": "autumn"}
    lettr("campaign", "edit", campaign, "--subject", "Other")
    assert _utm(lettr, campaign)["medium"] == "mail"
    assert lettr("campaign", "edit", campaign, "--no-utm").exit_code == 0
    assert _utm(lettr, campaign) is None


def test_duplicate_keeps_the_tags_and_names_its_own_campaign(lettr, tmp_path: Path) -> None:
    campaign = _draft(lettr, tmp_path, "--utm", "--utm-medium", "mail")
    copy = lettr("campaign", "duplicate", campaign, "--name", "Again", "--json")
    assert copy.exit_code == 0, copy.stderr
    assert copy.json()["utm"] == {"source": "lettr", "medium": "mail", "campaign": "again"}
    fixed = _draft_named(lettr, tmp_path, "Fixed", "--utm-campaign", "spring")
    assert lettr("campaign", "duplicate", fixed, "--json").json()["utm"]["campaign"] == "spring"


def _draft_named(lettr, tmp_path: Path, name: str, *args: str) -> str:
    campaign = new_campaign(lettr, tmp_path, name)
    assert lettr("campaign", "edit", campaign, *args).exit_code == 0
    return campaign


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--no-utm", "--utm-source", "x"), "utm"),
        (("--utm-source", "a\nb"), "utm_source"),
        (("--utm-campaign", "x\x7f"), "utm_campaign"),
        (("--utm-medium", "m" * 256), "utm_medium"),
    ],
)
def test_bad_utm_options_are_refused_and_change_nothing(
    lettr, tmp_path: Path, args: tuple[str, ...], field: str
) -> None:
    campaign = _draft(lettr, tmp_path, "--utm-source", "kept")
    before = lettr("campaign", "show", campaign, "--json").json()
    result = lettr("campaign", "edit", campaign, *args, "--subject", "Changed", "--json")
    assert result.exit_code == 1
    error = result.error()
    assert error["error_code"] == "validation_error"
    assert field in error["errors"]
    assert lettr("campaign", "show", campaign, "--json").json() == before


def test_a_campaign_that_left_draft_keeps_its_tags(lettr, relay, tmp_path: Path) -> None:
    campaign = _draft(lettr, tmp_path, "--utm")
    scheduled = lettr("campaign", "schedule", campaign, "--at", "+2d")
    assert scheduled.exit_code == 0, scheduled.stderr
    result = lettr("campaign", "edit", campaign, "--no-utm", "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "campaign_not_editable"
    assert _utm(lettr, campaign) is not None


def test_check_warns_when_utm_cannot_tag_anything(lettr, tmp_path: Path) -> None:
    campaign = _draft(lettr, tmp_path, "--utm")
    codes = [w["code"] for w in lettr("campaign", "check", campaign, "--json").json()["warnings"]]
    assert "utm_without_click_tracking" not in codes
    lettr("campaign", "edit", campaign, "--no-track-clicks")
    found = lettr("campaign", "check", campaign, "--json")
    assert found.exit_code == 0, found.stderr
    assert "utm_without_click_tracking" in [w["code"] for w in found.json()["warnings"]]
