"""The message builder: headers, parts, footer, links and pixel, parsed back with `email`."""

from __future__ import annotations

import email
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lettr_cli.content import html as page
from lettr_cli.content.message import Headers, build_message, check_header_value, to_bytes
from lettr_cli.errors import ValidationError

BASE = Headers(subject="Hello", from_email="news@example.com", to_email="ann@example.org")


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_every_header_and_both_parts() -> None:
    headers = Headers(
        subject="Ünïcode “subject”",
        from_email="news@example.com",
        from_name='Zoë "the team", Ltd',
        to_email="ann@example.org",
        reply_to="help@example.com",
        list_unsubscribe=("https://t.example.com/u/tok", "mailto:unsub@example.com"),
        list_id="Spring sale <c1.lists.example.com>",
        feedback_id="c1:campaign:lettr",
    )
    data = to_bytes(build_message(headers, "<p>Hi Zoë</p>", "Hi Zoë\n"))
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    message = parse(data)
    assert message["Subject"] == "Ünïcode “subject”"
    assert message["From"].addresses[0].display_name == 'Zoë "the team", Ltd'
    assert message["From"].addresses[0].addr_spec == "news@example.com"
    assert message["To"] == "ann@example.org"
    assert message["Reply-To"] == "help@example.com"
    assert message["List-Unsubscribe"] == (
        "<https://t.example.com/u/tok>, <mailto:unsub@example.com>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        b"List-Unsubscribe: <https://t.example.com/u/tok>,\r\n <mailto:unsub@example.com>" in data
    )
    assert message["List-Id"] == "Spring sale <c1.lists.example.com>"
    assert message["Feedback-ID"] == "c1:campaign:lettr"
    assert message["Message-ID"].endswith("@example.com>")
    assert message["Date"]
    assert len(message.get_all("MIME-Version") or []) == 1
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content().replace("\r\n", "\n") == "Hi Zoë\n"
    assert html.get_content().replace("\r\n", "\n") == "<p>Hi Zoë</p>\n"


def test_a_long_unsubscribe_url_is_never_encoded() -> None:
    url = "https://tracking.example.com/u/" + "t1." + "a" * 32 + ".ABCDEFGHIJKLMNOP"
    headers = Headers(**{**BASE.__dict__, "list_unsubscribe": (url,)})
    data = to_bytes(build_message(headers, "<p>x</p>", "x"))
    assert f"List-Unsubscribe: <{url}>\r\n".encode() in data
    assert b"=?utf-8?" not in data.split(b"\r\n\r\n")[0].split(b"List-Unsubscribe:")[1][:200]


def test_only_a_mailto_has_no_one_click_header() -> None:
    headers = Headers(**{**BASE.__dict__, "list_unsubscribe": ("mailto:u@example.com",)})
    message = parse(to_bytes(build_message(headers, "<p>x</p>", "x")))
    assert message["List-Unsubscribe-Post"] is None


def test_long_lines_stay_within_998() -> None:
    data = to_bytes(build_message(BASE, "<p>" + "x" * 5000 + "</p>", "y" * 5000))
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    message = parse(data)
    body = message.get_body(("plain",))
    assert body is not None and body.get_content().strip() == "y" * 5000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Hi\r\nBcc: all@example.com"),
        ("subject", "tab\there"),
        ("from_name", "Ann\nBcc: x@example.com"),
        ("subject", "nul\x00"),
        ("subject", "line\u2028sep"),
        ("reply_to", "a@example.com\r\n"),
    ],
)
def test_control_characters_in_headers_are_refused(field: str, value: str) -> None:
    headers = Headers(**{**BASE.__dict__, field: value})
    with pytest.raises(ValidationError) as caught:
        build_message(headers, "<p>x</p>", "x")
    assert "control character" in caught.value.message
    assert caught.value.code == "validation_error"


def test_check_header_value_points_at_the_character() -> None:
    with pytest.raises(ValidationError) as caught:
        check_header_value("subject", "ab\ncd")
    assert "(U+000A) at position 3" in caught.value.message


plain_header_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"
    ),
    max_size=120,
)
# Text that a reader would take for an RFC 2047 encoded word unless lettr encodes it.
lookalike = st.builds(
    lambda before, charset, kind, word, after: f"{before}=?{charset}?{kind}?{word}?={after}",
    st.text(alphabet="ab ", max_size=5),
    st.sampled_from(["utf-8", "us-ascii", "iso-8859-1"]),
    st.sampled_from(["q", "Q", "b", "B"]),
    st.sampled_from(["Bcc=3A_x=40evil", "QmNjOiB4QGV2aWw=", "x", ""]),
    st.text(alphabet="ab =?", max_size=5),
)
header_text = st.one_of(plain_header_text, lookalike)
LOOKALIKE = "=?utf-8?q?Bcc=3A_x=40evil?="


def decoded(value: object) -> str:
    return str(make_header(decode_header(str(value))))


def words(text: str) -> str:
    # Runs of white space in a header may be folded into one (RFC 5322 folding white space).
    return " ".join(text.split())


@settings(max_examples=100, deadline=None)
@given(subject=header_text, name=header_text)
def test_subjects_and_names_survive_the_round_trip(subject: str, name: str) -> None:
    headers = Headers(**{**BASE.__dict__, "subject": subject, "from_name": name})
    data = to_bytes(build_message(headers, "<p>x</p>", "x"))
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    # Decoded as RFC 2047 says (white space between adjacent encoded words is dropped); the
    # email package's newer header parser keeps it inside a display name, a CPython bug.
    raw = email.message_from_bytes(data)
    assert words(decoded(raw["Subject"])) == words(subject)
    display_name, address = parseaddr(str(raw["From"]))
    assert address == "news@example.com"
    assert words(decoded(display_name)) == words(name)
    # And as a reader with the modern parser shows them.
    modern = parse(data)
    assert words(modern["Subject"]) == words(subject)
    if "=?" in name:
        assert words(modern["From"].addresses[0].display_name) == words(name)


def test_text_that_looks_like_an_encoded_word_is_shown_literally() -> None:
    headers = Headers(
        **{
            **BASE.__dict__,
            "subject": f"Hello {LOOKALIKE}",
            "from_name": LOOKALIKE,
            "list_id": f"{LOOKALIKE} <c1.lists.example.com>",
        }
    )
    data = to_bytes(build_message(headers, "<p>x</p>", "x"))
    message = parse(data)
    assert message["Subject"] == f"Hello {LOOKALIKE}"
    assert message["From"].addresses[0].display_name == LOOKALIKE
    assert message["From"].addresses[0].addr_spec == "news@example.com"
    assert message["List-Id"] == f"{LOOKALIKE} <c1.lists.example.com>"
    assert b"Bcc: x@evil" not in data


def test_preheader_footer_and_pixel_go_inside_the_body() -> None:
    doc = "<html><body class='x'><p>Hi</p></body></html>"
    doc = page.add_preheader(doc, "Spring <sale>")
    doc = page.append_to_body(
        doc, page.footer_html("https://t.example.com/u/tok", "1 Main St\nTown")
    )
    doc = page.append_to_body(doc, page.pixel("https://t.example.com/o/tok.gif"))
    assert doc.index("Spring &lt;sale&gt;") < doc.index("<p>Hi</p>")
    assert doc.index("Unsubscribe") < doc.index("/o/tok.gif") < doc.index("</body>")
    assert "1 Main St<br>Town" in doc
    assert page.append_to_body("<p>no body</p>", "[end]") == "<p>no body</p>[end]"


def test_links_are_numbered_and_rewritten_in_document_order() -> None:
    doc = (
        '<a href="https://a.example.com/x?y=1&amp;z=2">A</a>'
        "<a href='mailto:me@example.com'>mail</a>"
        "<A HREF=http://b.example.com>B</A>"
        '<a data-lettr-track="off" href="https://c.example.com">C</a>'
        '<a href="https://d.example.com" data-msys-clicktrack="0">D</a>'
        '<a name="top">anchor</a>'
        '<a title="a > b" href="https://e.example.com">E</a>'
    )
    links = page.tracked_links(doc)
    assert [(link.number, link.url) for link in links] == [
        (1, "https://a.example.com/x?y=1&z=2"),
        (2, "http://b.example.com"),
        (3, "https://e.example.com"),
    ]
    rewritten = page.rewrite_links(doc, lambda link: f"https://t.example.com/c/tok/{link.number}")
    assert 'href="https://t.example.com/c/tok/1"' in rewritten
    assert 'href="https://t.example.com/c/tok/3"' in rewritten
    assert "mailto:me@example.com" in rewritten
    assert (
        'href="https://c.example.com"' in rewritten and 'href="https://d.example.com"' in rewritten
    )


def test_css_is_inlined_and_media_rules_kept() -> None:
    doc = (
        "<html><head><style>p{color:red} @media (max-width:600px){p{color:blue}}</style>"
        '<link rel="stylesheet" href="https://cdn.example.com/x.css"></head>'
        "<body><p>x</p></body></html>"
    )
    out = page.inline_css(doc)
    assert '<p style="color: red;">' in out
    assert "@media (max-width:600px)" in out


def test_text_part_is_derived_from_html() -> None:
    text = page.html_to_text(
        "<h1>Hi Ann</h1><p>Read <a href='https://example.com/n'>the news</a> &amp; more.</p>"
    )
    assert "Hi Ann" in text
    assert "the news" in text and "https://example.com/n" in text
    assert "& more." in text
