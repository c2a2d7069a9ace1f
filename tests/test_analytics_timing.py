"""The report's engagement by hours since sending and share of machine opens (issue
"Engagement"), checked against a plain-Python evaluation of known first opens and clicks."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.analytics_helpers import SENT_AT, send, stamp
from tests.sending_helpers import store_path


def _hour(start: datetime, at: datetime | None) -> int | None:
    if at is None:
        return None
    return min(max(int((at - start).total_seconds() // 3600), 0), 48)


def _engage(home: Path, campaign: str, seed: int) -> tuple[list[int], list[int]]:
    """Random acceptance, first open and first click times on the sent rows; returns the
    expected opens and clicks per hour 0..47 and later (index 48)."""
    rng = random.Random(seed)
    opens, clicks = [0] * 49, [0] * 49
    with sqlite3.connect(store_path(home)) as conn:
        found = conn.execute(
            "SELECT id FROM outbox WHERE campaign_id = ? AND status = 'sent'", (campaign,)
        )
        rows = [row for (row,) in found]
        assert len(rows) == 9
        for row in rows:
            accepted = SENT_AT + timedelta(minutes=rng.randint(0, 120), seconds=rng.random())
            times = []
            for counts in (opens, clicks):
                choice = rng.random()
                if choice < 0.2:
                    at = None
                elif choice < 0.3:
                    at = accepted - timedelta(minutes=1)  # clocks: before acceptance, hour 0
                else:
                    minutes = rng.choice([0, 5, 59, 61, 130, 1500])
                    hours = rng.choice([0, 0, 12, 47, 48, 200])
                    at = accepted + timedelta(minutes=minutes, hours=hours)
                hour = _hour(accepted, at)
                if hour is not None:
                    counts[hour] += 1
                times.append(None if at is None else stamp(at))
            conn.execute(
                "UPDATE outbox SET accepted_at = ?, first_open_at = ?, first_click_at = ?"
                " WHERE id = ?",
                (stamp(accepted), times[0], times[1], row),
            )
        conn.execute(
            "UPDATE campaigns SET opens = 7, machine_opens = 3, unique_opens = 5,"
            " unique_machine_opens = 2 WHERE id = ?",
            (campaign,),
        )
    return opens, clicks


@pytest.mark.parametrize("seed", [4, 5])
def test_engagement_by_hour_matches_a_plain_python_evaluation(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path, seed: int
) -> None:
    campaign = send(lettr, smtp_server, verified_domain, tmp_path)
    opens, clicks = _engage(isolated_home, campaign, seed)
    body = lettr("campaign", "report", campaign, "--json").json()
    hours = body["engagement_by_hour"]["hours"]
    assert [h["hour"] for h in hours] == list(range(48))
    assert [h["opens"] for h in hours] == opens[:48]
    assert [h["clicks"] for h in hours] == clicks[:48]
    assert body["engagement_by_hour"]["later"] == {"opens": opens[48], "clicks": clicks[48]}
    assert body["machine_open_share"] == pytest.approx(0.3)
    for key in ("campaign", "stats", "rates", "health", "warnings", "top_links",
                "unsubscribes_by_method", "series"):  # fmt: skip
        assert key in body

    text = lettr("campaign", "report", campaign)
    assert text.exit_code == 0, text.stderr
    out = text.stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "Share of opens made by machines: 30.00%" in out
    chart = out[out.index("First opens (#)") :].splitlines()
    top = max(opens)
    assert chart[1].lstrip().startswith(f"{top} |")
    # the bottom row of the panel marks every hour with a first open, and only those
    bottom = chart[8].split("|", 1)[1].ljust(49)
    assert [cell == "#" for cell in bottom] == [n > 0 for n in opens]
    assert "48h+" in chart[10]
    clicks_chart = out[out.index("First clicks (*)") :].splitlines()
    bottom = clicks_chart[8].split("|", 1)[1].ljust(49)
    assert [cell == "*" for cell in bottom] == [n > 0 for n in clicks]


def test_a_campaign_without_opens_has_no_share_and_empty_hours(lettr, tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_text("<p>Hi</p>", encoding="utf-8")
    lettr("campaign", "create", "Empty", "--html", str(page))
    body = lettr("campaign", "report", "Empty", "--json").json()
    assert body["machine_open_share"] is None
    assert body["engagement_by_hour"]["later"] == {"opens": 0, "clicks": 0}
    assert {(h["opens"], h["clicks"]) for h in body["engagement_by_hour"]["hours"]} == {(0, 0)}
    text = lettr("campaign", "report", "Empty").stdout
    assert "Share of opens made by machines: -" in text
    assert "No first opens or clicks recorded yet." in text


def test_the_html_page_shows_the_share_and_the_hours(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign = send(lettr, smtp_server, verified_domain, tmp_path)
    opens, clicks = _engage(isolated_home, campaign, 6)
    target = tmp_path / "report.html"
    assert lettr("campaign", "report", campaign, "--html", str(target)).exit_code == 0
    page = target.read_text(encoding="utf-8")
    assert "Share of opens made by machines: 30.00%" in page
    for hour in range(48):
        row = f'<tr><th>{hour}h</th><td class="n">{opens[hour]}</td><td class="n">{clicks[hour]}'
        assert (row in page) == bool(opens[hour] or clicks[hour])
    later = f'<tr><th>48h and later</th><td class="n">{opens[48]}</td>'
    assert (later in page) == bool(opens[48] or clicks[48])
