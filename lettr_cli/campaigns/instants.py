"""Times as Lettr's API takes them: ISO 8601 only (no relative or natural forms, which are the
command line's), a time without an offset read as UTC, and refusals that name the API's field
(``scheduled_at``)."""

from __future__ import annotations

from datetime import UTC, datetime

from lettr_cli.campaigns.times import LAST_YEAR, ParsedTime, require_future
from lettr_cli.errors import ValidationError
from lettr_cli.store.types import utcnow

ISO_EXAMPLE = "2026-12-01T09:00:00+00:00"


def parse_instant(text: str, field: str) -> datetime:
    """``text`` as an ISO 8601 date and time, in UTC to the second; naive means UTC."""
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw) if "T" in raw.upper() or " " in raw else None
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationError.field(
            field, f"The {field} field must be an ISO 8601 date and time, such as {ISO_EXAMPLE}."
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    at = moment.astimezone(UTC).replace(microsecond=0)
    if at.year > LAST_YEAR:
        raise ValidationError.field(field, f"The {field} field is too far ahead.")
    return at


def future_instant(text: str, field: str, *, now: datetime | None = None) -> ParsedTime:
    """A time for ``schedule``: ISO 8601 (``parse_instant``) and in the future."""
    parsed = ParsedTime(parse_instant(text, field), "UTC", None, field)
    try:
        require_future(parsed, now=now or utcnow())
    except ValidationError:
        raise ValidationError.field(
            field, "The scheduled delivery time must be in the future."
        ) from None
    return parsed
