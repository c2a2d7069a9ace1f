"""A sent campaign with hand-made engagement: a real send, then the tracking server's writes
(events and counters) done directly with sqlite3, since that server is built elsewhere."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.sending_helpers import make_campaign, store_path

EMAILS = [f"user{n}@example.org" for n in range(10)]
BOUNCED = "user9@example.org"
OFFER = "https://example.com/offer"
OTHER = "https://example.com/other"
SENT_AT = datetime(2026, 1, 10, 9, 20, tzinfo=UTC)
ORIGIN = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def stamp(at: datetime) -> str:
    """How the store writes a time (UTC, microseconds, no offset)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def send(lettr: Any, smtp_server: Any, verified_domain: Any, tmp_path: Path,
         name: str = "Sale") -> str:  # fmt: skip
    verified_domain()
    smtp_server.rcpt[BOUNCED] = "550 5.1.1 no such user"
    campaign = make_campaign(lettr, tmp_path, EMAILS, name=name)
    result = lettr("campaign", "send", campaign, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    return campaign


def add_event(conn: sqlite3.Connection, campaign: str, email: str, kind: str, at: datetime,
              **extra: Any) -> None:  # fmt: skip
    row = conn.execute(
        "SELECT id, contact_id FROM outbox WHERE campaign_id = ? AND email = ?", (campaign, email)
    ).fetchone()
    conn.execute(
        "INSERT INTO events (event_id, campaign_id, outbox_id, contact_id, email, event_type, at,"
        " bounce_class, reason, target_link_url, user_agent, machine)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (str(uuid.uuid4()), campaign, row[0], row[1], email, kind, stamp(at),
         extra.get("bounce_class"), extra.get("reason"), extra.get("url"),
         extra.get("user_agent"), 1 if extra.get("machine") else 0),
    )  # fmt: skip


def engage(home: Path, campaign: str, sent_at: datetime = SENT_AT) -> None:
    """Opens, clicks, unsubscribes and a complaint, with the counters the tracking server
    would keep. Times are relative to ``sent_at``."""
    t = sent_at
    browser = "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"
    with sqlite3.connect(store_path(home)) as conn:
        conn.execute("UPDATE campaigns SET sent_at = ? WHERE id = ?", (stamp(t), campaign))
        conn.execute("UPDATE events SET at = ? WHERE campaign_id = ?", (stamp(t), campaign))
        add_event(conn, campaign, "user3@example.org", "open", t + timedelta(minutes=1),
                  machine=True, user_agent="GoogleImageProxy")  # fmt: skip
        add_event(conn, campaign, "user0@example.org", "open", t + timedelta(minutes=10),
                  user_agent=browser)  # fmt: skip
        add_event(conn, campaign, "user0@example.org", "click", t + timedelta(minutes=15),
                  url=OFFER, user_agent=browser)  # fmt: skip
        add_event(conn, campaign, "user0@example.org", "click", t + timedelta(minutes=20),
                  url=OFFER, user_agent=browser)  # fmt: skip
        add_event(conn, campaign, "user0@example.org", "open", t + timedelta(hours=1, minutes=5))
        add_event(conn, campaign, "user4@example.org", "list_unsubscribe", t + timedelta(hours=2))
        add_event(conn, campaign, "user5@example.org", "link_unsubscribe", t + timedelta(hours=3))
        add_event(conn, campaign, "user6@example.org", "spam_complaint", t + timedelta(hours=4))
        add_event(conn, campaign, "user1@example.org", "open", t + timedelta(hours=50))
        add_event(conn, campaign, "user1@example.org", "click", t + timedelta(hours=50), url=OTHER)
        add_event(conn, campaign, "user2@example.org", "open", t + timedelta(days=5))
        add_event(conn, campaign, "user2@example.org", "click", t + timedelta(days=5), url=OFFER)
        conn.execute(
            "UPDATE campaigns SET opens = 4, unique_opens = 3, machine_opens = 1,"
            " unique_machine_opens = 1, clicks = 4, unique_clicks = 3, unsubscribes = 2,"
            " list_unsubscribes = 1, link_unsubscribes = 1, spam_complaints = 1 WHERE id = ?",
            (campaign,),
        )
        conn.execute(  # clicks per row and URL, as the tracking server counts them
            "INSERT INTO link_clicks (campaign_id, outbox_id, url, clicks)"
            " SELECT campaign_id, outbox_id, target_link_url, count(*) FROM events"
            " WHERE campaign_id = ? AND event_type = 'click'"
            " GROUP BY outbox_id, target_link_url",
            (campaign,),
        )
