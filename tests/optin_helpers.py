"""Shared set-up for the double opt-in tests: a template, a contact added with double opt-in
through the test relay, and the confirmation link it received."""

from __future__ import annotations

import re
import sqlite3
from email.message import EmailMessage
from pathlib import Path
from typing import Any

TEMPLATE = (
    "<html><body><p>Hello {{ first_name }},</p>"
    "<p><a href='{{ confirmation_url }}'>Yes, subscribe me</a></p>"
    "<p><a href='https://example.com/about'>About us</a></p></body></html>"
)
REDIRECT = "https://example.com/welcome?from=optin"
_LINK = re.compile(r"http://127\.0\.0\.1:8025(/confirm/[A-Za-z0-9_.\-]+)")


def make_template(lettr: Any, tmp_path: Path, name: str = "Confirm", html: str = TEMPLATE) -> None:
    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    result = lettr("template", "create", name, "--html", str(page))
    assert result.exit_code == 0, result.stderr


def setup(lettr: Any, tmp_path: Path) -> None:
    """The property ``first_name`` (fallback ``there``), the list Customers and the template
    Confirm."""
    assert lettr("property", "create", "first_name", "--fallback", "there").exit_code == 0
    assert lettr("list", "create", "Customers").exit_code == 0
    make_template(lettr, tmp_path)


def add_args(email: str, *extra: str, template: str = "Confirm") -> list[str]:
    return [
        "contact", "add", email, "--double-opt-in",
        "--template", template,
        "--from", "news@example.com",
        "--from-name", "Example News",
        "--subject", "Please confirm your subscription",
        "--redirect", REDIRECT,
        *extra,
    ]  # fmt: skip


def confirmation_path(message: EmailMessage) -> str:
    """The path of the confirmation link in the HTML part (the same in the text part)."""
    body = message.get_body(("html",))
    assert body is not None
    found = _LINK.findall(body.get_content())
    assert len(set(found)) == 1, found
    text = message.get_body(("plain",))
    assert text is not None and found[0] in text.get_content()
    return str(found[0])


def rows(home: Path, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(home / "lettr.db") as conn:
        return conn.execute(query, params).fetchall()


def store_snapshot(home: Path) -> tuple[Any, ...]:
    """What adding a contact writes."""
    return tuple(
        rows(home, f"SELECT * FROM {table}")
        for table in ("contacts", "activity", "list_members", "topic_members", "confirmations")
    )
