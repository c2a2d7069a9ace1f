"""Who a campaign would go to, asked before it is saved (issue 14, item 3): ``estimate_for``,
the subscribed counts per list and per segment, and the first recipient in prepare order.

Each service runs on a real SQLite store built with the ``lettr`` CLI; a real send through an
aiosmtpd relay on loopback shows that the estimate is what preparing queues, and that the first
recipient is the one queued first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from lettr_cli.audience.counts import subscribed_per_list, subscribed_per_segment
from lettr_cli.audience.groups import LISTS, find
from lettr_cli.audience.segments.resolve import find_segment
from lettr_cli.campaigns.audience import estimate, estimate_for, first_recipient
from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.errors import NotFound
from lettr_cli.store.tables import Contact, OutboxRow
from lettr_cli.workspace import Workspace
from tests.sending_helpers import new_campaign


@pytest.fixture
def store(isolated_home: Path) -> Iterator[Workspace]:
    ws = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    yield ws
    ws.close()


@pytest.fixture
def audience(lettr: Any) -> None:
    """VIP: a, b, c, g; Press: c, f (bounced); Empty: nobody. Oslo (city = oslo): d, e
    (unsubscribed), g; Oslo VIP (within VIP): g. Subscribed: a, b, c, d, g."""
    lettr("property", "create", "city")
    for name in ("VIP", "Press", "Empty"):
        lettr("list", "create", name)
    lettr("contact", "add", "a@example.com", "b@example.com", "--list", "VIP")
    lettr("contact", "add", "c@example.com", "--list", "VIP", "--list", "Press")
    lettr("contact", "add", "d@example.com", "--prop", "city=Oslo")
    lettr("contact", "add", "e@example.com", "--prop", "city=Oslo", "--status", "unsubscribed")
    lettr("contact", "add", "f@example.com", "--list", "Press", "--status", "bounced")
    lettr("contact", "add", "g@example.com", "--list", "VIP", "--prop", "city=oslo")
    assert lettr("segment", "create", "Oslo", "--where", "city equals oslo").exit_code == 0
    scoped = lettr("segment", "create", "Oslo VIP", "--list", "VIP", "--where", "city equals oslo")
    assert scoped.exit_code == 0


def ids(session: Session, lists: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, Any]:
    return {
        "list_ids": [find(session, LISTS, name).id for name in lists],
        "segment_ids": [find_segment(session, name).id for name in segments],
    }


AUDIENCES = [
    # (--all, lists, segments, subscribed de-duplicated recipients)
    (True, (), (), 5),  # a b c d g
    (False, ("VIP", "Press"), (), 4),  # a b c g: c once, f bounced
    (False, ("Press",), ("Oslo",), 3),  # c d g: e unsubscribed
    (False, ("VIP",), ("Oslo",), 5),  # a b c g d: g once
    (False, (), ("Oslo VIP",), 1),  # g
    (False, ("Empty",), (), 0),
]


def test_estimate_for_is_estimate_of_the_saved_campaign(
    lettr, audience: None, store: Workspace
) -> None:
    for n, (everyone, lists, segments, expected) in enumerate(AUDIENCES):
        name = f"C{n}"
        lettr("campaign", "create", name)
        args = ["--all"] if everyone else []
        args += [a for list_name in lists for a in ("--list", list_name)]
        args += [a for segment in segments for a in ("--segment", segment)]
        chosen = lettr("campaign", "audience", name, *args, "--json")
        assert chosen.json()["estimated_recipients"] == expected, (lists, segments)
        with store.store.read() as session:
            chosen_ids = ids(session, lists, segments)
            before_saving = estimate_for(session, everyone=everyone, **chosen_ids)
            saved = find_campaign(session, name)
            assert before_saving == estimate(session, saved) == expected, (lists, segments)
            assert saved.audience == {"all": everyone, "lists": chosen_ids["list_ids"],
                                      "segments": chosen_ids["segment_ids"]}  # fmt: skip


def test_nothing_chosen_and_unknown_ids_reach_nobody(audience: None, store: Workspace) -> None:
    with store.store.read() as session:
        assert estimate_for(session, everyone=False, list_ids=[], segment_ids=[]) == 0
        assert estimate_for(session, everyone=False, list_ids=["nope"], segment_ids=["no"]) == 0
        press = ids(session, ("Press",), ())["list_ids"]
        assert estimate_for(session, everyone=False, list_ids=press, segment_ids=["gone"]) == 1


def test_subscribed_counts_per_list_and_segment(lettr, audience: None, store: Workspace) -> None:
    with store.store.read() as session:
        lists = {name: find(session, LISTS, name).id for name in ("VIP", "Press", "Empty")}
        segments = {name: find_segment(session, name).id for name in ("Oslo", "Oslo VIP")}
        per_list = subscribed_per_list(session)
        per_segment = subscribed_per_segment(session)
        assert per_list == {lists["VIP"]: 4, lists["Press"]: 1, lists["Empty"]: 0}
        assert per_segment == {segments["Oslo"]: 2, segments["Oslo VIP"]: 1}
        # each is what a campaign to that list or segment alone would go to
        for list_id, n in per_list.items():
            assert estimate_for(session, everyone=False, list_ids=[list_id], segment_ids=[]) == n
        for segment_id, n in per_segment.items():
            alone = estimate_for(session, everyone=False, list_ids=[], segment_ids=[segment_id])
            assert alone == n
        chosen = [lists["Press"], lists["Press"], lists["Empty"]]
        assert subscribed_per_list(session, chosen) == {lists["Press"]: 1, lists["Empty"]: 0}
        assert subscribed_per_segment(session, [segments["Oslo"]]) == {segments["Oslo"]: 2}
        with pytest.raises(NotFound, match="no list with the id 'nope'") as missing:
            subscribed_per_list(session, [lists["VIP"], "nope"])
        assert missing.value.code == "not_found"
        with pytest.raises(NotFound, match="no segment with the id 'nope'"):
            subscribed_per_segment(session, ["nope"])
    # the older counts keep their meaning: every status
    shown = {g["name"]: g["contacts_count"] for g in lettr("list", "list", "--json").json()}
    assert shown == {"VIP": 4, "Press": 2, "Empty": 0}
    assert lettr("segment", "show", "Oslo", "--json").json()["contacts_count"] == 3
    assert lettr("segment", "preview", "--where", "city equals oslo", "--json").json()["count"] == 3


def set_created(ws: Workspace, moments: dict[str, datetime]) -> None:
    """Back-date contacts (by address), so that the prepare order is known."""
    with ws.store.write() as session:
        for address, at in moments.items():
            contact = session.exec(select(Contact).where(Contact.email == address)).one()
            contact.created_at = at
            session.add(contact)


def test_first_recipient_is_the_oldest_subscribed_then_the_smallest_id(
    lettr, audience: None, store: Workspace
) -> None:
    lettr("campaign", "create", "C")
    lettr("campaign", "audience", "C", "--list", "Press", "--segment", "Oslo")
    early = datetime(2020, 1, 1, tzinfo=UTC)
    # f (bounced) and e (unsubscribed) are the oldest, but only subscribed contacts are queued
    set_created(store, {"f@example.com": early, "e@example.com": early})
    with store.store.read() as session:
        first = first_recipient(session, find_campaign(session, "C"))
        assert first is not None and first.email == "c@example.com"  # c, d, g: c was added first
    tied = datetime(2021, 1, 1, tzinfo=UTC)
    set_created(store, {"d@example.com": tied, "g@example.com": tied})
    with store.store.read() as session:
        contacts = {c.email: c.id for c in session.exec(select(Contact))}
        first = first_recipient(session, find_campaign(session, "C"))
        assert first is not None
        assert first.id == min(contacts["d@example.com"], contacts["g@example.com"])
    lettr("campaign", "audience", "C", "--list", "Empty")
    with store.store.read() as session:
        assert first_recipient(session, find_campaign(session, "C")) is None


def test_estimate_and_first_recipient_match_a_real_send(
    lettr, smtp_server, verified_domain, tmp_path: Path, isolated_home: Path, store: Workspace
) -> None:
    verified_domain()
    lettr("property", "create", "first_name", "--fallback", "there")
    lettr("property", "create", "city")
    lettr("list", "create", "Customers")
    lettr("contact", "add", *(f"r{n}@example.org" for n in range(6)), "--list", "Customers")
    lettr("contact", "add", "gone@example.org", "--list", "Customers", "--status", "unsubscribed")
    lettr("contact", "add", "osl@example.org", "--prop", "city=Oslo")
    assert lettr("contact", "edit", "r2@example.org", "--prop", "city=Oslo").exit_code == 0
    lettr("contact", "add", "away@example.org", "--prop", "city=Oslo", "--status", "complained")
    lettr("segment", "create", "Oslo", "--where", "city equals oslo")
    campaign = new_campaign(lettr, tmp_path, "Sale", "Customers")
    lettr("campaign", "audience", "Sale", "--list", "Customers", "--segment", "Oslo")
    # two contacts share the earliest moment: the smaller id goes first
    tied = datetime(2020, 1, 1, tzinfo=UTC)
    set_created(store, {"r4@example.org": tied, "osl@example.org": tied})
    with store.store.read() as session:
        chosen = ids(session, ("Customers",), ("Oslo",))
        expected = estimate_for(session, everyone=False, **chosen)
        first = first_recipient(session, find_campaign(session, campaign))
        assert first is not None
        first_id = first.id
    assert expected == 7  # r0..r5 and osl (r2 once; gone and away opted out)
    sent = lettr("campaign", "send", campaign, "--yes", "--json")
    assert sent.exit_code == 0, sent.stderr
    assert sent.json()["total_recipients"] == expected
    assert len(smtp_server.arrived()) == expected
    with store.store.read() as session:
        queued = session.exec(
            select(OutboxRow).where(OutboxRow.campaign_id == campaign).order_by(OutboxRow.id)
        ).all()
    assert len(queued) == expected
    assert queued[0].contact_id == first_id
