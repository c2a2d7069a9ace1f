"""`lettr campaign test`: real messages through a real SMTP server, parsed back."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def campaign(lettr: Any, tmp_path: Path) -> str:
    page = tmp_path / "c.html"
    page.write_text(
        "<p>Hi {{ first_name }}, <a href='https://example.com/x'>look</a></p>", encoding="utf-8"
    )
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("contact", "add", "zoe@example.org", "--prop", "first_name=Zoë")
    body = lettr(
        "campaign",
        "create",
        "Sale",
        "--subject",
        "Spring for {{ first_name }}",
        "--from-email",
        "news@example.com",
        "--html",
        str(page),
        "--json",
    ).json()
    return str(body["id"])


def received(smtp_server: Any) -> list[EmailMessage]:
    out = []
    for _, _, data in smtp_server.messages:
        message = email.message_from_bytes(data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        out.append(message)
    return out


def test_test_messages_arrive_signed_and_marked(
    lettr, smtp_server, verified_domain, campaign
) -> None:
    verified_domain()
    result = lettr(
        "campaign",
        "test",
        campaign,
        "--to",
        "ann@example.com",
        "--to",
        "bob@example.net",
        "--as",
        "zoe@example.org",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"sent": ["ann@example.com", "bob@example.net"], "refused": []}
    messages = received(smtp_server)
    assert [m["To"] for m in messages] == ["ann@example.com", "bob@example.net"]
    for message in messages:
        assert message["Subject"] == "[Test] Spring for Zoë"
        assert message["DKIM-Signature"] is not None
        html = message.get_body(("html",))
        assert html is not None and "/c/t1." in html.get_content()  # test tokens only
    assert smtp_server.messages[0][0] == "news@example.com"
    # Never counted.
    stats = lettr("campaign", "show", campaign, "--json").json()["stats"]
    assert set(stats.values()) == {0}


def test_a_test_message_has_every_part(lettr, smtp_server, verified_domain, tmp_path) -> None:
    verified_domain()
    lettr("config", "set", "sender.postal_address", "1 Example Street")
    lettr("property", "create", "city", "--fallback", "your town")
    page = tmp_path / "full.html"
    page.write_text(
        "<html><body><p>Hello from {{ city }}</p>"
        "<a href='https://example.com/offer'>Offer</a></body></html>",
        encoding="utf-8",
    )
    ref = lettr(
        "campaign",
        "create",
        "Full",
        "--subject",
        "Ünïcode “news” for {{ city }}",
        "--from-email",
        "news@example.com",
        "--from-name",
        "Zoë’s shop",
        "--preview-text",
        "Inside: an offer",
        "--html",
        str(page),
        "--json",
    ).json()["id"]
    assert lettr("campaign", "test", ref, "--to", "ann@example.com").exit_code == 0
    (message,) = received(smtp_server)
    assert message["Subject"] == "[Test] Ünïcode “news” for your town"
    assert b"=?utf-8?" in smtp_server.messages[0][2].split(b"\r\n\r\n")[0]
    assert message["From"].addresses[0].display_name == "Zoë’s shop"
    token_url = message["List-Unsubscribe"].strip("<>")
    assert token_url.startswith("http://127.0.0.1:8025/u/t1.")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "Hello from your town" in html and "Hello from your town" in text
    assert "Inside: an offer" in html
    assert f'href="{token_url}"' in html and "1 Example Street" in html  # the footer
    assert "/c/t1." in html and '/1"' in html and "/o/t1." in html  # link 1 and the pixel
    assert "https://example.com/offer" not in html
    assert "/c/t1." in text and token_url in text


def test_a_refused_recipient_is_reported(lettr, smtp_server, verified_domain, campaign) -> None:
    verified_domain()
    smtp_server.rcpt["bad@example.com"] = "550 5.1.1 no such user"
    result = lettr(
        "campaign", "test", campaign, "--to", "bad@example.com", "--to", "ok@example.com", "--json"
    )
    assert result.exit_code == 1
    assert result.json() == {
        "sent": ["ok@example.com"],
        "refused": [{"email": "bad@example.com", "reply": "550 5.1.1 no such user"}],
    }
    assert result.error()["error_code"] == "transmission_failed"


def test_at_most_ten_addresses_a_minute(lettr, smtp_server, verified_domain, campaign) -> None:
    verified_domain()
    first = [f"a{i}@example.com" for i in range(8)]
    assert (
        lettr("campaign", "test", campaign, *(x for a in first for x in ("--to", a))).exit_code == 0
    )
    over = lettr(
        "campaign",
        "test",
        campaign,
        "--to",
        "x@example.com",
        "--to",
        "y@example.com",
        "--to",
        "z@example.com",
        "--json",
    )
    assert over.exit_code == 1
    assert over.error()["error_code"] == "rate_limit_exceeded"
    assert len(smtp_server.messages) == 8


def test_an_unverified_domain_is_refused(lettr, smtp_server, campaign) -> None:
    lettr("config", "set", "smtp.host", smtp_server.host)
    lettr("config", "set", "smtp.port", str(smtp_server.port))
    result = lettr("campaign", "test", campaign, "--to", "ann@example.com", "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "unconfigured_domain"
    lettr("domain", "add", "example.com")
    pending = lettr("campaign", "test", campaign, "--to", "ann@example.com", "--json")
    assert pending.error()["error_code"] == "unconfigured_domain"
    assert smtp_server.messages == []


def test_relay_problems_are_transmission_failed(
    lettr, smtp_server, verified_domain, campaign
) -> None:
    verified_domain()
    lettr("config", "set", "smtp.security", "starttls")  # the test server offers no STARTTLS
    no_tls = lettr("campaign", "test", campaign, "--to", "ann@example.com", "--json")
    assert no_tls.exit_code == 1
    assert no_tls.error()["error_code"] == "transmission_failed"
    lettr("config", "set", "smtp.security", "none")
    lettr("config", "set", "smtp.port", "1")  # nothing listens there
    down = lettr("campaign", "test", campaign, "--to", "ann@example.com", "--json")
    assert down.error()["error_code"] == "transmission_failed"
    assert "cannot connect" in down.error()["message"]
    assert smtp_server.messages == []


def test_without_a_relay_or_addresses(lettr, campaign) -> None:
    assert lettr("campaign", "test", campaign, "--to", "a@example.com").stderr.startswith(
        "Error [validation_error]: no SMTP relay is configured"
    )
    assert lettr("campaign", "test", campaign).exit_code == 2  # --to is required
    bad = lettr("campaign", "test", campaign, "--to", "not-an-address", "--json")
    assert bad.error()["error_code"] == "validation_error"
