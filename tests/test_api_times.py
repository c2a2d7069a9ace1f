"""The API's times (campaigns/instants.py) and event filters (analytics/events.py with the API's
field names): ISO 8601 only, naive is UTC, refusals name Lettr's fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lettr_cli.analytics.events import API_FIELDS, make_filters
from lettr_cli.campaigns.instants import future_instant, parse_instant
from lettr_cli.errors import ValidationError

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_an_iso_time_without_an_offset_is_utc() -> None:
    assert parse_instant("2026-07-01T09:30:00", "scheduled_at") == datetime(
        2026, 7, 1, 9, 30, tzinfo=UTC
    )
    assert parse_instant("2026-07-01T09:30:00+02:00", "scheduled_at") == datetime(
        2026, 7, 1, 7, 30, tzinfo=UTC
    )
    assert parse_instant("2026-07-01T09:30:00.75Z", "scheduled_at").microsecond == 0


@pytest.mark.parametrize(
    "text", ["+1h", "+30m", "Dec 1 2026 9am", "tomorrow", "2026-07-01", "", "1767225600"]
)
def test_relative_natural_and_date_only_forms_are_refused(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_instant(text, "scheduled_at")
    assert list(refused.value.errors or {}) == ["scheduled_at"]


def test_a_past_time_is_refused_with_lettrs_message() -> None:
    with pytest.raises(ValidationError) as refused:
        future_instant("2026-06-01T11:59:59Z", "scheduled_at", now=NOW)
    assert refused.value.errors == {
        "scheduled_at": ["The scheduled delivery time must be in the future."]
    }
    assert future_instant("2026-06-01T12:00:01", "scheduled_at", now=NOW).field == "scheduled_at"


def test_event_filter_refusals_name_the_apis_fields() -> None:
    cases = [
        (("nope", None, None, None), "event_type"),
        ((None, None, "yesterday", None), "start_date"),
        ((None, None, None, "soon"), "end_date"),
        ((None, None, "2026-06-02", "2026-06-01"), "end_date"),
    ]
    for args, field in cases:
        with pytest.raises(ValidationError) as refused:
            make_filters(*args, "UTC", names=API_FIELDS)
        assert list(refused.value.errors or {}) == [field]
        assert "--" not in refused.value.message
    day = make_filters(None, None, "2026-06-01", "2026-06-01", "UTC", names=API_FIELDS)
    assert (day.since, day.before) == (
        datetime(2026, 6, 1, tzinfo=UTC),
        datetime(2026, 6, 2, tzinfo=UTC),
    )
