"""The message skeleton against the full path: every variant parses back to the same message."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from typing import Any

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lettr_cli.content.compose import Composer, Content, Links, Sender
from lettr_cli.content.skeleton import Skeleton
from lettr_cli.signing.tokens import Purpose, Signer

HTML = (
    "<html><head><style>p { color: #333333 } .x { font-weight: bold }</style></head><body>"
    "<h1 class='x'>Hello {{ first_name }}!</h1><p>News for {{ city }} &amp; friends.</p>"
    "<p><a href='https://example.com/a?x=1&amp;y=2'>Shop</a> "
    "<a href='https://example.com/b' data-lettr-track='off'>Plain</a> "
    "<a href='{{ webversion_link }}'>Web version</a></p>"
    "<pre>  kept   spacing  </pre><p>Written to {{ email }}.</p></body></html>"
)
SIGNER = Signer({1: b"s" * 32})


def composer(
    html: str = HTML, text: str | None = None, subject: str = "Hi {{ first_name }}"
) -> Composer:
    content = Content(
        "c0ffee00-0000-4000-8000-000000000000", "Winter sale", subject, html, text,
        "A preview", "news@example.com", "Zoë News", "reply@example.com", True, True,
    )  # fmt: skip
    fallbacks = {"first_name": "there", "city": None}
    return Composer(content, Sender("https://t.example.com", "1 Example Street", None), fallbacks)


def full_path(c: Composer, address: str, values: dict[str, Any], row: int) -> bytes:
    links = Links(c.sender.base_url, lambda purpose: SIGNER.for_row(purpose, row))
    rendered = c.render(address, values, links)
    return c.message_bytes(rendered, address, links, test=False)


def parsed(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def squeeze(text: str) -> str:
    return " ".join(text.split())


def html_view(html: str) -> tuple[str, list[str]]:
    tree = lxml.html.fromstring(html)
    return squeeze(tree.text_content()), [a.get("href") for a in tree.iter("a")]


def assert_same(fast: bytes, slow: bytes) -> None:
    a, b = parsed(fast), parsed(slow)
    for name in ("From", "To", "Subject", "Reply-To", "List-Unsubscribe",
                 "List-Unsubscribe-Post", "List-Id", "Feedback-ID", "MIME-Version"):  # fmt: skip
        assert a[name] == b[name], name
    assert a.get_content_type() == b.get_content_type() == "multipart/alternative"
    a_text, a_html = (part.get_content() for part in a.iter_parts())
    b_text, b_html = (part.get_content() for part in b.iter_parts())
    assert html_view(a_html) == html_view(b_html)
    assert squeeze(a_text) == squeeze(b_text)
    assert max(len(line) for line in fast.split(b"\r\n")) <= 998
    assert re.search(rb"(?m)^Date: ", fast) and re.search(rb"(?m)^Message-ID: <", fast)


LOOKALIKE = "=?utf-8?q?Bcc=3A_x=40evil?="
values_text = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=40,
    ),
    # Values a reader would take for RFC 2047 encoded words unless lettr encodes them.
    st.builds(
        lambda a, b: f"{a}{LOOKALIKE}{b}",
        st.text(alphabet="ab ", max_size=4),
        st.text(alphabet="ab =?", max_size=4),
    ),
)


@settings(max_examples=150, deadline=None)
@given(first_name=values_text, city=st.one_of(st.none(), values_text), row=st.integers(1, 10**9))
def test_every_variant_parses_back_like_the_full_path(
    first_name: str, city: str | None, row: int
) -> None:
    c = composer()
    skeleton = Skeleton.plan(c)
    assert skeleton is not None
    values = {"first_name": first_name, "city": city}
    address = "ann@example.org"
    try:
        slow = full_path(c, address, values, row)
    except Exception as slow_error:
        # A line break brought into the subject is refused on both paths alike.
        with pytest.raises(type(slow_error)):
            skeleton.message(address, address, values, lambda p: SIGNER.for_row(p, row))
        return
    fast = skeleton.message(address, address, values, lambda p: SIGNER.for_row(p, row))
    assert fast is not None
    assert_same(fast, slow)


def test_a_value_that_looks_like_an_encoded_word_stays_literal_on_both_paths() -> None:
    c = composer()
    skeleton = Skeleton.plan(c)
    assert skeleton is not None
    values = {"first_name": LOOKALIKE, "city": None}
    fast = skeleton.message(
        "a@example.org", "a@example.org", values, lambda p: SIGNER.for_row(p, 7)
    )
    assert fast is not None
    slow = full_path(c, "a@example.org", values, 7)
    for data in (fast, slow):
        assert parsed(data)["Subject"] == f"Hi {LOOKALIKE}"
        assert b"Bcc: x@evil" not in data


def test_a_given_text_part_and_the_footer_take_the_skeleton_too() -> None:
    c = composer(text="Hello {{ first_name }}\nSee {{ webversion_link }}\n")
    skeleton = Skeleton.plan(c)
    assert skeleton is not None
    values = {"first_name": "Ann  Marie", "city": "Köln"}
    fast = skeleton.message(
        "a@example.org", "a@example.org", values, lambda p: SIGNER.for_row(p, 7)
    )
    assert fast is not None
    assert_same(fast, full_path(c, "a@example.org", values, 7))


@pytest.mark.parametrize(
    "html",
    [
        "<p>{{ first_name|upper }}</p>",
        "<p>{% if city %}In {{ city }}{% endif %}</p>",
        "<p>{{ first_name or 'friend' }}</p>",
        "<a href='https://example.com/{{ city }}'>x</a>",
        "<p style='color: {{ city }}'>x</p>",
        "<p>\ue000m0\ue001</p>",
    ],
)
def test_templates_that_need_the_full_path_get_no_skeleton(html: str) -> None:
    assert Skeleton.plan(composer(html=html)) is None


def test_a_non_ascii_address_takes_the_full_path() -> None:
    skeleton = Skeleton.plan(composer())
    assert skeleton is not None
    assert skeleton.message("zoë@example.org", "zoë@example.org", {}, lambda p: "t") is None


def test_tokens_land_where_the_full_path_puts_them() -> None:
    c = composer()
    skeleton = Skeleton.plan(c)
    assert skeleton is not None
    fast = parsed(
        skeleton.message("a@example.org", "a@example.org", {}, lambda p: SIGNER.for_row(p, 42))
        or b""
    )
    unsubscribe = SIGNER.for_row(Purpose.UNSUBSCRIBE, 42)
    assert fast["List-Unsubscribe"] == f"<https://t.example.com/u/{unsubscribe}>"
    html = next(part for part in fast.iter_parts() if part.get_content_type() == "text/html")
    content = html.get_content()
    assert f"https://t.example.com/c/{SIGNER.for_row(Purpose.CLICK, 42)}/1" in content
    assert f"https://t.example.com/o/{SIGNER.for_row(Purpose.OPEN, 42)}.gif" in content
    assert content.count(f"https://t.example.com/c/{SIGNER.for_row(Purpose.CLICK, 42)}/") == 1
    # the web-version link goes straight to lettr's page: following it is not a click
    assert f'href="https://t.example.com/v/{SIGNER.for_row(Purpose.VIEW, 42)}"' in content


def test_the_preferences_link_lands_where_the_full_path_puts_it() -> None:
    c = composer(html=HTML.replace("</body>", "<p>{{ preferences_link }}</p></body>"))
    skeleton = Skeleton.plan(c)
    assert skeleton is not None
    fast = skeleton.message("a@example.org", "a@example.org", {}, lambda p: SIGNER.for_row(p, 42))
    assert fast is not None
    assert_same(fast, full_path(c, "a@example.org", {}, 42))
    html = next(p for p in parsed(fast).iter_parts() if p.get_content_type() == "text/html")
    link = f"https://t.example.com/p/{SIGNER.for_row(Purpose.PREFERENCES, 42)}"
    # once written by the template, once in the automatic footer (no unsubscribe link here)
    assert html.get_content().count(link) == 2
