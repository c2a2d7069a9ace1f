"""`lettr campaign events`: filters with inclusive bounds, cursor paging, CSV, refusals; and the
30-day archive that `daemon tick` runs."""

from __future__ import annotations

import csv
import io
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.analytics_helpers import SENT_AT, add_event, engage, send, stamp
from tests.sending_helpers import store_path

KEYS = ["event_id", "event_type", "email", "timestamp", "bounce_class", "reason",
        "target_link_url", "user_agent", "machine"]  # fmt: skip


@pytest.fixture
def sent(lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path) -> str:
    campaign = send(lettr, smtp_server, verified_domain, tmp_path)
    engage(isolated_home, campaign)
    return campaign


def all_events(lettr, campaign: str, *args: str) -> list[dict]:
    result = lettr("campaign", "events", campaign, "--limit", "0", "--json", *args)
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["next_cursor"] is None
    return body["events"]


def test_events_have_the_contract_keys_in_time_order(lettr, sent: str) -> None:
    events = all_events(lettr, sent)
    # 9 deliveries + 10 injections + 1 bounce from the send, 12 hand-made
    assert len(events) == 10 + 9 + 1 + 12
    assert all(list(e) == KEYS for e in events)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    bounce = [e for e in events if e["event_type"] == "bounce"]
    assert [(b["email"], b["bounce_class"]) for b in bounce] == [("user9@example.org", "10")]
    machine = [e for e in events if e["machine"]]
    assert [(m["email"], m["user_agent"]) for m in machine] == [
        ("user3@example.org", "GoogleImageProxy")
    ]


def test_type_and_email_filters(lettr, sent: str) -> None:
    clicks = all_events(lettr, sent, "--type", "click")
    assert [(c["email"], c["target_link_url"]) for c in clicks] == [
        ("user0@example.org", "https://example.com/offer"),
        ("user0@example.org", "https://example.com/offer"),
        ("user1@example.org", "https://example.com/other"),
        ("user2@example.org", "https://example.com/offer"),
    ]
    mine = all_events(lettr, sent, "--email", "USER0@Example.ORG")
    assert [e["event_type"] for e in mine][2:] == ["open", "click", "click", "open"]
    assert sorted(e["event_type"] for e in mine)[:2] == ["click", "click"]
    assert {e["email"] for e in mine} == {"user0@example.org"}
    assert all_events(lettr, sent, "--type", "list_unsubscribe")[0]["email"] == "user4@example.org"


def test_bounds_are_inclusive_at_exact_timestamps_and_dates_cover_whole_utc_days(
    lettr, sent: str
) -> None:
    ten = (SENT_AT + timedelta(minutes=10)).isoformat()  # user0's open
    twenty = (SENT_AT + timedelta(minutes=20)).isoformat()  # user0's second click
    got = all_events(lettr, sent, "--since", ten, "--until", twenty)
    assert [(e["event_type"], e["timestamp"]) for e in got] == [
        ("open", ten),
        ("click", (SENT_AT + timedelta(minutes=15)).isoformat()),
        ("click", twenty),
    ]
    # a naive time is read in config timezone
    lettr("config", "set", "timezone", "Europe/Paris")
    local = (SENT_AT + timedelta(minutes=10)).astimezone(UTC).replace(tzinfo=None)
    paris = (local + timedelta(hours=1)).isoformat()
    assert all_events(lettr, sent, "--since", paris, "--until", paris)[0]["timestamp"] == ten
    # dates: 2026-01-15 holds only user2's open and click (day 5, 09:20)
    day = all_events(lettr, sent, "--since", "2026-01-15", "--until", "2026-01-15")
    assert [e["email"] for e in day] == ["user2@example.org"] * 2
    assert all_events(lettr, sent, "--until", "2026-01-09") == []
    assert len(all_events(lettr, sent, "--since", "2026-01-10")) == 32


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--type", "opened"), "type"),
        (("--type", "unsubscribe"), "type"),
        (("--since", "yesterday"), "since"),
        (("--until", "2026-02-30"), "until"),
        (("--since", "2026-01-12", "--until", "2026-01-11"), "until"),
        (("--cursor", "not-a-cursor"), "cursor"),
        (("--cursor", "WyJ4IiwgMV0"), "cursor"),  # base64 of ["x", 1]
        (("--json", "--csv"), "format"),
    ],
)
def test_bad_values_are_validation_errors(lettr, sent: str, args: tuple, field: str) -> None:
    result = lettr("campaign", "events", sent, *args, "--json")
    assert result.exit_code == 1, result.stdout
    error = result.error()
    assert error["error_code"] == "validation_error"
    assert field in error["errors"]
    assert result.stdout == ""


def test_cursor_pages_cover_every_event_once(lettr, sent: str, isolated_home: Path) -> None:
    everything = [e["event_id"] for e in all_events(lettr, sent)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        args = ["--limit", "5", "--json"] + (["--cursor", cursor] if cursor else [])
        result = lettr("campaign", "events", sent, *args)
        assert result.exit_code == 0, result.stderr
        body = result.json()
        pages += 1
        seen += [e["event_id"] for e in body["events"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        if pages == 2:  # a later event arriving mid-paging is picked up, nothing repeats
            with sqlite3.connect(store_path(isolated_home)) as conn:
                add_event(conn, sent, "user7@example.org", "open", SENT_AT + timedelta(days=6))
            everything = [e["event_id"] for e in all_events(lettr, sent)]
    assert pages == 7  # 33 events, 5 a page
    assert seen == everything and len(set(seen)) == len(seen) == 33
    exact = lettr("campaign", "events", sent, "--limit", "33", "--json").json()
    assert exact["next_cursor"] is None


def test_csv_columns_are_the_json_keys_and_text_says_how_to_go_on(lettr, sent: str) -> None:
    result = lettr("campaign", "events", sent, "--type", "click", "--csv", "--limit", "0")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == KEYS
    assert [r["target_link_url"] for r in rows][-1] == "https://example.com/offer"
    assert rows[0]["machine"] == "false" and rows[0]["bounce_class"] == ""
    text = lettr("campaign", "events", sent, "--limit", "3")
    assert "--cursor " in text.stderr and "injection" in text.stdout


def archive_file(home: Path, campaign: str) -> Path:
    return home / "events-archive" / f"{campaign}.csv"


def test_daemon_tick_archives_events_past_30_days_once_and_keeps_counters(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign = send(lettr, smtp_server, verified_domain, tmp_path)
    recent = datetime.now(UTC) - timedelta(days=29)
    engage(isolated_home, campaign, sent_at=recent)
    before = lettr("campaign", "report", campaign, "--json").json()
    assert lettr("daemon", "tick").exit_code == 0
    assert not archive_file(isolated_home, campaign).exists()  # 29 days: still live
    assert len(all_events(lettr, campaign)) == 32
    live = all_events(lettr, campaign)

    with sqlite3.connect(store_path(isolated_home)) as conn:
        old = datetime.now(UTC) - timedelta(days=31)
        conn.execute("UPDATE campaigns SET sent_at = ? WHERE id = ?", (stamp(old), campaign))
    result = lettr("daemon", "tick")
    assert result.exit_code == 0, result.stderr
    assert "archived 32 events" in result.stderr
    path = archive_file(isolated_home, campaign)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in live]
    assert list(rows[0]) == [*KEYS, "campaign_id"]
    assert all_events(lettr, campaign) == []
    after = lettr("campaign", "report", campaign, "--json").json()
    assert after["stats"] == before["stats"] and after["rates"] == before["rates"]

    # a crash after the append but before the delete: the rows come back; a torn last line too
    with sqlite3.connect(store_path(isolated_home)) as conn:
        for row in rows[:3]:
            conn.execute(
                "INSERT INTO events (event_id, campaign_id, email, event_type, at, machine)"
                " VALUES (?, ?, ?, ?, ?, 0)",
                (row["event_id"], campaign, row["email"], row["event_type"],
                 stamp(datetime.fromisoformat(row["timestamp"]))),
            )  # fmt: skip
        add_event(conn, campaign, "user8@example.org", "open", datetime.now(UTC))
    with path.open("a", encoding="utf-8") as handle:
        handle.write('deadbeef,open,"torn')
    assert lettr("daemon", "tick").exit_code == 0
    again = list(csv.DictReader(path.open(encoding="utf-8")))
    ids = [r["event_id"] for r in again]
    assert len(ids) == len(set(ids)) == 33
    assert ids[:32] == [r["event_id"] for r in rows]
    assert again[-1]["email"] == "user8@example.org"
    assert path.read_text(encoding="utf-8").count("event_id,event_type") == 1
    assert all_events(lettr, campaign) == []
    assert lettr("daemon", "tick").exit_code == 0  # nothing due: nothing written
    assert len(list(csv.DictReader(path.open(encoding="utf-8")))) == 33


def test_the_email_filter_folds_case_beyond_ascii(lettr, sent: str, isolated_home: Path) -> None:
    """Case-insensitive is casefold (CONTRACT): through the contact's stored key."""
    import uuid

    assert lettr("contact", "add", "Zoë.Straße@Example.org").exit_code == 0
    with sqlite3.connect(store_path(isolated_home)) as conn:
        contact_id = conn.execute(
            "SELECT id FROM contacts WHERE email = 'Zoë.Straße@Example.org'"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO events (event_id, campaign_id, contact_id, email, event_type, at, machine)"
            " VALUES (?, ?, ?, 'Zoë.Straße@Example.org', 'open', ?, 0)",
            (str(uuid.uuid4()), sent, contact_id, stamp(datetime.now(UTC))),
        )
    found = all_events(lettr, sent, "--email", "ZOË.STRASSE@example.ORG")
    assert [e["email"] for e in found] == ["Zoë.Straße@Example.org"]


def test_top_links_and_unsubscribe_methods_outlive_the_archive(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    """Clicks and unsubscribes made through the tracking server are kept as counters: after
    the 30-day archive the report still has its top links and unsubscribe methods."""
    from tests.tracking_helpers import BROWSER, app_client, sent_campaign

    campaign, links = sent_campaign(lettr, tmp_path, smtp_server, verified_domain)
    ann, bob = links["ann@example.com"], links["bob@example.org"]
    client = app_client(isolated_home)
    agent = {"User-Agent": BROWSER}
    for path in (bob.clicks[0], bob.clicks[0], bob.clicks[1], ann.clicks[0]):
        assert client.get(path, headers=agent).status_code == 302
    assert client.post(ann.unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    for _ in range(2):  # a replay counts once
        assert client.post(bob.unsubscribe, data={"confirm": "1"}).status_code == 200
    expected_links = [
        {"url": "https://example.com/offer?id=1", "clicks": 3, "unique_clicks": 2},
        {"url": "https://example.org/shop", "clicks": 1, "unique_clicks": 1},
    ]
    methods = {"list_unsubscribe": 1, "link_unsubscribe": 1}
    before = lettr("campaign", "report", campaign, "--json").json()
    assert before["top_links"] == expected_links
    assert before["unsubscribes_by_method"] == methods

    with sqlite3.connect(store_path(isolated_home)) as conn:
        old = datetime.now(UTC) - timedelta(days=31)
        conn.execute("UPDATE campaigns SET sent_at = ? WHERE id = ?", (stamp(old), campaign))
    result = lettr("daemon", "tick")
    assert result.exit_code == 0, result.stderr
    assert archive_file(isolated_home, campaign).exists()
    assert all_events(lettr, campaign) == []
    after = lettr("campaign", "report", campaign, "--json").json()
    assert after["top_links"] == expected_links
    assert after["unsubscribes_by_method"] == methods
    assert after["stats"] == before["stats"]
    # a click after the archive adds to the same counters; the same visitor stays one
    assert client.get(bob.clicks[1], headers=agent).status_code == 302
    later = lettr("campaign", "report", campaign, "--json").json()
    assert later["top_links"][1] == {"url": "https://example.org/shop", "clicks": 2,
                                     "unique_clicks": 1}  # fmt: skip
