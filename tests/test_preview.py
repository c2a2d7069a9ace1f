"""`lettr campaign preview`: exactly what a recipient gets, through the real message builder."""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from lettr_cli.signing import keys
from lettr_cli.signing.tokens import Purpose
from lettr_cli.workspace import Workspace

HTML = (
    "<html><head><style>p { color: red }</style></head><body>"
    "<h1>Hi {{ first_name }}</h1><p>Our <a href='https://example.com/sale?a=1&amp;b=2'>sale</a>"
    " and <a href='https://example.com/faq' data-lettr-track='off'>FAQ</a>.</p>"
    "<p>{{ city or 'your town' }}</p></body></html>"
)


@pytest.fixture
def campaign(lettr: Any, tmp_path: Path) -> str:
    page = tmp_path / "c.html"
    page.write_text(HTML, encoding="utf-8")
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("property", "create", "city")
    lettr("config", "set", "sender.postal_address", "1 Example Street\nSpringfield")
    lettr("contact", "add", "Zoë@example.org", "--prop", "first_name=Zoë", "--prop", "city=Oslo")
    body = lettr("campaign", "create", "Sale", "--subject", "{{ first_name }}, spring is here",
                 "--from-email", "news@example.com", "--from-name", "Example News",
                 "--preview-text", "Up to 30% off", "--html", str(page),
                 "--json").json()  # fmt: skip
    return str(body["id"])


def raw_message(lettr: Any, *args: str) -> EmailMessage:
    result = lettr("campaign", "preview", *args, "--raw")
    assert result.exit_code == 0, result.stderr
    message = email.message_from_bytes(result.stdout.encode(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def part(message: EmailMessage, kind: str) -> str:
    found = message.get_body((kind,))
    assert found is not None
    return str(found.get_content()).replace("\r\n", "\n")


def test_preview_with_sample_data_uses_fallbacks(lettr, campaign: str) -> None:
    out = lettr("campaign", "preview", campaign).stdout
    assert out.startswith("To: recipient@example.com\nSubject: there, spring is here\n")
    assert "Hi there" in out and "your town" in out


def test_preview_as_a_contact_renders_its_values(lettr, campaign: str, isolated_home: Path) -> None:
    message = raw_message(lettr, campaign, "--as", "ZOË@example.org")
    assert message["Subject"] == "Zoë, spring is here"
    assert message["To"] == "Zoë@example.org"
    assert message["From"].addresses[0].display_name == "Example News"
    html = part(message, "html")
    text = part(message, "plain")
    assert "Hi Zoë" in html and "Oslo" in html
    assert '<p style="color: red;">' in html  # CSS inlined after rendering
    assert "Up to 30% off" in html.split("Hi Zoë")[0]  # preheader first
    # Tracked link 1 is the sale; the FAQ opted out; the footer has the unsubscribe link.
    clicks = re.findall(r'href="(http://127\.0\.0\.1:8025/c/([^/"]+)/(\d+))"', html)
    assert [number for _, _, number in clicks] == ["1"]
    assert 'href="https://example.com/faq"' in html
    token = clicks[0][1]
    assert f"http://127.0.0.1:8025/u/{token}" in html
    assert "1 Example Street<br>Springfield" in html
    assert f'src="http://127.0.0.1:8025/o/{token}.gif"' in html
    assert message["List-Unsubscribe"] == f"<http://127.0.0.1:8025/u/{token}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"].endswith(f"<{campaign}.example.com>")
    assert "Hi Zoë" in text and f"/c/{token}/1" in text and "https://example.com/faq" in text
    # Previews carry a `test` token: the tracking server will record nothing for them.
    ws = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    with ws.store.read() as session:
        found = keys.signer(session).verify(token)
    ws.close()
    assert found is not None and found.purpose is Purpose.TEST
    assert found.ident == campaign.replace("-", "")


def test_an_unsubscribe_link_in_the_template_replaces_the_footer(lettr, tmp_path: Path) -> None:
    page = tmp_path / "own.html"
    page.write_text("<body><a href='{{ unsubscribe_link }}'>Leave</a></body>", encoding="utf-8")
    lettr("campaign", "create", "Own", "--subject", "S", "--from-email", "a@example.com", "--html",
          str(page))  # fmt: skip
    html = lettr("campaign", "preview", "Own", "--html").stdout
    assert "Leave" in html and ">Unsubscribe<" not in html


def test_unknown_merge_tags_are_refused(lettr, tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text("<p>{{ frist_name }}</p>", encoding="utf-8")
    lettr("campaign", "create", "Typo", "--subject", "{{ nope }}", "--from-email",
          "a@example.com", "--html", str(page))  # fmt: skip
    result = lettr("campaign", "preview", "Typo", "--json")
    assert result.exit_code == 1
    body = result.error()
    assert body["error_code"] == "validation_error"
    assert body["errors"]["merge_tags"] == [
        "{{ nope }} in subject",
        "{{ frist_name }} in html_content",
    ]


def test_missing_parts_are_named(lettr) -> None:
    lettr("campaign", "create", "Empty")
    result = lettr("campaign", "preview", "Empty", "--json")
    assert result.exit_code == 1
    assert set(result.error()["errors"]) == {"subject", "from_email", "html_content"}


def test_a_merge_value_with_a_line_break_cannot_reach_a_header(lettr, campaign: str) -> None:
    lettr("contact", "add", "mallory@example.com", "--prop", "first_name=Eve\nBcc: all@example.com")
    result = lettr("campaign", "preview", campaign, "--as", "mallory@example.com", "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "validation_error"
    assert "subject contains a control character (U+000A)" in result.error()["message"]
    assert result.stdout == ""


def test_only_one_output_format(lettr, campaign: str) -> None:
    assert lettr("campaign", "preview", campaign, "--html", "--raw").exit_code == 1


def test_raw_preview_is_dkim_signed_for_a_domain_with_a_key(lettr, campaign: str) -> None:
    import dkim

    lettr("config", "set", "smtp.host", "relay.example.com")
    assert lettr("domain", "add", "example.com").exit_code == 0
    records = lettr("domain", "records", "example.com", "--json").json()
    dkim_record = next(r for r in records if r["type"] == "DKIM")

    def dnsfunc(name: bytes | str, timeout: float = 5) -> bytes | None:
        wanted = name.decode() if isinstance(name, bytes) else name
        return (
            dkim_record["value"].encode()
            if wanted.rstrip(".") == dkim_record["name"].rstrip(".")
            else None
        )

    raw = lettr("campaign", "preview", campaign, "--raw").stdout.encode()
    assert raw.startswith(b"DKIM-Signature:")
    assert dkim.verify(raw, dnsfunc=dnsfunc)
    assert not dkim.verify(raw.replace(b"spring is here", b"spring is HERE"), dnsfunc=dnsfunc)


def test_the_footer_and_the_merge_tag_carry_a_preferences_link_with_the_test_token(
    lettr, campaign: str, tmp_path: Path
) -> None:
    message = raw_message(lettr, campaign)
    html, text = part(message, "html"), part(message, "plain")
    token = message["List-Unsubscribe"].strip("<>").rpartition("/")[2]
    assert token.startswith("t")
    footer = html[html.index(">Unsubscribe<") :]
    assert f'href="http://127.0.0.1:8025/p/{token}"' in footer and "Email preferences" in footer
    assert f"/p/{token}" in text

    page = tmp_path / "own.html"
    page.write_text(
        "<body><a href='{{ unsubscribe_link }}'>Leave</a> "
        "<a href='{{ preferences_link }}' data-lettr-track='off'>Choose</a></body>",
        encoding="utf-8",
    )
    lettr("campaign", "create", "Own", "--subject", "S", "--from-email", "a@example.com", "--html",
          str(page))  # fmt: skip
    own = lettr("campaign", "preview", "Own", "--html").stdout
    assert re.search(
        r"href=\"http://127\.0\.0\.1:8025/p/t1\.[^\"]+\" data-lettr-track=\"off\">Choose<", own
    )
    assert "Email preferences" not in own  # no footer: the content has its own links
