"""`lettr audience health` (issue "Engagement"): subscribed contacts by last open or click,
checked against a plain-Python evaluation of 300 contacts with known engagement.

The engagement is written with sqlite3, as the tracking server would have written it (first
open and click times on outbox rows, and events); the expectation is computed here from the
same generated table, with nothing of lettr's code."""

from __future__ import annotations

import random
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analytics_helpers import stamp
from tests.sending_helpers import store_path

BUCKETS = ["7d", "30d", "90d", "180d", "older", "never"]
LIMITS = [(7, "7d"), (30, "30d"), (90, "90d"), (180, "180d")]
STATUSES = ["subscribed"] * 8 + ["unsubscribed", "bounced"]


@dataclass
class Person:
    email: str
    city: str
    status: str
    in_list: bool
    engaged: list[datetime] = field(default_factory=list)  # by a person: opens and clicks
    machine: list[datetime] = field(default_factory=list)  # machine opens only


def _bucket(person: Person, now: datetime) -> str:
    if not person.engaged:
        return "never"
    age = now - max(person.engaged)
    for days, key in LIMITS:
        if age <= timedelta(days=days):
            return key
    return "older"


def _expected(people: list[Person], now: datetime, keep: Any) -> dict[str, int]:
    counts = dict.fromkeys(BUCKETS, 0)
    for person in people:
        if person.status == "subscribed" and keep(person):
            counts[_bucket(person, now)] += 1
    return counts


def _ago(rng: random.Random, now: datetime) -> datetime:
    # whole days and a half, so that no time falls near a bucket's edge while the test runs
    return now - timedelta(days=rng.choice([0, 1, 6, 8, 29, 31, 89, 91, 179, 181, 400]) + 0.5)


def _build(lettr: Any, tmp_path: Path, home: Path, seed: int) -> list[Person]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    people = [
        Person(f"p{n}@example.org", rng.choice(["Oslo", "Lima"]), rng.choice(STATUSES),
               rng.random() < 0.5)
        for n in range(300)
    ]  # fmt: skip
    lettr("property", "create", "city")
    lettr("list", "create", "Half")
    everyone = tmp_path / "all.csv"
    everyone.write_text("email,city\n" + "".join(f"{p.email},{p.city}\n" for p in people))
    assert lettr("contact", "import", str(everyone)).exit_code == 0
    half = tmp_path / "half.csv"
    half.write_text("email\n" + "".join(f"{p.email}\n" for p in people if p.in_list))
    assert lettr("contact", "import", str(half), "--list", "Half").exit_code == 0
    assert lettr("segment", "create", "Oslo", "--where", "city equals oslo").exit_code == 0
    campaigns = [lettr("campaign", "create", f"C{n}", "--json").json()["id"] for n in range(3)]
    with sqlite3.connect(store_path(home)) as conn:
        ids = dict(conn.execute("SELECT email, id FROM contacts"))
        for person in people:
            conn.execute("UPDATE contacts SET status = ? WHERE email = ?",
                         (person.status, person.email))  # fmt: skip
            for campaign in rng.sample(campaigns, rng.randint(0, 3)):
                _row(conn, rng, now, campaign, ids[person.email], person)
    return people


def _row(conn: sqlite3.Connection, rng: random.Random, now: datetime, campaign: str,
         contact: str, person: Person) -> None:  # fmt: skip
    first_open = _ago(rng, now) if rng.random() < 0.4 else None
    first_click = _ago(rng, now) if rng.random() < 0.2 else None
    machine = _ago(rng, now) if rng.random() < 0.3 else None
    row = conn.execute(
        "INSERT INTO outbox (campaign_id, contact_id, email, merge_values, status, attempts,"
        " updated_at, accepted_at, first_open_at, first_click_at, first_machine_open_at)"
        " VALUES (?, ?, ?, '{}', 'sent', 1, ?, ?, ?, ?, ?)",
        (campaign, contact, person.email, stamp(now), stamp(now - timedelta(days=500)),
         *(None if t is None else stamp(t) for t in (first_open, first_click, machine))),
    ).lastrowid  # fmt: skip
    person.engaged += [t for t in (first_open, first_click) if t is not None]
    if machine is not None:
        person.machine.append(machine)
        _event(conn, campaign, row, contact, person.email, "open", machine, machine=True)
    if rng.random() < 0.3:  # a later open or click, still in the events
        later = _ago(rng, now)
        kind = rng.choice(["open", "click"])
        person.engaged.append(later)
        _event(conn, campaign, row, contact, person.email, kind, later, machine=False)


def _event(conn: sqlite3.Connection, campaign: str, row: Any, contact: str, email: str,
           kind: str, at: datetime, *, machine: bool) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO events (event_id, campaign_id, outbox_id, contact_id, email, event_type, at,"
        " machine) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (str(uuid.uuid4()), campaign, row, contact, email, kind, stamp(at), int(machine)),
    )


def _counts(body: dict[str, Any]) -> dict[str, int]:
    assert [b["bucket"] for b in body["buckets"]] == BUCKETS
    return {b["bucket"]: b["contacts"] for b in body["buckets"]}


@pytest.mark.parametrize("seed", [1, 2])
def test_health_matches_a_plain_python_evaluation(
    lettr, tmp_path: Path, isolated_home: Path, seed: int
) -> None:
    people = _build(lettr, tmp_path, isolated_home, seed)
    now = datetime.now(UTC)
    scopes: list[tuple[tuple[str, ...], Any]] = [
        ((), lambda p: True),
        (("--list", "Half"), lambda p: p.in_list),
        (("--segment", "Oslo"), lambda p: p.city == "Oslo"),
    ]
    for args, keep in scopes:
        result = lettr("audience", "health", *args, "--json")
        assert result.exit_code == 0, result.stderr
        body = result.json()
        expected = _expected(people, now, keep)
        assert _counts(body) == expected, args
        assert body["total"] == sum(expected.values())
        shares = [b["share"] for b in body["buckets"]]
        assert sum(shares) == pytest.approx(1.0)
    # a machine open alone never makes a contact engaged
    machine_only = [p for p in people if p.machine and not p.engaged and p.status == "subscribed"]
    assert machine_only
    assert _counts(lettr("audience", "health", "--json").json())["never"] >= len(machine_only)


def test_the_text_chart_fits_80_columns(lettr, tmp_path: Path, isolated_home: Path) -> None:
    people = _build(lettr, tmp_path, isolated_home, 3)
    result = lettr("audience", "health", "--list", "Half")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    expected = _expected(people, datetime.now(UTC), lambda p: p.in_list)
    assert f"{sum(expected.values())} subscribed (list Half)" in lines[0]
    labels = ["within 7 days", "8-30 days", "31-90 days", "91-180 days", "over 180 days", "never"]
    bars = lines[2:]
    assert len(bars) == 6
    for line, label, key in zip(bars, labels, BUCKETS, strict=True):
        assert line.startswith(label)
        assert line.split("|")[2].split()[0] == str(expected[key])
    widest = max(expected, key=lambda key: expected[key])
    assert bars[BUCKETS.index(widest)].split("|")[1].strip(" ") == "#" * len(bars[0].split("|")[1])


def test_an_empty_store_has_every_bucket_empty(lettr) -> None:
    body = lettr("audience", "health", "--json").json()
    assert body["total"] == 0
    assert _counts(body) == dict.fromkeys(BUCKETS, 0)
    assert all(b["share"] is None for b in body["buckets"])
    assert lettr("audience", "health").exit_code == 0


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--list", "Half", "--segment", "Oslo"), "validation_error"),
        (("--list", "Nope"), "not_found"),
        (("--segment", "Nope"), "not_found"),
    ],
)
def test_bad_scopes_are_refused_on_stderr_and_change_nothing(
    lettr, isolated_home: Path, args: tuple[str, ...], code: str
) -> None:
    lettr("list", "create", "Half")
    lettr("property", "create", "city")
    lettr("segment", "create", "Oslo", "--where", "city equals oslo")
    with sqlite3.connect(store_path(isolated_home)) as conn:
        before = list(conn.iterdump())
    result = lettr("audience", "health", *args, "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.error()["error_code"] == code
    with sqlite3.connect(store_path(isolated_home)) as conn:
        assert list(conn.iterdump()) == before
