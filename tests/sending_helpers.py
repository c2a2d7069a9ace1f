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


class ScriptedHandler:
    """An aiosmtpd handler scripted per recipient, keeping a log of every attempt.

    ``rcpt`` and ``data`` map an address to the reply to RCPT or to the final dot;
    ``drop_at_rcpt`` / ``drop_at_data`` close the connection at that point without an answer;
    ``slow`` is seconds to wait before answering the final dot (every message).
    """

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.log: list[tuple[str, str, str]] = []  # (address, stage, reply or "dropped")
        self.rcpt: dict[str, str] = {}
        self.data: dict[str, str] = {}
        self.mail_reply: str | None = None
        self.drop_at_rcpt: set[str] = set()
        self.drop_at_data: set[str] = set()
        self.slow = 0.0

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.drop_at_rcpt:
            self.log.append((address, "rcpt", "dropped"))
            server.transport.close()
            return "421 closing"
        reply = self.rcpt.get(address)
        if reply:
            self.log.append((address, "rcpt", reply))
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        address = envelope.rcpt_tos[0]
        if address in self.drop_at_data:
            self.log.append((address, "data", "dropped"))
            server.transport.close()
            return "421 closing"
        if self.slow:
            await asyncio.sleep(self.slow)
        reply = self.data.get(address)
        if reply:
            self.log.append((address, "data", reply))
            return reply
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        self.log.append((address, "data", "250"))
        return "250 2.0.0 Message accepted"


def start_server(handler: Any) -> tuple[Any, int]:
    """An aiosmtpd server on a free loopback port; returns (controller, port)."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, port
