"""Generated segments and contacts: SQL and a plain-Python reading of the conditions agree.

Each example draws a handful of contacts (non-ASCII addresses and values, missing values,
memberships) and condition groups, prints the groups as text, parses the text back, checks it
against the store, evaluates it in SQL and compares the members with :func:`holds`, written
here from the rules in CONTRACT and ``model``'s docstring, not from lettr's code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlmodel import Session, delete, select

from lettr_cli.audience import groups
from lettr_cli.audience.contacts import add_contacts
from lettr_cli.audience.properties import create_property
from lettr_cli.audience.segments.checks import display_groups
from lettr_cli.audience.segments.parser import parse, to_text
from lettr_cli.audience.segments.resolve import audience_clause
from lettr_cli.audience.segments.service import Definition
from lettr_cli.store.engine import Store
from lettr_cli.store.migrations import migrate
from lettr_cli.store.tables import Contact

STATUSES = ["subscribed", "unsubscribed", "bounced", "complained", "unverified"]
# Names that the text form must quote: a keyword, quotes, a backslash, parentheses, spaces.
LISTS = ['VIP "gold"', "and", "Ünïcode (news)", "back\\slash"]
TOPICS = ["News", "o'clock", "two  spaces", "OR"]
TYPES = {
    "email": "string",
    "city": "string",
    "note": "string",
    "age": "number",
    "vip": "boolean",
    "birthday": "date",
    "created_at": "moment",
    "status": "status",
    "lists": "membership",
    "topics": "membership",
}
OPERATORS = {
    "string": [
        "equals", "not_equals", "contains", "not_contains",
        "starts_with", "not_starts_with", "ends_with", "not_ends_with",
    ],
    "number": [
        "equals", "not_equals", "greater_than", "greater_than_or_equal",
        "less_than", "less_than_or_equal",
    ],
    "boolean": ["is_true", "is_false"],
    "date": ["before", "after"],
    "moment": ["before", "after"],
    "status": ["equals", "not_equals"],
    "membership": ["equals", "not_equals"],
}  # fmt: skip
NOT_ASCII = "éÉßẞüÜøØıİæÆ"
LETTERS = "abzABZ019" + NOT_ASCII
TEXT = st.text(alphabet=LETTERS + " '\"\\()%_/\n\t", max_size=8) | st.sampled_from(
    ["and", "OR", "Straße", "STRASSE", "", " "]
)
NUMBERS = st.integers(-1000, 1000) | st.floats(
    -1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False
)
MOMENTS = st.datetimes(datetime(2025, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC))
DATES = st.dates(date(1900, 1, 1), date(2030, 12, 31))


@dataclass(frozen=True)
class Person:
    email: str
    status: str
    created_at: datetime
    city: str | None
    note: str | None
    age: int | float | None
    vip: bool | None
    birthday: date | None
    lists: frozenset[str]
    topics: frozenset[str]


Cond = tuple[str, str, str | None]


def holds(p: Person, condition: Cond) -> bool:
    """Whether ``p`` matches one condition whose lists and topics are given by name."""
    field, op, value = condition
    if field in ("lists", "topics"):
        member = value in (p.lists if field == "lists" else p.topics)
        return member if op == "equals" else not member
    if field == "status":
        assert value is not None
        return (p.status == value.lower()) == (op == "equals")
    if field == "created_at":
        assert value is not None
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), time(), UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return p.created_at < moment if op == "before" else p.created_at > moment
    actual = getattr(p, field)
    negative = op.startswith("not_") or op == "is_false"
    if actual is None:
        return negative
    if op in ("is_true", "is_false"):
        return (actual is True) == (op == "is_true")
    assert value is not None
    positive = op.removeprefix("not_")
    kind = TYPES[field]
    if kind == "string":
        a, v = actual.casefold(), value.casefold()
        found = {
            "equals": a == v,
            "contains": v in a,
            "starts_with": a.startswith(v),
            "ends_with": a.endswith(v),
        }[positive]
    elif kind == "number":
        a, v = float(actual), float(value)
        found = {
            "equals": a == v,
            "greater_than": a > v,
            "greater_than_or_equal": a >= v,
            "less_than": a < v,
            "less_than_or_equal": a <= v,
        }[positive]
    else:
        day = date.fromisoformat(value)
        found = actual < day if op == "before" else actual > day
    return not found if negative else found


def matches(p: Person, groups_: list[list[Cond]], scope: str | None) -> bool:
    in_scope = scope is None or scope in p.lists
    return in_scope and all(any(holds(p, c) for c in group) for group in groups_)


@st.composite
def people(draw: st.DrawFn) -> list[Person]:
    local = st.text(alphabet=LETTERS.replace(" ", ""), min_size=1, max_size=6)
    domain = st.sampled_from(["example.com", "Example.ORG", "EXAMPLE.net"])
    emails = draw(
        st.lists(st.builds("{}@{}".format, local, domain), max_size=10, unique_by=str.casefold)
    )
    return [
        Person(
            email=email,
            status=draw(st.sampled_from(STATUSES)),
            created_at=draw(MOMENTS),
            city=draw(st.none() | TEXT),
            note=draw(st.none() | TEXT),
            age=draw(st.none() | NUMBERS),
            vip=draw(st.none() | st.booleans()),
            birthday=draw(st.none() | DATES),
            lists=draw(st.frozensets(st.sampled_from(LISTS))),
            topics=draw(st.frozensets(st.sampled_from(TOPICS))),
        )
        for email in emails
    ]


def _text_value(draw: st.DrawFn, field: str, crowd: list[Person]) -> str:
    known = [v for p in crowd if (v := getattr(p, field)) is not None]
    if known and draw(st.booleans()):
        value = draw(st.sampled_from(known))
        start = draw(st.integers(0, len(value)))
        end = draw(st.integers(start, len(value)))
        change = draw(st.sampled_from([str, str.upper, str.lower, str.swapcase]))
        return change(value[start:end])
    return draw(TEXT)


def _moment_value(draw: st.DrawFn, crowd: list[Person]) -> str:
    moment = draw(st.sampled_from([p.created_at for p in crowd]) if crowd else MOMENTS)
    moment += draw(st.sampled_from([timedelta(0), timedelta(microseconds=1), -timedelta(days=1)]))
    if draw(st.booleans()):
        return moment.date().isoformat()
    zone = timezone(timedelta(minutes=draw(st.integers(-12 * 60, 14 * 60))))
    text = moment.astimezone(zone).isoformat()
    return text.replace("+00:00", "Z") if text.endswith("+00:00") else text


@st.composite
def conditions(draw: st.DrawFn, crowd: list[Person]) -> Cond:
    field = draw(st.sampled_from(list(TYPES)))
    kind = TYPES[field]
    op = draw(st.sampled_from(OPERATORS[kind]))
    if kind == "boolean":
        return field, op, None
    if kind == "string":
        value = _text_value(draw, field, crowd)
    elif kind == "number":
        known = [p.age for p in crowd if p.age is not None]
        value = str(draw(st.sampled_from(known) if known else NUMBERS))
    elif kind == "date":
        known = [p.birthday for p in crowd if p.birthday is not None]
        value = draw(st.sampled_from(known) if known else DATES).isoformat()
    elif kind == "moment":
        value = _moment_value(draw, crowd)
    elif kind == "status":
        value = draw(st.sampled_from(STATUSES).map(draw(st.sampled_from([str, str.upper]))))
    else:
        value = draw(st.sampled_from(LISTS if field == "lists" else TOPICS))
    return field, op, value


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Person], list[list[Cond]], str | None]:
    crowd = draw(people())
    groups_ = draw(
        st.lists(st.lists(conditions(crowd), min_size=1, max_size=3), min_size=1, max_size=3)
    )
    return crowd, groups_, draw(st.none() | st.sampled_from(LISTS))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(Path(tmp_path_factory.mktemp("generated")) / "lettr.db")
    migrate(store)
    with store.write() as session:
        for name, kind in (
            ("city", "string"),
            ("note", "string"),
            ("age", "number"),
            ("vip", "boolean"),
            ("birthday", "date"),
        ):
            create_property(session, name, kind, None)
        for name in LISTS:
            groups.create(session, groups.LISTS, name)
        for name in TOPICS:
            groups.create(session, groups.TOPICS, name)
    yield store
    store.close()


def _replace_contacts(session: Session, crowd: list[Person]) -> None:
    session.exec(delete(Contact))  # memberships and activity go with them
    for p in crowd:
        values = {
            "city": p.city,
            "note": p.note,
            "age": p.age,
            "vip": p.vip,
            "birthday": p.birthday,
        }
        assignments = [
            f"{k}={str(v).lower() if isinstance(v, bool) else v}"
            for k, v in values.items()
            if v is not None
        ]
        added = add_contacts(
            session,
            [p.email],
            lists=sorted(p.lists),
            topics=sorted(p.topics),
            assignments=assignments,
            status=p.status,
        ).contacts[0]
        added.created_at = p.created_at
        session.add(added)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_sql_agrees_with_python_on_generated_segments(store: Store, scenario) -> None:
    crowd, groups_, scope = scenario
    text = to_text(groups_)
    note(f"--where {text!r}" + (f" --list {scope!r}" if scope else ""))
    parsed = parse(text)
    assert [[(c.field, c.operator, c.value) for c in g] for g in parsed] == groups_
    with store.write() as session:
        _replace_contacts(session, crowd)
        session.flush()
        checked = Definition(where=text).conditions(session)
        scope_id = groups.find(session, groups.LISTS, scope).id if scope else None
        clause = audience_clause(session, checked, scope_id)
        found = set(session.exec(select(Contact.email).where(clause)))
        # What `segment show` prints reads back as the same conditions.
        shown = to_text(display_groups(session, checked))
        assert Definition(where=shown).conditions(session) == checked
    expected = {p.email for p in crowd if matches(p, groups_, scope)}
    share = "none" if not expected else "all" if len(expected) == len(crowd) else "some"
    event(f"members: {share}")
    assert found == expected
