"""AUTH to the relay: the password from LETTR_SMTP_PASSWORD, a refusal is transmission_failed."""

from __future__ import annotations

import pytest


@pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS"
)  # a loopback test server
def test_auth_with_the_password_from_the_environment(
    lettr, auth_server, smtp_server, verified_domain, tmp_path
) -> None:
    verified_domain()
    page = tmp_path / "c.html"
    page.write_text("<p>hi</p>", encoding="utf-8")
    ref = lettr(
        "campaign",
        "create",
        "C",
        "--subject",
        "S",
        "--from-email",
        "news@example.com",
        "--html",
        str(page),
        "--json",
    ).json()["id"]
    lettr("config", "set", "smtp.port", str(auth_server.port))
    lettr("config", "set", "smtp.username", "apikey")
    wrong = lettr(
        "campaign",
        "test",
        ref,
        "--to",
        "a@example.com",
        "--json",
        env={"LETTR_SMTP_PASSWORD": "nope"},
    )
    assert wrong.error()["error_code"] == "transmission_failed"
    assert "refused AUTH" in wrong.error()["message"] and "nope" not in wrong.stderr
    right = lettr(
        "campaign",
        "test",
        ref,
        "--to",
        "a@example.com",
        "--json",
        env={"LETTR_SMTP_PASSWORD": "s3cret"},
    )
    assert right.exit_code == 0, right.stderr
    assert len(auth_server.messages) == 1
