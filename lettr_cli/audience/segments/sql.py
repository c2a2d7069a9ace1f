"""Checked conditions as one SQL where-clause on ``contacts``, portable to PostgreSQL.

Only SQLAlchemy constructs that both dialects render are used: JSON element access
(``json_extract`` on SQLite, ``->>`` on PostgreSQL) with casts, ``LIKE`` with escaping, and
``IN`` over the membership tables. Case-insensitive comparisons use the casefolded copies kept
beside the values (``email_key``, ``properties_folded``), because SQLite folds only ASCII.
Long runs of AND and OR are nested as balanced, parenthesised halves: SQLite reads a flat run of
n as n levels deep and refuses an expression deeper than 1,000, which 500 conditions could reach.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, not_, or_, true
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import BinaryExpression, Grouping
from sqlmodel import col, select

from lettr_cli.audience.segments.engagement_sql import engagement_clause
from lettr_cli.audience.segments.model import (
    ACTIVITY,
    BOOLEAN,
    BUILT_IN_FIELDS,
    CAMPAIGN,
    DATE,
    ENGAGEMENT_FIELDS,
    LIST,
    NEGATIVE,
    NUMBER,
    RECENCY,
    STRING,
    TOPIC,
    Condition,
    Groups,
    as_moment,
)
from lettr_cli.errors import ValidationError
from lettr_cli.store.tables import Contact, ListMember, TopicMember

Clause = ColumnElement[bool]
# The positive form of every negative operator: a negation matches what the positive does not,
# contacts without a value included (see ``model``).
POSITIVE = {
    "not_equals": "equals",
    "not_contains": "contains",
    "not_starts_with": "starts_with",
    "not_ends_with": "ends_with",
    "is_false": "is_true",
}
_COMPARE: Mapping[str, Callable[[Any, Any], Clause]] = {
    "equals": lambda column, value: column == value,
    "contains": lambda column, value: column.contains(value, autoescape=True),
    "starts_with": lambda column, value: column.startswith(value, autoescape=True),
    "ends_with": lambda column, value: column.endswith(value, autoescape=True),
    "greater_than": lambda column, value: column > value,
    "greater_than_or_equal": lambda column, value: column >= value,
    "less_than": lambda column, value: column < value,
    "less_than_or_equal": lambda column, value: column <= value,
    "before": lambda column, value: column < value,
    "after": lambda column, value: column > value,
    "is_true": lambda column, _value: column == true(),
}


_FLAT = 8  # runs up to this long stay flat: the SQL of everyday segments reads as written


def groups_clause(
    groups: Groups, property_types: Mapping[str, str], *, per_contact: bool = False
) -> Clause:
    """Membership in the segment: OR inside each group, AND across groups. ``per_contact``:
    list and topic memberships as correlated lookups (see ``_membership``)."""
    if not groups:
        return true()
    return balanced(
        "and",
        [
            balanced(
                "or", [condition_clause(c, property_types, per_contact=per_contact) for c in g]
            )
            for g in groups
        ],
    )


_JOINS = {"and": (and_, operators.and_), "or": (or_, operators.or_)}


def balanced(word: str, clauses: Sequence[Clause]) -> Clause:
    """``clauses`` joined with ``word`` ("and", "or") as parenthesised halves: log(n) deep."""
    join, operator = _JOINS[word]
    if len(clauses) <= _FLAT:
        return join(*clauses)
    middle = len(clauses) // 2
    left, right = (Grouping(balanced(word, part)) for part in (clauses[:middle], clauses[middle:]))
    # A binary expression, because and_() and or_() would flatten the halves back into one run.
    return BinaryExpression(left, right, operator, type_=Boolean())


def condition_clause(
    condition: Condition, property_types: Mapping[str, str], *, per_contact: bool = False
) -> Clause:
    field, operator = condition.field, condition.operator
    if field in ENGAGEMENT_FIELDS and field in property_types:  # made before the built-in
        kind: str | None = property_types[field]
    else:
        kind = BUILT_IN_FIELDS.get(field) or property_types.get(field)
    if kind is None:
        raise ValidationError.field(
            "conditions", f"the segment refers to the property '{field}', which no longer exists"
        )
    if kind in (LIST, TOPIC):
        return _membership(
            kind, condition.value, negate=operator == "not_equals", per_contact=per_contact
        )
    if kind in (CAMPAIGN, RECENCY, ACTIVITY):
        return engagement_clause(condition, kind)
    column, value = _operands(field, kind, condition.value)
    if operator not in NEGATIVE:
        return _COMPARE[operator](column, value)
    matched = _COMPARE[POSITIVE[operator]](column, value)
    if field in BUILT_IN_FIELDS and field not in ENGAGEMENT_FIELDS:  # never missing
        return not_(matched)
    return or_(column.is_(None), not_(matched))


def _operands(field: str, kind: str, value: str | None) -> tuple[Any, Any]:
    """The column to compare and the value to compare it with."""
    text = value or ""
    if field in BUILT_IN_FIELDS and field not in ENGAGEMENT_FIELDS:
        return _built_in(field, text)
    values = col(Contact.properties)[field]
    if kind == STRING:
        return col(Contact.properties_folded)[field].as_string(), text.casefold()
    if kind == NUMBER:
        return values.as_float(), float(text)
    if kind == BOOLEAN:
        return values.as_boolean(), None
    assert kind == DATE, kind
    # ISO dates (YYYY-MM-DD) of one width order the same as text on both databases.
    return values.as_string(), text


def _built_in(field: str, text: str) -> tuple[Any, Any]:
    if field == "email":
        return col(Contact.email_key), text.casefold()
    if field == "status":
        return col(Contact.status), text
    assert field == "created_at", field
    return col(Contact.created_at), as_moment(text)


def _membership(kind: str, group_id: str | None, *, negate: bool, per_contact: bool) -> Clause:
    """``contacts.id IN (the group's members)``: SQLite builds the member list once per
    statement, the better plan when many contacts are read. ``per_contact``: a correlated
    ``EXISTS`` on the membership's key instead, for a handful of contacts named by id (the
    claim-time check of ``delivery``), which would otherwise pay for the whole list each time."""
    if kind == LIST:
        member_id, key = col(ListMember.contact_id), col(ListMember.list_id)
    else:
        member_id, key = col(TopicMember.contact_id), col(TopicMember.topic_id)
    inside: Clause
    if per_contact:
        inside = select(member_id).where(key == group_id, member_id == col(Contact.id)).exists()
    else:
        inside = col(Contact.id).in_(select(member_id).where(key == group_id))
    return not_(inside) if negate else inside


def within_list(list_id: str, *, per_contact: bool = False) -> Clause:
    """The list scope of a segment (``per_contact``: see ``_membership``)."""
    return _membership(LIST, list_id, negate=False, per_contact=per_contact)
