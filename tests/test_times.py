"""Reading `--at` (CONTRACT "Times"), with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lettr_cli.campaigns.times import describe, operator_zone, parse_at
from lettr_cli.errors import ValidationError
from lettr_cli.settings import system_timezone

NOW = datetime(2026, 6, 1, 12, 0, 0, 400_000, tzinfo=UTC)
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ISO 8601, without an offset (read in the zone) and with one
        ("2026-12-01T09:00", "2026-12-01T08:00:00+00:00"),
        ("2026-12-01 09:00", "2026-12-01T08:00:00+00:00"),
        ("2026-12-01T09:00:30", "2026-12-01T08:00:30+00:00"),
        ("2026-12-01", "2026-11-30T23:00:00+00:00"),
        ("20261201T0900", "2026-12-01T08:00:00+00:00"),
        ("2026-07-01T09:00", "2026-07-01T07:00:00+00:00"),  # summer time
        ("2026-12-01T09:00Z", "2026-12-01T09:00:00+00:00"),
        ("2026-12-01T09:00:00+05:30", "2026-12-01T03:30:00+00:00"),
        ("  2026-12-01T09:00  ", "2026-12-01T08:00:00+00:00"),
        # what dateutil reads, with a full date, month first
        ("Dec 1 2026 9am", "2026-12-01T08:00:00+00:00"),
        ("December 1, 2026 at 9:00", "2026-12-01T08:00:00+00:00"),
        ("12/1/2026 9:00", "2026-12-01T08:00:00+00:00"),
        ("3.12.2027", "2027-03-11T23:00:00+00:00"),  # March 12th: month first
        ("Tuesday, December 1, 2026 09:00", "2026-12-01T08:00:00+00:00"),
        ("Dec 1 2026 9am UTC", "2026-12-01T09:00:00+00:00"),
        ("Dec 1 2026 9am -0500", "2026-12-01T14:00:00+00:00"),
    ],
)
def test_accepted_forms(text: str, expected: str) -> None:
    parsed = parse_at(text, BERLIN, now=NOW)
    assert parsed.at == utc(expected)
    assert parsed.at.tzinfo == UTC
    assert parsed.zone == BERLIN and parsed.note is None


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("+30m", timedelta(minutes=30)),
        ("+1m", timedelta(minutes=1)),
        ("+2h", timedelta(hours=2)),
        ("+1d", timedelta(days=1)),
        ("+3w", timedelta(weeks=3)),
        (" +90m ", timedelta(minutes=90)),
    ],
)
def test_relative_forms_count_from_now(text: str, delta: timedelta) -> None:
    parsed = parse_at(text, BERLIN, now=NOW)
    assert parsed.at == (NOW + delta).replace(microsecond=0)


def test_a_relative_day_is_24_hours_even_across_a_clock_change() -> None:
    before_the_change = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    parsed = parse_at("+1d", BERLIN, now=before_the_change)
    assert parsed.at == datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert "2026-03-29 14:00 CEST" in describe(parsed.at, BERLIN)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "needs a time"),
        ("   ", "needs a time"),
        ("5", "bare number"),
        ("20261201", "bare number"),
        ("1764576000", "bare number"),
        ("-5", "bare number"),
        ("+5", "has no unit: write +5m, +5h, +5d or +5w"),
        ("-5m", "not a relative time"),
        ("+5M", "not a relative time"),
        ("+1y", "not a relative time"),
        ("+ 5m", "not a relative time"),
        ("9am", "has no full date"),
        ("09:00", "has no full date"),
        ("Dec 1 9am", "has no full date"),
        ("December 2026", "has no full date"),
        ("monday", "a weekday name is not a date"),
        ("friday 9am", "a weekday name is not a date"),
        ("Fri 09:00", "a weekday name is not a date"),
        ("Monday, December 1, 2026", "2026-12-01 is a Tuesday, not a Monday"),
        ("tomorrow", "is not a time lettr can read"),
        ("next friday", "is not a time lettr can read"),
        ("now", "is not a time lettr can read"),
        ("Dec 1 2026 9am EST", "an abbreviation lettr does not guess"),
        ("Dec 1 2026 9am GMT+1", "read backwards by some tools"),
        ("Dec 1 2026 9am UTC-5", "write it as +01:00 or -05:00"),
        ("+99999999999w", "out of range"),
        ("9999-12-31T23:00", "too far ahead"),
    ],
)
def test_refused_forms(text: str, words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_at(text, BERLIN, now=NOW)
    assert words in refused.value.message
    assert refused.value.code == "validation_error"
    assert refused.value.errors is not None and "at" in refused.value.errors


@pytest.mark.parametrize(
    "text",
    ["2026-06-01T11:00", "2026-06-01T12:00:00Z", "2026-06-01T12:00:00.300Z", "+0m", "2020-01-01"],
)
def test_past_times_and_now_are_refused(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_at(text, BERLIN, now=NOW)
    assert "is in the past" in refused.value.message
    assert "it is now 2026-06-01 14:00 CEST in Europe/Berlin" in refused.value.message


def test_a_second_from_now_is_accepted() -> None:
    assert parse_at("2026-06-01T12:00:01Z", BERLIN, now=NOW).at == utc("2026-06-01T12:00:01Z")


@pytest.mark.parametrize(
    ("zone", "text", "instead"),
    [
        (BERLIN, "2026-03-29 02:30", "03:30 CEST"),
        (BERLIN, "2026-03-29T02:00", "03:00 CEST"),
        (NEW_YORK, "2026-03-08 02:30", "03:30 EDT"),
        (NEW_YORK, "March 8 2026 2:59am", "03:59 EDT"),
    ],
)
def test_a_local_time_in_the_spring_gap_is_refused(zone: str, text: str, instead: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_at(text, zone, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert f"does not exist in {zone}" in refused.value.message
    assert instead in refused.value.message


@pytest.mark.parametrize(
    ("zone", "text", "first", "second"),
    [
        (BERLIN, "2026-10-25 02:30", "2026-10-25T00:30:00+00:00", "2026-10-25T02:30+01:00"),
        (NEW_YORK, "2026-11-01 01:30", "2026-11-01T05:30:00+00:00", "2026-11-01T01:30-05:00"),
        (NEW_YORK, "Nov 1 2026 1:00am", "2026-11-01T05:00:00+00:00", "2026-11-01T01:00-05:00"),
    ],
)
def test_a_repeated_local_time_takes_its_first_reading_and_says_so(
    zone: str, text: str, first: str, second: str
) -> None:
    parsed = parse_at(text, zone, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert parsed.at == utc(first)
    assert parsed.note is not None
    assert "happens twice" in parsed.note and zone in parsed.note
    assert f"--at {second}" in parsed.note
    # The offset the note offers picks the second reading, an hour later, without a note.
    again = parse_at(second, zone, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert again.at == parsed.at + timedelta(hours=1) and again.note is None


def test_times_next_to_the_changes_are_plain() -> None:
    for text in ("2026-03-29 01:59", "2026-03-29 03:00", "2026-10-25 01:59", "2026-10-25 03:00"):
        assert parse_at(text, BERLIN, now=datetime(2026, 1, 1, tzinfo=UTC)).note is None


def test_the_same_text_in_other_zones() -> None:
    text = "2026-12-01 09:00"
    assert parse_at(text, "UTC", now=NOW).at == utc("2026-12-01T09:00:00+00:00")
    assert parse_at(text, NEW_YORK, now=NOW).at == utc("2026-12-01T14:00:00+00:00")
    assert parse_at(text, "Asia/Tokyo", now=NOW).at == utc("2026-12-01T00:00:00+00:00")
    assert parse_at(text, "Asia/Kolkata", now=NOW).at == utc("2026-12-01T03:30:00+00:00")
    # An offset in the text wins over the zone.
    assert parse_at("2026-12-01 09:00+00:00", NEW_YORK, now=NOW).at == utc(
        "2026-12-01T09:00:00+00:00"
    )


def test_the_zone_comes_from_tz_then_config_then_the_system() -> None:
    assert operator_zone("Asia/Tokyo", BERLIN) == "Asia/Tokyo"
    assert operator_zone(None, BERLIN) == BERLIN
    assert operator_zone(" Asia/Tokyo ", None) == "Asia/Tokyo"
    assert operator_zone(None, None) == system_timezone()
    assert operator_zone("", "") == system_timezone()


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe", "CEST", "+02:00", "../etc/passwd"])
def test_an_unknown_zone_is_refused(zone: str) -> None:
    with pytest.raises(ValidationError) as refused:
        operator_zone(zone, BERLIN)
    assert "is not an IANA time zone" in refused.value.message
    assert refused.value.errors is not None and "tz" in refused.value.errors
    with pytest.raises(ValidationError):
        parse_at("+1h", zone, now=NOW)


def test_describe_shows_the_operators_zone_and_utc() -> None:
    at = utc("2026-12-01T08:00:00+00:00")
    assert (
        describe(at, BERLIN) == "2026-12-01 09:00 CET in Europe/Berlin (2026-12-01T08:00:00+00:00)"
    )
    assert describe(at, "UTC") == "2026-12-01 08:00 UTC (2026-12-01T08:00:00+00:00)"
    summer = utc("2026-07-01T07:00:05+00:00")
    assert describe(summer, NEW_YORK) == (
        "2026-07-01 03:00:05 EDT in America/New_York (2026-07-01T07:00:05+00:00)"
    )
