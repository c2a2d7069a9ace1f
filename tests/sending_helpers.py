"""Shared set-up for the sending tests: an audience, a sendable campaign, and what arrived."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.store_access import store_connect

HTML = (
    "<html><body><p>Hi {{ first_name }},</p>"
    "<a href='https://example.com/offer'>See the offer</a></body></html>"
)


def make_campaign(lettr: Any, tmp_path: Path, emails: list[str], name: str = "Sale") -> str:
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("list", "create", "Customers")
    if emails:
        audience = tmp_path / f"{name}.csv"
        audience.write_text("email\n" + "".join(f"{a}\n" for a in emails), encoding="utf-8")
        result = lettr("contact", "import", str(audience), "--list", "Customers", "--json")
        assert result.exit_code == 0, result.stderr
    return new_campaign(lettr, tmp_path, name)


def new_campaign(
    lettr: Any, tmp_path: Path, name: str, list_name: str = "Customers", html: str = HTML
) -> str:
    """A sendable draft to the members of ``list_name``."""
    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    created = lettr(
        "campaign", "create", name,
        "--subject", "Hello {{ first_name }}",
        "--from-email", "news@example.com",
        "--html", str(page),
        "--json",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    chosen = lettr("campaign", "audience", name, "--list", list_name)
    assert chosen.exit_code == 0, chosen.stderr
    return str(created.json()["id"])


def store_path(home: Path) -> Path:
    return home / "lettr.db"


def outbox_rows(home: Path, campaign_id: str) -> dict[str, tuple[str, str | None]]:
    with store_connect(home) as conn:
        rows = conn.execute(
            "SELECT email, status, reply FROM outbox WHERE campaign_id = ?", (campaign_id,)
        ).fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}
