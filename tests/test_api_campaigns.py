"""The Campaigns API driven by Lettr's official SDK, unmodified: campaigns made in the CLI are
listed and read as the CLI shows them, scheduled and unscheduled, sent (202; the daemon sends),
and their events paged to the end; each documented error raises the SDK's exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import lettr as sdk
import pytest

from tests.api_helpers import api_server, client, make_key
from tests.send_cases import import_audience
from tests.sending_helpers import new_campaign

MISSING = "00000000-0000-0000-0000-000000000000"
SHARED = ("id", "name", "status", "subject", "from_email", "from_name", "reply_to",
          "total_recipients", "sent_count")  # fmt: skip


def _two_drafts(lettr: Any, tmp_path: Path, verified_domain: Any) -> tuple[str, str]:
    verified_domain()
    import_audience(lettr, tmp_path, ["ann@example.com", "bob@example.org"], "Customers")
    return new_campaign(lettr, tmp_path, "Sale"), new_campaign(lettr, tmp_path, "Later")


def _shown(lettr: Any, campaign_id: str) -> dict[str, Any]:
    result = lettr("campaign", "show", campaign_id, "--json")
    assert result.exit_code == 0, result.stderr
    return dict(result.json())


def _stamp(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


def _agree(lettr: Any, campaign: sdk.Campaign) -> None:
    cli = _shown(lettr, campaign.id)
    for key in SHARED:
        assert getattr(campaign, key) == cli[key], key
    assert _stamp(campaign.scheduled_at) == _stamp(cli["scheduled_at"])
    assert _stamp(campaign.created_at) == _stamp(cli["created_at"])
    assert vars(campaign.stats) == {key: cli["stats"][key] for key in vars(campaign.stats)}


def test_list_and_get_show_what_the_cli_shows(
    lettr, tmp_path: Path, verified_domain, isolated_home: Path
) -> None:
    sale, later = _two_drafts(lettr, tmp_path, verified_domain)
    with client(lettr, isolated_home) as api:
        everything = api.campaigns.list()
        second = api.campaigns.list(per_page=1, page=2)
        drafts = api.campaigns.list(status="draft")
        sent = api.campaigns.list(status="sent")
        detail = api.campaigns.get(sale)
        with pytest.raises(sdk.NotFoundError) as missing:
            api.campaigns.get(MISSING)
        with pytest.raises(sdk.NotFoundError):
            api.campaigns.get(sale[:8])  # ids only: no prefixes, no names
        with pytest.raises(sdk.ValidationError) as bad_status:
            api.campaigns.list(status="bogus")
        with pytest.raises(sdk.ValidationError) as bad_page:
            api.campaigns.list(per_page=101)
    assert {c.id for c in everything.campaigns} == {sale, later}
    assert (everything.total, everything.per_page, everything.last_page) == (2, 20, 1)
    assert (len(second.campaigns), second.current_page, second.last_page) == (1, 2, 2)
    assert second.campaigns[0].id == everything.campaigns[1].id
    assert drafts.total == 2 and sent.total == 0 and sent.last_page == 1
    for campaign in everything.campaigns:
        _agree(lettr, campaign)
    _agree(lettr, detail)
    assert detail.html_content == _shown(lettr, sale)["html_content"]
    assert "See the offer" in (detail.html_content or "")
    assert (missing.value.message, missing.value.error_code) == ("Campaign not found.", "not_found")
    assert "status" in bad_status.value.errors
    assert "per_page" in bad_page.value.errors


def test_schedule_unschedule_and_the_refusals_that_name_lettrs_fields(
    lettr, tmp_path: Path, verified_domain, isolated_home: Path
) -> None:
    sale, _ = _two_drafts(lettr, tmp_path, verified_domain)
    at = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    naive = at.replace(tzinfo=None).isoformat()  # without an offset: UTC
    with client(lettr, isolated_home) as api:
        for relative in ("+1h", "tomorrow 9am", "Dec 1 2030 9am"):
            with pytest.raises(sdk.ValidationError) as refused:
                api.campaigns.schedule(sale, scheduled_at=relative)
            assert list(refused.value.errors) == ["scheduled_at"], relative
        with pytest.raises(sdk.ValidationError) as past:
            api.campaigns.schedule(sale, scheduled_at="2020-01-01T00:00:00Z")
        with pytest.raises(sdk.NotFoundError):
            api.campaigns.schedule(MISSING, scheduled_at=naive)
        assert _shown(lettr, sale)["status"] == "draft"  # refused: nothing written
        scheduled = api.campaigns.schedule(sale, scheduled_at=naive)
        assert scheduled is not None
        _agree(lettr, scheduled)
        with pytest.raises(sdk.ValidationError) as pending:
            api.campaigns.send(sale)
        back = api.campaigns.unschedule(sale)
        with pytest.raises(sdk.ValidationError) as not_scheduled:
            api.campaigns.unschedule(sale)
    assert past.value.errors == {
        "scheduled_at": ["The scheduled delivery time must be in the future."]
    }
    assert scheduled.status == "scheduled"
    assert _stamp(scheduled.scheduled_at) == at
    assert back is not None and back.status == "draft"
    _agree(lettr, back)
    assert "scheduled" in not_scheduled.value.message
    assert "scheduled" in pending.value.message


def test_send_is_left_to_the_daemon_and_events_page_to_the_end(
    lettr, tmp_path: Path, relay, isolated_home: Path
) -> None:
    sale, _ = _two_drafts(lettr, tmp_path, lambda: None)
    key = make_key(lettr)
    with api_server(isolated_home) as base:
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}) as http:
            raw = http.post(
                f"{base}/campaigns/{sale}/send", headers={"Content-Type": "application/json"}
            )
        assert raw.status_code == 202, raw.text  # an empty JSON body is no error
        assert raw.json()["data"]["status"] == "preparing"
        assert relay.arrived() == []  # the API sends nothing itself
        with sdk.Lettr(key, base_url=base) as api:
            with pytest.raises(sdk.ValidationError):
                api.campaigns.send(sale)  # no longer a draft
            tick = lettr("daemon", "tick")
            assert tick.exit_code == 0, tick.stderr
            sent = api.campaigns.get(sale)
            pages, cursor = [], None
            while True:
                page = api.campaigns.list_events(sale, limit=1, cursor=cursor)
                pages.append(page.events)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            deliveries = api.campaigns.list_events(sale, event_type="delivery")
            for_ann = api.campaigns.list_events(sale, email="ANN@example.com")
            for field, kwargs in (
                ("event_type", {"event_type": "bogus"}),
                ("start_date", {"start_date": "last week"}),
                ("end_date", {"end_date": "soon"}),
                ("cursor", {"cursor": "nonsense"}),
                ("limit", {"limit": 0}),
            ):
                with pytest.raises(sdk.ValidationError) as refused:
                    api.campaigns.list_events(sale, **kwargs)
                assert field in refused.value.errors, field
            with pytest.raises(sdk.NotFoundError):
                api.campaigns.list_events(MISSING)
    assert len(relay.arrived()) == 2
    assert sent.status == "sent"
    _agree(lettr, sent)
    events = [event for page in pages for event in page]
    assert all(len(page) <= 1 for page in pages)
    cli = lettr("campaign", "events", sale, "--limit", "0", "--json").json()["events"]
    assert [e.event_id for e in events] == [str(e["event_id"]) for e in cli]
    assert [e.event_type for e in events] == [e["event_type"] for e in cli]
    assert len(deliveries.events) == 2 and deliveries.next_cursor is None
    assert {e.email for e in for_ann.events} == {"ann@example.com"}
