"""`lettr campaign report` and `compare`: counters, rates, healthy ranges, top links,
unsubscribe methods, the series, the text chart and the HTML page."""

from __future__ import annotations

import os
import re
import stat
from datetime import timedelta
from pathlib import Path

from tests.analytics_helpers import OFFER, ORIGIN, OTHER, engage, send

STATS = {
    "injections": 10, "deliveries": 9, "bounces": 1, "spam_complaints": 1, "opens": 4,
    "unique_opens": 3, "clicks": 4, "unique_clicks": 3, "unsubscribes": 2, "machine_opens": 1,
    "unique_machine_opens": 1,
}  # fmt: skip


def test_report_json_has_every_counter_rate_verdict_link_method_and_bucket(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign = send(lettr, smtp_server, verified_domain, tmp_path)
    engage(isolated_home, campaign)
    result = lettr("campaign", "report", campaign, "--json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["stats"] == STATS
    assert body["rates"] == {
        "delivery_rate": 9 / 10,
        "bounce_rate": 1 / 10,
        "spam_complaint_rate": 1 / 9,
        "open_rate": 3 / 9,
        "click_rate": 3 / 9,
        "unsubscribe_rate": 2 / 9,
    }
    verdicts = {name: v["healthy"] for name, v in body["health"].items()}
    assert verdicts == {
        "delivery_rate": False,  # 90% < 98%
        "bounce_rate": False,  # 10% >= 2%
        "spam_complaint_rate": False,  # 11% >= 0.1%
        "open_rate": True,  # 33% >= 15%
        "click_rate": True,  # 33% >= 1%
        "unsubscribe_rate": False,  # 22% >= 0.5%
    }
    assert [w["code"] for w in body["warnings"]] == ["high_bounce_rate"]  # exactly 10% warns
    assert "10.0%" in result.stderr
    assert body["top_links"] == [
        {"url": OFFER, "clicks": 3, "unique_clicks": 2},
        {"url": OTHER, "clicks": 1, "unique_clicks": 1},
    ]
    assert body["unsubscribes_by_method"] == {"list_unsubscribe": 1, "link_unsubscribe": 1}
    series = body["series"]
    assert len(series) == 48 + 4  # 48 hourly buckets, then days 0..3 after them
    hour = timedelta(hours=1)
    assert series[0]["bucket_start"] == ORIGIN.isoformat()
    assert series[47]["bucket_start"] == (ORIGIN + 47 * hour).isoformat()
    assert series[48]["bucket_start"] == (ORIGIN + 48 * hour).isoformat()
    assert series[51]["bucket_start"] == (ORIGIN + 48 * hour + timedelta(days=3)).isoformat()
    figures = {
        i: (b["opens"], b["clicks"]) for i, b in enumerate(series) if b["opens"] or b["clicks"]
    }
    # the machine open (minute 1) is left out; hours 0 and 1, then day buckets 0 and 3
    assert figures == {0: (1, 2), 1: (1, 0), 48: (1, 1), 51: (1, 1)}


def test_report_text_shows_verdicts_dashes_and_a_chart_that_fits_80_columns(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign = send(lettr, smtp_server, verified_domain, tmp_path)
    engage(isolated_home, campaign)
    result = lettr("campaign", "report", campaign)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "\x1b[" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert re.search(r"Bounce rate\s+10\.00%\s+under 2%\s+outside the healthy range", out)
    assert re.search(r"Open rate\s+33\.33%\s+15-30%\+\s+healthy", out)
    assert "Machine opens (proxies and scanners, not in opens): 1, unique 1" in out
    assert "1 list_unsubscribe" in out and "1 link_unsubscribe" in out
    assert "Opens (#) per bucket, y: opens" in out and "Clicks (*) per bucket" in out
    assert (
        "+0h" in out
        and "+12h" in out
        and "d2" in out
        and "x: time from 2026-01-10 09:00 UTC" in out
    )
    assert "Warning:" in result.stderr
    chart = out[out.index("Opens (#)") :].splitlines()
    assert chart[1].lstrip().startswith("1 |")  # the y scale's top is the largest bucket
    assert chart[9].lstrip().startswith("0 +")


def test_rates_with_zero_denominators_are_null_and_dashes(lettr, tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_text("<p>Hi</p>", encoding="utf-8")
    lettr("campaign", "create", "Empty", "--html", str(page))
    body = lettr("campaign", "report", "Empty", "--json").json()
    assert set(body["rates"].values()) == {None}
    assert {v["healthy"] for v in body["health"].values()} == {None}
    assert body["warnings"] == [] and body["series"] == [] and body["top_links"] == []
    text = lettr("campaign", "report", "Empty").stdout
    assert re.search(r"Delivery rate\s+-\s+98%\+\s+-", text)
    assert "No opens or clicks recorded yet." in text


def test_html_page_is_one_private_self_contained_file_with_an_svg(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    campaign = send(lettr, smtp_server, verified_domain, tmp_path)
    engage(isolated_home, campaign)
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    os.umask(0o022)
    result = lettr("campaign", "report", campaign, "--html", str(target), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["stats"] == STATS
    assert os.listdir(target.parent) == ["report.html"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    page = target.read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and "</svg>" in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {OFFER, OTHER}
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "time (hourly for 48 hours, then daily)" in page and ">count<" in page
    assert "10.00%" in page and "list_unsubscribe" in page
    bad = lettr("campaign", "report", campaign, "--html", str(tmp_path / "no" / "x.html"))
    assert bad.exit_code == 1 and "validation_error" in bad.stderr


def test_compare_puts_sent_campaigns_side_by_side_and_refuses_others(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path
) -> None:
    first = send(lettr, smtp_server, verified_domain, tmp_path)
    engage(isolated_home, first)
    second = lettr("campaign", "duplicate", first, "--name", "Sale 2", "--json").json()["id"]
    assert lettr("campaign", "send", second, "--yes").exit_code == 0
    result = lettr("campaign", "compare", first, "Sale 2", "--json")
    assert result.exit_code == 0, result.stderr
    items = result.json()
    assert [c["id"] for c in items] == [first, second]
    assert items[0]["stats"] == STATS
    # user9 bounced in the first send and is no longer subscribed: 9 recipients, all delivered
    assert items[1]["stats"]["injections"] == 9 and items[1]["stats"]["deliveries"] == 9
    assert items[1]["rates"]["delivery_rate"] == 1.0 and items[1]["rates"]["open_rate"] == 0.0
    text = lettr("campaign", "compare", first, second).stdout
    assert re.search(r"Delivery rate\s+90\.00%\s+100\.00%", text)
    lettr("campaign", "duplicate", first, "--name", "Draft")
    refused = lettr("campaign", "compare", first, "Draft", "--json")
    assert refused.exit_code == 1
    assert refused.error()["error_code"] == "validation_error"
    assert "only sent campaigns" in refused.error()["message"]
    alone = lettr("campaign", "compare", first, "--json")
    assert alone.exit_code == 1 and alone.error()["error_code"] == "validation_error"
    twice = lettr("campaign", "compare", first, first, "--json")
    assert twice.exit_code == 1 and twice.error()["error_code"] == "validation_error"


def test_a_long_series_shares_daily_columns_and_still_fits_80_columns() -> None:
    from lettr_cli.analytics.chart import text_chart
    from lettr_cli.analytics.stats import bucket_starts

    starts = bucket_starts(ORIGIN, ORIGIN + timedelta(days=60))
    series = [{"bucket_start": s, "opens": i % 7, "clicks": i % 3} for i, s in enumerate(starts)]
    assert len(series) == 48 + 59
    lines = text_chart(series, "2026-01-10 09:00 UTC")
    assert max(len(line) for line in lines) <= 80
    assert "a column 3 days" in lines[-1]
