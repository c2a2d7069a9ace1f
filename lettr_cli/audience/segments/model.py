"""The vocabulary of segment conditions and their stored form (reference §12, CONTRACT).

A segment is a list of condition groups: the conditions inside a group are joined with OR, the
groups with AND. It is stored as ``{"groups": [{"conditions": [{field, operator, value}]}]}``,
lists and topics by id, every value as a string (``null`` for ``is_true`` and ``is_false``).

Missing values: a contact without a value for a property matches only the negative operators
(``not_equals``, ``not_contains``, ``not_starts_with``, ``not_ends_with``, ``is_false``). So an
operator and its negation always split the contacts in two, and ``vip is_false`` means "not
known to be a VIP". Property fallbacks are for rendering messages; segments never use them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from lettr_cli.errors import ValidationError

# Field types
STRING = "string"
NUMBER = "number"
BOOLEAN = "boolean"
DATE = "date"
STATUS = "status"
LIST = "list"
TOPIC = "topic"
# Engagement (read from the outbox): a campaign opened, clicked or received; any open or click
# within a number of days; the moment of the last open.
CAMPAIGN = "campaign"
RECENCY = "recency"
ACTIVITY = "activity"

BUILT_IN_FIELDS: Mapping[str, str] = {
    "email": STRING,
    "status": STATUS,
    "created_at": DATE,
    "lists": LIST,
    "topics": TOPIC,
    "opened": CAMPAIGN,
    "clicked": CAMPAIGN,
    "received": CAMPAIGN,
    "opened_any": RECENCY,
    "clicked_any": RECENCY,
    "last_open": ACTIVITY,
}
# Fields written ``[not] FIELD CAMPAIGN`` in the text form (operators ``is`` and ``is_not``).
CAMPAIGN_FIELDS = frozenset(name for name, kind in BUILT_IN_FIELDS.items() if kind == CAMPAIGN)
# Fields whose ``within`` may be negated in the text form: ``not opened_any within 90d``.
RECENCY_FIELDS = frozenset(name for name, kind in BUILT_IN_FIELDS.items() if kind == RECENCY)
# Engagement fields; a property of the same name (made before they existed) keeps its meaning.
ENGAGEMENT_FIELDS = frozenset(
    name for name, kind in BUILT_IN_FIELDS.items() if kind in (CAMPAIGN, RECENCY, ACTIVITY)
)
PROPERTY_PREFIX = "properties."

_STRING_OPERATORS = (
    "contains",
    "not_contains",
    "starts_with",
    "not_starts_with",
    "ends_with",
    "not_ends_with",
)
_NUMBER_OPERATORS = ("greater_than", "greater_than_or_equal", "less_than", "less_than_or_equal")

# Each operator and the field types it applies to (reference §12).
OPERATORS: Mapping[str, frozenset[str]] = {
    **{name: frozenset({STRING}) for name in _STRING_OPERATORS},
    "equals": frozenset({STRING, NUMBER, STATUS, LIST, TOPIC}),
    "not_equals": frozenset({STRING, NUMBER, STATUS, LIST, TOPIC}),
    "is_true": frozenset({BOOLEAN}),
    "is_false": frozenset({BOOLEAN}),
    **{name: frozenset({NUMBER}) for name in _NUMBER_OPERATORS},
    "before": frozenset({DATE, ACTIVITY}),
    "after": frozenset({DATE, ACTIVITY}),
    "is": frozenset({CAMPAIGN}),
    "is_not": frozenset({CAMPAIGN}),
    "within": frozenset({RECENCY}),
    "not_within": frozenset({RECENCY}),
}
NO_VALUE = frozenset({"is_true", "is_false"})
NEGATIVE = frozenset(
    {
        "not_equals",
        "not_contains",
        "not_starts_with",
        "not_ends_with",
        "is_false",
        "is_not",
        "not_within",
    }
)
KEYWORDS = frozenset({"and", "or"})
MAX_VALUE = 1000
# A segment is evaluated as one SQL expression; these bound its size (and the work of refusing it).
MAX_GROUPS = 100
MAX_CONDITIONS = 500


def size_problem(groups: int, conditions: int) -> str | None:
    """Why a segment of this size is refused; None when it is within the limits."""
    if groups > MAX_GROUPS:
        return f"a segment has at most {MAX_GROUPS} groups; this one has {groups}"
    if conditions > MAX_CONDITIONS:
        return f"a segment has at most {MAX_CONDITIONS} conditions; this one has {conditions}"
    return None


def operators_for(kind: str) -> list[str]:
    """The operators that apply to a field of type ``kind``, in the reference's order."""
    return [name for name, kinds in OPERATORS.items() if kind in kinds]


@dataclass(frozen=True)
class Condition:
    """One checked condition: a canonical field, an operator, and the canonical value."""

    field: str  # a built-in field, or a property's bare name
    operator: str
    value: str | None  # lists and topics: the id

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "operator": self.operator, "value": self.value}


Groups = tuple[tuple[Condition, ...], ...]


def groups_json(groups: Groups) -> list[dict[str, Any]]:
    """``condition_groups`` as the Segment object shows them."""
    return [{"conditions": [c.to_json() for c in group]} for group in groups]


def stored(groups: Groups) -> dict[str, Any]:
    """What the ``segments.conditions`` column holds."""
    return {"groups": groups_json(groups)}


def from_stored(document: Mapping[str, Any]) -> Groups:
    """The groups of a stored document (written by :func:`stored`, so trusted)."""
    return tuple(
        tuple(
            Condition(str(c["field"]), str(c["operator"]), c.get("value"))
            for c in group["conditions"]
        )
        for group in document["groups"]
    )


def as_moment(value: str) -> datetime:
    """A canonical ``created_at`` value as the instant it stands for (a date: midnight UTC)."""
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    return datetime.fromisoformat(value)


@dataclass(frozen=True)
class Span:
    """Where a part of a text expression is: ``text[start:end]``."""

    start: int
    end: int


@dataclass(frozen=True)
class RawCondition:
    """A condition as the operator wrote it, before it is checked against the store.

    ``spans`` locates its parts ("field", "operator", "value", "condition") in a text
    expression; ``path`` locates it in a JSON document (``groups[0].conditions[1]``).
    """

    field: str
    operator: str
    value: str | None
    spans: Mapping[str, Span] = dataclasses.field(default_factory=dict)
    path: str = ""


RawGroups = Sequence[Sequence[RawCondition]]


class Source(Protocol):
    """Where conditions came from, so that a refusal can point at the offending part."""

    def refuse(self, raw: RawCondition, part: str, message: str) -> ValidationError:
        """A ``validation_error`` about ``part`` ("field", "operator", "value") of ``raw``."""
        ...
