"""Segments evaluated in SQL against 360 contacts whose values the test knows.

Every expected count is computed here, in plain Python, from the same table of people the store
was built from; nothing of lettr's segment code takes part in the expectation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from lettr_cli.audience import groups
from lettr_cli.audience.contacts import STATUSES, ContactFilter, add_contacts, list_contacts
from lettr_cli.audience.properties import create_property
from lettr_cli.audience.segments import resolve
from lettr_cli.audience.segments.service import Definition, create_segment, preview
from lettr_cli.store.engine import Store
from lettr_cli.store.migrations import migrate
from lettr_cli.store.tables import Contact
from tests.conftest import engine_location

CITIES = [
    "Paris", "paris", "PARIS", "Zürich", "ZÜRICH", "Straße", "STRASSE", "New York",
    "O'Neil", "100%_sure", "Ærø", "",
]  # fmt: skip
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Person:
    i: int
    email: str
    status: str
    created_at: datetime
    city: str | None
    age: int | float | None
    vip: bool | None
    birthday: date | None
    lists: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)


def person(i: int) -> Person:
    local = f"Zoë{i}" if i % 7 == 0 else f"user{i}"
    people = Person(
        i=i,
        email=f"{local}@Example.{('com', 'org', 'net')[i % 3]}",
        status=STATUSES[i % len(STATUSES)],
        created_at=START + timedelta(hours=i, microseconds=i),
        city=None if i % 13 == 12 else CITIES[i % len(CITIES)],
        age=None if i % 11 == 0 else (i / 4 if i % 10 == 3 else i % 90),
        vip=(True, False, None)[i % 3] if i % 5 else None,
        birthday=None if i % 9 == 0 else date(1950 + i % 60, 1 + i % 12, 1 + i % 28),
    )
    if i % 2 == 0:
        people.lists.add("Even")
    if i % 3 == 0:
        people.lists.add("Thirds")
    if i % 4 == 0:
        people.topics.add("News")
    if i % 5 == 1:
        people.topics.add("Offers")
    return people


PEOPLE = [person(i) for i in range(360)]


def build(session: Session) -> None:
    """The audience of PEOPLE, made through the services a user's commands call."""
    create_property(session, "city", "string", None)
    create_property(session, "age", "number", None)
    create_property(session, "vip", "boolean", None)
    create_property(session, "birthday", "date", None)
    create_property(session, "extra", "json", None)
    for name in ("Even", "Thirds", "Nobody"):
        groups.create(session, groups.LISTS, name)
    for name in ("News", "Offers"):
        groups.create(session, groups.TOPICS, name)
    for p in PEOPLE:
        values = {"city": p.city, "age": p.age, "vip": p.vip, "birthday": p.birthday}
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
        )
        added.contacts[0].created_at = p.created_at
        session.add(added.contacts[0])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    store = Store(engine_location(request, Path(tmp_path_factory.mktemp("segments")) / "lettr.db"))
    migrate(store)
    with store.write() as session:
        build(session)
    yield store
    store.close()


def fold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def cities(test: Callable[[str], bool]) -> Callable[[Person], bool]:
    return lambda p: p.city is not None and test(p.city.casefold())


def not_cities(test: Callable[[str], bool]) -> Callable[[Person], bool]:
    return lambda p: p.city is None or not test(p.city.casefold())


def ages(test: Callable[[float], bool]) -> Callable[[Person], bool]:
    return lambda p: p.age is not None and test(p.age)


def born(test: Callable[[date], bool]) -> Callable[[Person], bool]:
    return lambda p: p.birthday is not None and test(p.birthday)


MID_1980 = date(1980, 6, 15)
CASES: list[tuple[str, Callable[[Person], bool]]] = [
    # strings: case-insensitive by casefold, non-ASCII included
    ("city equals paris", cities(lambda c: c == "paris")),
    ("city equals 'ZÜRICH'", cities(lambda c: c == "zürich")),
    ("city equals straße", cities(lambda c: c == "strasse")),  # ß casefolds to ss
    ('city equals ""', cities(lambda c: c == "")),
    ("city not_equals Paris", not_cities(lambda c: c == "paris")),
    ("city contains ß", cities(lambda c: "ss" in c)),
    ("city contains %", cities(lambda c: "%" in c)),  # LIKE wildcards are escaped
    ("city contains _", cities(lambda c: "_" in c)),
    ("city not_contains ri", not_cities(lambda c: "ri" in c)),
    ("city starts_with ZÜ", cities(lambda c: c.startswith("zü"))),
    ("city not_starts_with pa", not_cities(lambda c: c.startswith("pa"))),
    ("city ends_with 'K'", cities(lambda c: c.endswith("k"))),
    ("city not_ends_with ICH", not_cities(lambda c: c.endswith("ich"))),
    ('city starts_with "o\'n"', cities(lambda c: c.startswith("o'n"))),
    ("city contains 'æ'", cities(lambda c: "æ" in c)),
    ("email equals USER5@EXAMPLE.NET", lambda p: p.email.casefold() == "user5@example.net"),
    ("email not_equals user5@example.net", lambda p: p.email.casefold() != "user5@example.net"),
    ("email contains ZOË", lambda p: "zoë" in p.email.casefold()),
    ("email not_contains zoë", lambda p: "zoë" not in p.email.casefold()),
    ("email starts_with user1", lambda p: p.email.casefold().startswith("user1")),
    ("email not_starts_with user1", lambda p: not p.email.casefold().startswith("user1")),
    ("email ends_with .ORG", lambda p: p.email.casefold().endswith(".org")),
    ("email not_ends_with .org", lambda p: not p.email.casefold().endswith(".org")),
    # status
    ("status equals Subscribed", lambda p: p.status == "subscribed"),
    ("status not_equals bounced", lambda p: p.status != "bounced"),
    # numbers: a missing value matches only not_equals
    ("age equals 30", ages(lambda a: a == 30)),
    ("age equals 3.25", ages(lambda a: a == 3.25)),
    ("age not_equals 30", lambda p: p.age is None or p.age != 30),
    ("age greater_than 30", ages(lambda a: a > 30)),
    ("age greater_than_or_equal 30", ages(lambda a: a >= 30)),
    ("age less_than 30.5", ages(lambda a: a < 30.5)),
    ("age less_than_or_equal 30", ages(lambda a: a <= 30)),
    ("properties.age greater_than -1e1", ages(lambda a: a > -10)),
    # booleans: is_false is "not known to be true"
    ("vip is_true", lambda p: p.vip is True),
    ("vip is_false", lambda p: p.vip is not True),
    # dates: strict, a date alone is midnight UTC
    ("birthday before 1980-06-15", born(lambda d: d < MID_1980)),
    ("birthday after 1980-06-15", born(lambda d: d > MID_1980)),
    ("created_at before 2026-01-05", lambda p: p.created_at < datetime(2026, 1, 5, tzinfo=UTC)),
    ("created_at after 2026-01-05", lambda p: p.created_at > datetime(2026, 1, 5, tzinfo=UTC)),
    (
        "created_at after 2026-01-03T12:00:00.000012+02:00",
        lambda p: p.created_at > datetime(2026, 1, 3, 10, 0, 0, 12, tzinfo=UTC),
    ),
    (
        "created_at before 2026-01-03T10:00:00.000012Z",
        lambda p: p.created_at < datetime(2026, 1, 3, 10, 0, 0, 12, tzinfo=UTC),
    ),
    # lists and topics: equals is "is a member"
    ("lists equals Even", lambda p: "Even" in p.lists),
    ("lists not_equals Even", lambda p: "Even" not in p.lists),
    ("lists equals Nobody", lambda p: False),
    ("topics equals News", lambda p: "News" in p.topics),
    ("topics not_equals Offers", lambda p: "Offers" not in p.topics),
    # OR inside a group, AND across groups
    (
        "(city equals paris or age greater_than 80)",
        lambda p: fold(p.city) == "paris" or (p.age is not None and p.age > 80),
    ),
    (
        "city equals paris or age greater_than 80 or vip is_true",
        lambda p: fold(p.city) == "paris" or (p.age is not None and p.age > 80) or p.vip is True,
    ),
    (
        "(city equals paris or city starts_with z) and vip is_true and "
        "(lists equals Thirds or topics equals News)",
        lambda p: (
            fold(p.city) in {"paris", "zürich"}
            and p.vip is True
            and ("Thirds" in p.lists or "News" in p.topics)
        ),
    ),
    (
        "lists equals Even AND lists equals Thirds AND status equals subscribed",
        lambda p: {"Even", "Thirds"} <= p.lists and p.status == "subscribed",
    ),
]


def expected_emails(test: Callable[[Person], bool]) -> list[str]:
    return [p.email for p in PEOPLE if test(p)]


@pytest.mark.parametrize(("where", "test"), CASES, ids=[c[0] for c in CASES])
def test_every_operator_counts_what_python_counts(store: Store, where: str, test) -> None:
    expected = expected_emails(test)
    with store.read() as session:
        found = preview(session, Definition(where=where))
    assert found["count"] == len(expected)
    assert found["sample"] == expected[:10]  # oldest first


def test_the_cases_cover_every_operator() -> None:
    from lettr_cli.audience.segments.model import OPERATORS

    used = {where.split()[1].lower() for where, _ in CASES}
    engagement = {
        "is",
        "is_not",
        "within",
        "not_within",
    }  # tests/test_segment_engagement.py covers these
    assert used >= set(OPERATORS) - engagement


@pytest.mark.parametrize("scope", ["Even", "Thirds"])
def test_a_list_scope_restricts_the_segment(store: Store, scope: str) -> None:
    where = "(city equals paris or vip is_true) and topics not_equals News"
    expected = [
        p.email
        for p in PEOPLE
        if scope in p.lists
        and (fold(p.city) == "paris" or p.vip is True)
        and "News" not in p.topics
    ]
    with store.read() as session:
        found = preview(session, Definition(where=where), list_name=scope)
    assert found["count"] == len(expected)
    assert found["sample"] == expected[:10]


def test_contact_list_by_segment_uses_the_same_members(store: Store) -> None:
    where = "(age less_than 20 or city contains ü) and status not_equals unsubscribed"
    with store.write() as session:
        create_segment(session, "young or swiss", Definition(where=where), list_name="Even")
    expected = [
        p.email
        for p in PEOPLE
        if "Even" in p.lists
        and ((p.age is not None and p.age < 20) or "ü" in (fold(p.city) or ""))
        and p.status != "unsubscribed"
    ]
    with store.read() as session:
        contacts, total = list_contacts(session, ContactFilter(segment="young or swiss"), None)
        clause = resolve.segment_clause(session, resolve.find_segment(session, "young or swiss"))
        count = resolve.count(session, clause)
    assert [c.email for c in contacts] == expected
    assert total == count == len(expected)


def test_a_json_document_with_ids_counts_like_the_text_with_names(store: Store) -> None:
    with store.read() as session:
        even = groups.find(session, groups.LISTS, "Even").id
        news = groups.find(session, groups.TOPICS, "News").id
        text = preview(session, Definition(where="lists equals Even and topics equals News"))
        document = json.dumps(
            {
                "groups": [
                    {"conditions": [{"field": "lists", "operator": "equals", "value": even}]},
                    {"conditions": [{"field": "topics", "operator": "equals", "value": news}]},
                ]
            }
        )
        by_id = preview(session, Definition(document=document))
    assert by_id == text
    assert text["count"] == sum(1 for p in PEOPLE if "Even" in p.lists and "News" in p.topics)


def test_the_clause_renders_for_postgresql_without_sqlite_functions(store: Store) -> None:
    where = (
        "(city contains ü or email ends_with .org) and age greater_than 3 and vip is_false "
        "and birthday before 2000-01-01 and created_at after 2026-01-02 "
        "and (lists equals Even or topics not_equals News) and status equals subscribed"
    )
    with store.read() as session:
        checked = Definition(where=where).conditions(session)
        even = groups.find(session, groups.LISTS, "Even").id
        clause = resolve.audience_clause(session, checked, even)
    sql = str(select(col(Contact.id)).where(clause).compile(dialect=postgresql.dialect()))
    assert "json_extract" not in sql.lower()
    assert "->>" in sql and "LIKE" in sql
