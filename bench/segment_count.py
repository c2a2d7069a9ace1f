"""Time three-group segment counts over many contacts, through the real resolution function.

    python bench/segment_count.py [--contacts 100000] [--outbox 1000000] [--runs 7] [--db PATH]

Two segments are counted: one on properties, lists and topics, and one on engagement (opened,
clicked, received, opened_any within, last_open), which reads the outbox: ``--outbox`` rows
spread over 20 sent campaigns, with known shares of opens, machine-only opens and clicks.

The contacts are bulk-inserted with SQLAlchemy Core (fixture data, not what `contact import`
does); the segment is created and counted through lettr's services, exactly as `segment show`
and `segment preview` count it. Prints the median and the spread of the runs. Not run by CI.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import col, select

from lettr_cli.audience import groups
from lettr_cli.audience.properties import create_property
from lettr_cli.audience.segments import resolve
from lettr_cli.audience.segments.service import Definition, create_segment
from lettr_cli.store.engine import Store
from lettr_cli.store.migrations import migrate
from lettr_cli.store.tables import Campaign, Contact, ListMember, OutboxRow, TopicMember
from lettr_cli.store.types import new_id

CITIES = ["Paris", "Berlin", "Zürich", "München", "Lyon", "Straße", "New York", "Oslo"]
STATUSES = ["subscribed"] * 8 + ["unsubscribed", "bounced"]
WHERE = (
    "(city equals paris or city starts_with zü or age greater_than 60) "
    "and (lists equals Customers or topics equals News) "
    "and (vip is_true or status not_equals subscribed)"
)
ENGAGED = (
    '(opened "Campaign 3" or clicked "Campaign 5") '
    "and (opened_any within 90d or last_open after 2026-06-01) "
    'and not received "Campaign 7"'
)
CAMPAIGNS = 20
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def build(store: Store, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with store.write() as session:
        for name, kind in (("city", "string"), ("age", "number"), ("vip", "boolean")):
            create_property(session, name, kind, None)
        customers = groups.create(session, groups.LISTS, "Customers").id
        news = groups.create(session, groups.TOPICS, "News").id
        for first in range(0, count, 10_000):
            contacts, lists, topics = [], [], []
            for i in range(first, min(first + 10_000, count)):
                city = rng.choice(CITIES)
                properties = {"city": city, "age": rng.randint(18, 90), "vip": rng.random() < 0.2}
                contact_id = new_id()
                created = start + timedelta(seconds=i * 37)
                contacts.append(
                    {
                        "id": contact_id,
                        "email": f"person{i}@example.com",
                        "email_key": f"person{i}@example.com",
                        "status": rng.choice(STATUSES),
                        "properties": properties,
                        "properties_folded": {"city": city.casefold()},
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                if rng.random() < 0.4:
                    lists.append(
                        {"list_id": customers, "contact_id": contact_id, "added_at": created}
                    )
                if rng.random() < 0.3:
                    topics.append({"topic_id": news, "contact_id": contact_id, "added_at": created})
            session.execute(insert(Contact), contacts)
            if lists:
                session.execute(insert(ListMember), lists)
            if topics:
                session.execute(insert(TopicMember), topics)
        create_segment(session, "three groups", Definition(where=WHERE))


def build_outbox(store: Store, rows: int, seed: int = 11) -> None:
    """``rows`` outbox rows over CAMPAIGNS sent campaigns, each to a random share of contacts."""
    rng = random.Random(seed)
    with store.write() as session:
        contacts = list(session.exec(select(col(Contact.id))))
        campaigns = [Campaign(name=f"Campaign {n}", status="sent") for n in range(CAMPAIGNS)]
        session.add_all(campaigns)
        session.flush()
        per_campaign = min(len(contacts), rows // CAMPAIGNS)
        for n, campaign in enumerate(campaigns):
            sent = NOW - timedelta(days=15 * (CAMPAIGNS - n))
            chosen = rng.sample(contacts, per_campaign)
            for first in range(0, per_campaign, 20_000):
                batch = []
                for contact_id in chosen[first : first + 20_000]:
                    row: dict[str, object] = {
                        "campaign_id": campaign.id,
                        "contact_id": contact_id,
                        "email": "x@example.com",
                        "merge_values": {},
                        "status": "sent" if rng.random() < 0.95 else "bounced",
                        "attempts": 1,
                        "updated_at": sent,
                        "first_open_at": None,
                        "first_machine_open_at": None,
                        "first_click_at": None,
                    }
                    roll = rng.random()
                    if row["status"] == "sent" and roll < 0.35:
                        row["first_open_at"] = sent + timedelta(hours=rng.randint(1, 200))
                        if roll < 0.08:
                            row["first_click_at"] = sent + timedelta(hours=rng.randint(1, 300))
                    elif row["status"] == "sent" and roll < 0.5:
                        row["first_machine_open_at"] = sent + timedelta(seconds=2)
                    batch.append(row)
                session.execute(insert(OutboxRow), batch)
        create_segment(session, "engaged", Definition(where=ENGAGED))


def measure(store: Store, runs: int, name: str = "three groups") -> tuple[int, list[float]]:
    timings: list[float] = []
    members = 0
    for _ in range(runs):
        with store.read() as session:
            began = time.perf_counter()
            segment = resolve.find_segment(session, name)
            members = resolve.count(session, resolve.segment_clause(session, segment))
            timings.append(time.perf_counter() - began)
    return members, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--outbox", type=int, default=1_000_000, help="0: no engagement segment")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", type=Path, help="build the store here (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(args.db or Path(folder) / "bench.db")
        try:
            migrate(store)
            began = time.perf_counter()
            build(store, args.contacts)
            print(f"built {args.contacts:,} contacts in {time.perf_counter() - began:.1f} s")
            results = [(WHERE, *measure(store, args.runs))]
            if args.outbox:
                began = time.perf_counter()
                build_outbox(store, args.outbox)
                print(f"built {args.outbox:,} outbox rows in {time.perf_counter() - began:.1f} s")
                results.append((ENGAGED, *measure(store, args.runs, "engaged")))
        finally:
            store.close()
    for where, members, timings in results:
        print(f"segment: {where}")
        print(f"members: {members:,} of {args.contacts:,}")
        print(
            f"count over {args.runs} runs: median {statistics.median(timings) * 1000:.0f} ms "
            f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f})"
        )


if __name__ == "__main__":
    main()
