"""When a campaign goes out: ``--at`` read the way CONTRACT "Times" says, and shown back.

Accepted, in this order: ISO 8601; ``+Nm``, ``+Nh``, ``+Nd`` and ``+Nw`` from now (elapsed
minutes, hours, days of 24 hours and weeks); anything else python-dateutil reads, month first, that
names a full date (day, month and year). Bare numbers, weekday names without a date and times that
dateutil would complete from today's date are refused. A time without an offset is read in the
operator's zone (``--tz``, then config ``timezone``, then the system zone): a local time that does
not exist there (a daylight-saving gap) is refused, and one that happens twice (a fold) takes the
first reading and says so. A time that is not in the future is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

from lettr_cli.errors import ValidationError
from lettr_cli.settings import find_zone, system_timezone
from lettr_cli.store.types import utcnow

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

EXAMPLES = "2026-12-01T09:00, 2026-12-01T09:00+01:00, +30m, +2h, +1d, +1w or 'Dec 1 2026 9am'"
LAST_YEAR = 9998
_RELATIVE = re.compile(r"\+(\d+)([mhdw])")
_UNITS = {
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_BARE_NUMBER = re.compile(r"[+-]?\d+")
# dateutil reads "GMT+1" the POSIX way, as one hour *behind* UTC; people mean the opposite.
_POSIX_OFFSET = re.compile(r"(?:UTC|GMT)\s*[+-]\s*\d", re.IGNORECASE)
# Two days that differ in year, month and day: a date that dateutil completed from its default
# comes out differently under the two.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class ParsedTime:
    """A time read from ``--at``.

    ``at`` is in UTC, to the second; ``zone`` is the operator's zone (a time without an offset
    was read in it, and ``describe`` shows it); ``note`` says which reading a repeated local
    time took.
    """

    at: datetime
    zone: str
    note: str | None = None
    field: str = "at"  # the option or field it came from, named in refusals


def _refuse(message: str, field: str = "at") -> ValidationError:
    return ValidationError.field(field, message)


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; anything else is ``validation_error``."""
    zone = find_zone(name.strip())
    if zone is None:
        raise ValidationError.field(
            "tz", f"'{name}' is not an IANA time zone (such as Europe/Paris or America/New_York)"
        )
    return zone


def operator_zone(tz: str | None, configured: str | None) -> str:
    """The zone times are read and shown in: ``--tz``, then config ``timezone``, then the
    system zone. The name is checked."""
    for name in (tz, configured):
        if name is not None and name.strip():
            load_zone(name)
            return name.strip()
    return system_timezone()


def parse_at(text: str, zone: str, *, now: datetime | None = None) -> ParsedTime:
    """Read ``text`` (an ``--at`` value); naive times are read in ``zone``."""
    current = now or utcnow()
    assert current.tzinfo is not None, "now must be timezone-aware"
    name = zone.strip()
    local_zone = load_zone(name)
    raw = text.strip()
    if not raw:
        raise _refuse(f"--at needs a time, such as {EXAMPLES}")
    if _BARE_NUMBER.fullmatch(raw):
        if raw.startswith("+"):
            raise _refuse(f"'{text}' has no unit: write +{raw[1:]}m, +{raw[1:]}h, +{raw[1:]}d "
                          f"or +{raw[1:]}w (minutes, hours, days, weeks)")  # fmt: skip
        raise _refuse(f"'{text}' is a bare number, not a time; write {EXAMPLES}")
    note = None
    try:
        moment = _iso(raw) or _relative(raw, text, current) or _dateutil(raw, text)
        if moment.tzinfo is None:
            moment, note = _localize(moment, local_zone, name)
        at = moment.astimezone(UTC).replace(microsecond=0)
    except OverflowError:
        raise _refuse(f"'{text}' is out of range") from None
    if at.year > LAST_YEAR:  # shown later in any zone, a time must stay inside datetime's range
        raise _refuse(f"'{text}' is too far ahead (the last year is {LAST_YEAR})")
    parsed = ParsedTime(at, name, note)
    require_future(parsed, now=current)
    return parsed


def require_future(parsed: ParsedTime, *, now: datetime | None = None) -> None:
    """A time that is now or earlier is ``validation_error``."""
    current = now or utcnow()
    if parsed.at <= current:
        raise _refuse(
            f"{describe(parsed.at, parsed.zone)} is in the past "
            f"(it is now {describe(current.replace(microsecond=0), parsed.zone)})",
            parsed.field,
        )


def describe(at: datetime, zone: str) -> str:
    """A time in the operator's zone and in UTC: ``2026-12-01 09:00 CET in Europe/Berlin
    (2026-12-01T08:00:00+00:00)``."""
    utc = at.astimezone(UTC)
    local = utc.astimezone(load_zone(zone))
    clock = local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")
    name = zone.strip()
    where = f"{local.tzname()} in {name}" if local.tzname() != name else name
    return f"{clock} {where} ({utc.isoformat(timespec='seconds')})"


def _iso(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _relative(raw: str, text: str, now: datetime) -> datetime | None:
    if not raw.startswith(("+", "-")):
        return None
    found = _RELATIVE.fullmatch(raw)
    if found is None:
        raise _refuse(
            f"'{text}' is not a relative time; write +Nm, +Nh, +Nd or +Nw "
            "(minutes, hours, days of 24 hours, weeks from now), such as +30m or +2d"
        )
    return now + int(found.group(1)) * _UNITS[found.group(2)]


def _dateutil(raw: str, text: str) -> datetime:
    from dateutil import parser

    if _POSIX_OFFSET.search(raw):
        raise _refuse(
            f"'{text}': an offset written as GMT+1 or UTC-5 is read backwards by some tools; "
            "write it as +01:00 or -05:00"
        )
    names: list[str] = []

    def zone_of(name: str | None, offset: int | None) -> tzinfo | None:
        if offset is not None:
            return timezone(timedelta(seconds=offset))
        if name is not None:
            names.append(name)
        return None

    first: datetime
    second: datetime
    try:
        first, second = (
            parser.parse(raw, default=default, dayfirst=False, tzinfos=zone_of)
            for default in _DEFAULTS
        )
    except ValueError:  # dateutil's ParserError is one
        raise _refuse(f"'{text}' is not a time lettr can read; write {EXAMPLES}") from None
    if names:
        raise _refuse(
            f"'{text}' names the zone '{names[0]}', an abbreviation lettr does not guess; "
            "give an offset (+01:00) or --tz with an IANA zone (Europe/Paris)"
        )
    weekday = _weekday_named(raw)
    if first.date() != second.date():
        if weekday is not None:
            raise _refuse(
                f"'{text}': a weekday name is not a date; give the date, such as {EXAMPLES}"
            )
        raise _refuse(
            f"'{text}' has no full date (day, month and year), and lettr does not complete one "
            f"from today's date; write {EXAMPLES}"
        )
    if weekday is not None and weekday != first.weekday():
        raise _refuse(
            f"'{text}': {first:%Y-%m-%d} is a {_DAY_NAMES[first.weekday()]}, "
            f"not a {_DAY_NAMES[weekday]}"
        )
    return first


def _weekday_named(raw: str) -> int | None:
    """The weekday a text names (Monday is 0), if it names one."""
    from dateutil.parser import parserinfo

    info = parserinfo()
    for word in re.findall(r"[^\W\d_]+", raw):
        day = info.weekday(word)
        if day is not None:
            return int(day)
    return None


def _localize(naive: datetime, zone: ZoneInfo, name: str) -> tuple[datetime, str | None]:
    """``naive`` read in ``zone``: a gap is refused, a fold takes its first reading."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first, None
    clock = naive.strftime("%Y-%m-%d %H:%M")
    same_instant = first.astimezone(UTC).astimezone(zone)
    if same_instant.replace(tzinfo=None) != naive:
        raise _refuse(
            f"{clock} does not exist in {name}: the clocks skip it (daylight saving time "
            f"begins); choose another time, such as {same_instant:%H:%M} {same_instant.tzname()}"
        )
    note = (
        f"{clock} happens twice in {name} (the clocks go back); lettr took the first, "
        f"{first.isoformat(timespec='minutes')} {first.tzname()}. For the second, give "
        f"--at {second.isoformat(timespec='minutes')}"
    )
    return first, note
