"""Engagement segments (opened, clicked, received, opened_any, clicked_any, last_open) against
300 contacts whose opens, machine opens, clicks and deliveries the test knows.

The outbox rows are written as fixture data (like bench/segment_count.py); the expectation is
a plain-Python reading of the rules in the README's "Engagement" section, not lettr's code.
Real sends and real opens through the tracking app are in tests/test_campaign_resend.py.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlmodel import Session

from lettr_cli.audience.contacts import add_contacts
from lettr_cli.audience.segments.checks import display_groups
from lettr_cli.audience.segments.model import groups_json
from lettr_cli.audience.segments.parser import parse, to_text
from lettr_cli.audience.segments.service import Definition, preview
from lettr_cli.store.engine import Store
from lettr_cli.store.migrations import migrate
from lettr_cli.store.tables import Campaign, OutboxRow

# Names the text form must quote: spaces, a quote, an operator, the word 'not'.
CAMPAIGNS = ["Spring sale", 'Autumn "news"', "equals", "not"]
DURATIONS = [7, 30, 90, 365]
DATES = ["2025-06-01", "2026-01-01", "2026-06-01", "2026-11-01T12:00:00+00:00"]
NOW = datetime.now(UTC)


@dataclass
class Row:
    delivered: bool
    opened_at: datetime | None  # a person's first open
    machine_at: datetime | None  # a machine's first open: never counts
    clicked_at: datetime | None


@dataclass
class Person:
    email: str
    rows: dict[int, Row] = field(default_factory=dict)  # campaign index -> its outbox row


def ago(rng: random.Random) -> datetime:
    # half-day offsets: no moment sits on a day boundary of `within Nd`, whenever the test runs
    return NOW - timedelta(days=rng.randrange(0, 500) + 0.5, seconds=rng.randrange(3600))


def make_people(count: int = 300, seed: int = 20) -> list[Person]:
    rng = random.Random(seed)
    people = []
    for i in range(count):
        person = Person(f"user{i}@example.com")
        for k in range(len(CAMPAIGNS)):
            if rng.random() < 0.3:
                continue  # not sent this campaign
            delivered = rng.random() < 0.85
            roll = rng.random()
            opened = ago(rng) if delivered and roll < 0.4 else None
            machine = ago(rng) if delivered and 0.3 < roll < 0.7 else None
            clicked = ago(rng) if delivered and (roll < 0.15 or roll > 0.9) else None
            person.rows[k] = Row(delivered, opened, machine, clicked)
        people.append(person)
    return people


PEOPLE = make_people()


def build(session: Session) -> list[str]:
    campaigns = [Campaign(name=name, status="sent") for name in CAMPAIGNS]
    session.add_all(campaigns)
    rows = []
    for person in PEOPLE:
        contact = add_contacts(session, [person.email]).contacts[0]
        for k, row in person.rows.items():
            rows.append(
                {
                    "campaign_id": campaigns[k].id,
                    "contact_id": contact.id,
                    "email": person.email,
                    "merge_values": {},
                    "status": "sent" if row.delivered else "bounced",
                    "attempts": 1,
                    "updated_at": NOW,
                    "first_open_at": row.opened_at,
                    "first_machine_open_at": row.machine_at,
                    "first_click_at": row.clicked_at,
                }
            )
    session.flush()
    session.execute(insert(OutboxRow), rows)
    return [c.id for c in campaigns]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(Path(tmp_path_factory.mktemp("engagement")) / "lettr.db")
    migrate(store)
    with store.write() as session:
        build(session)
    yield store
    store.close()


# ---- the rules, in plain Python ---------------------------------------------------------------


def moments(person: Person) -> list[datetime]:
    """Every moment the person is known to have opened: a person's open, or a click."""
    return [m for row in person.rows.values() for m in (row.opened_at, row.clicked_at) if m]


def moment(text: str) -> datetime:
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.fromisoformat(text)


def holds(person: Person, condition: tuple[str, str, str]) -> bool:
    name, operator, value = condition
    if name in ("opened", "clicked", "received"):
        row = person.rows.get(int(value))
        if row is None:
            met = False
        elif name == "opened":
            met = row.opened_at is not None or row.clicked_at is not None
        elif name == "clicked":
            met = row.clicked_at is not None
        else:
            met = row.delivered
        return not met if operator == "is_not" else met
    if name == "last_open":
        times = moments(person)
        if not times:
            return False
        last = max(times)
        return last < moment(value) if operator == "before" else last > moment(value)
    since = NOW - timedelta(days=int(value))
    if name == "clicked_any":
        recent = any(r.clicked_at and r.clicked_at >= since for r in person.rows.values())
    else:
        recent = any(m >= since for m in moments(person))
    return not recent if operator == "not_within" else recent


def expected(groups: list[list[tuple[str, str, str]]]) -> list[str]:
    return [p.email for p in PEOPLE if all(any(holds(p, c) for c in group) for group in groups)]


# ---- generated segments -----------------------------------------------------------------------

conditions = st.one_of(
    st.tuples(
        st.sampled_from(["opened", "clicked", "received"]),
        st.sampled_from(["is", "is_not"]),
        st.sampled_from([str(k) for k in range(len(CAMPAIGNS))]),
    ),
    st.tuples(
        st.sampled_from(["opened_any", "clicked_any"]),
        st.sampled_from(["within", "not_within"]),
        st.sampled_from([str(d) for d in DURATIONS]),
    ),
    st.tuples(st.just("last_open"), st.sampled_from(["before", "after"]), st.sampled_from(DATES)),
)
segments = st.lists(st.lists(conditions, min_size=1, max_size=3), min_size=1, max_size=3)


def written(group: list[list[tuple[str, str, str]]]) -> str:
    """The text an operator would write: campaigns by name, durations as Nd."""

    def shown(c: tuple[str, str, str]) -> tuple[str, str, str]:
        name, operator, value = c
        if operator in ("is", "is_not"):
            return name, operator, CAMPAIGNS[int(value)]
        return name, operator, f"{value}d" if "within" in operator else value

    return to_text([[shown(c) for c in g] for g in group])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups=segments)
def test_engagement_counts_what_python_counts(store: Store, groups) -> None:
    text = written(groups)
    note(text)
    want = expected(groups)
    with store.read() as session:
        found = preview(session, Definition(where=text))
        checked = Definition(where=text).conditions(session)
        document = json.dumps({"groups": groups_json(checked)})
        by_json = preview(session, Definition(document=document))
        again = to_text(display_groups(session, checked))
        reread = Definition(where=again).conditions(session)
    assert found["count"] == len(want)
    assert found["sample"] == want[:10]
    assert by_json == found
    assert again == text  # text -> JSON -> text, campaigns shown by their names
    assert reread == checked


def test_the_people_cover_every_case() -> None:
    rows = [r for p in PEOPLE for r in p.rows.values()]
    assert any(r.machine_at and not r.opened_at and not r.clicked_at for r in rows)
    assert any(r.clicked_at and not r.opened_at for r in rows)
    assert any(not r.delivered for r in rows)
    assert any(not moments(p) for p in PEOPLE)
    assert any(len(p.rows) < len(CAMPAIGNS) for p in PEOPLE)


def test_machine_only_openers_do_not_count_as_openers(store: Store) -> None:
    machine_only = [
        p.email
        for p in PEOPLE
        if (r := p.rows.get(0)) and r.machine_at and not r.opened_at and not r.clicked_at
    ]
    assert machine_only
    with store.read() as session:
        openers = preview(session, Definition(where='opened "Spring sale"'))
        others = preview(session, Definition(where='not opened "Spring sale"'))
    assert openers["count"] + others["count"] == len(PEOPLE)
    assert openers["count"] == len(expected([[("opened", "is", "0")]]))


def test_parse_reads_the_not_form_and_the_json_form() -> None:
    negated = parse('not opened "Spring sale" and (clicked abc123 or received "x")')
    assert [[(c.field, c.operator, c.value) for c in g] for g in negated] == [
        [("opened", "is_not", "Spring sale")],
        [("clicked", "is", "abc123"), ("received", "is", "x")],
    ]
    explicit = parse(
        "opened is_not abc123 and opened_any within 90d and last_open after 2026-01-01 "
        "and not clicked_any within 12w"
    )
    assert [(g[0].field, g[0].operator, g[0].value) for g in explicit] == [
        ("opened", "is_not", "abc123"),
        ("opened_any", "within", "90d"),
        ("last_open", "after", "2026-01-01"),
        ("clicked_any", "not_within", "12w"),
    ]


def test_the_engagement_clause_renders_for_postgresql(store: Store) -> None:
    from sqlalchemy.dialects import postgresql
    from sqlmodel import col, select

    from lettr_cli.audience.segments.resolve import audience_clause
    from lettr_cli.store.tables import Contact

    where = (
        '(opened "Spring sale" or not clicked "equals") and not received "not" '
        "and not opened_any within 90d and last_open before 2026-01-01"
    )
    with store.read() as session:
        clause = audience_clause(session, Definition(where=where).conditions(session), None)
    sql = str(select(col(Contact.id)).where(clause).compile(dialect=postgresql.dialect()))
    assert sql.count("EXISTS") == 6  # last_open before: opened once, and not since
    assert "json_extract" not in sql.lower()
