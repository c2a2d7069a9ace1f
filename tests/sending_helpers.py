"""Shared set-up for the sending tests: an audience, a sendable campaign, and what arrived."""

from __future__ import annotations

import email
import sqlite3
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

HTML = (
    "<html><body><p>Hi {{ first_name }},</p>"
    "<a href='https://example.com/offer'>See the offer</a></body></html>"
)


def make_campaign(lettr: Any, tmp_path: Path, emails: list[str], name: str = "Sale") -> str:
    page = tmp_path / f"{name}.html"
    page.write_text(HTML, encoding="utf-8")
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("list", "create", "Customers")
    for address in emails:
        result = lettr("contact", "add", address, "--list", "Customers")
        assert result.exit_code == 0, result.stderr
    body = lettr(
        "campaign", "create", name,
        "--subject", "Hello {{ first_name }}",
        "--from-email", "news@example.com",
        "--html", str(page),
        "--json",
    ).json()  # fmt: skip
    assert lettr("campaign", "audience", name, "--list", "Customers").exit_code == 0
    return str(body["id"])


def arrived(server: Any) -> list[tuple[str, list[str], EmailMessage]]:
    out = []
    for sender, rcpts, data in server.handler.messages:
        message = email.message_from_bytes(data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        out.append((sender, rcpts, message))
    return out


def store_path(home: Path) -> Path:
    return home / "lettr.db"


def outbox_rows(home: Path, campaign_id: str) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(store_path(home)) as conn:
        rows = conn.execute(
            "SELECT email, status, reply FROM outbox WHERE campaign_id = ?", (campaign_id,)
        ).fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}
