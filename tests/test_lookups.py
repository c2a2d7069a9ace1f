"""Lookups by exact id and pages of every listing (issue 14, item 3): the services the HTTP API
and the wizard name rows and page through listings with, on a real SQLite store built with the
``lettr`` CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from lettr_cli.audience.contacts import ContactFilter, find_contact
from lettr_cli.audience.groups import LISTS, TOPICS, find
from lettr_cli.audience.lookups import (
    contact_by_id,
    contacts_page,
    list_by_id,
    lists_page,
    properties_page,
    property_by_id,
    segment_by_id,
    segments_page,
    topic_by_id,
    topics_page,
)
from lettr_cli.audience.properties import get_property
from lettr_cli.audience.segments.resolve import find_segment
from lettr_cli.campaigns.campaigns import find_campaign
from lettr_cli.campaigns.lookups import (
    campaign_by_id,
    campaigns_page,
    template_by_id,
    templates_page,
)
from lettr_cli.campaigns.templates import find_template
from lettr_cli.errors import NotFound, ValidationError
from lettr_cli.store.paging import Page
from lettr_cli.store.tables import Campaign
from lettr_cli.workspace import Workspace
from tests.test_campaigns import html_file

NAMES = ("Echo", "alpha", "Delta", "bravo", "Charlie")


@pytest.fixture
def store(isolated_home: Path) -> Iterator[Workspace]:
    ws = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    yield ws
    ws.close()


@pytest.fixture
def filled(lettr: Any, tmp_path: Path) -> None:
    """Five of each kind, created out of name order; contacts of two statuses."""
    for name in NAMES:
        low = name.lower()
        assert lettr("list", "create", name).exit_code == 0
        assert lettr("topic", "create", name).exit_code == 0
        assert lettr("property", "create", low).exit_code == 0
        assert lettr("template", "create", name, "--html", html_file(tmp_path)).exit_code == 0
        assert (
            lettr(
                "segment", "create", name, "--list", name, "--where", "email contains @"
            ).exit_code
            == 0
        )
        assert lettr("campaign", "create", name).exit_code == 0
        assert lettr("contact", "add", f"{low}@example.com", "--list", name).exit_code == 0
    lettr("contact", "add", "out@example.com", "--status", "unsubscribed")


def test_lookups_by_id_find_each_kind(filled: None, store: Workspace) -> None:
    with store.store.read() as session:
        pairs: list[tuple[Any, Callable[[Session, str], Any]]] = [
            (find_campaign(session, "Echo"), campaign_by_id),
            (find_template(session, "Echo"), template_by_id),
            (find_contact(session, "echo@example.com"), contact_by_id),
            (find(session, LISTS, "Echo"), list_by_id),
            (find(session, TOPICS, "Echo"), topic_by_id),
            (find_segment(session, "Echo"), segment_by_id),
            (get_property(session, "echo"), property_by_id),
        ]
        for found, by_id in pairs:
            assert by_id(session, found.id) == found


BY_ID: list[tuple[Callable[[Session, str], Any], str]] = [
    (campaign_by_id, "campaign"),
    (template_by_id, "template"),
    (contact_by_id, "contact"),
    (list_by_id, "list"),
    (topic_by_id, "topic"),
    (segment_by_id, "segment"),
    (property_by_id, "property"),
]


def test_an_unknown_id_is_not_found(filled: None, store: Workspace) -> None:
    unknown = "0193e6a8-1f3a-7c2a-b9e2-1aa1d2e5d3f0"
    with store.store.read() as session:
        for by_id, noun in BY_ID:
            with pytest.raises(NotFound) as missing:
                by_id(session, unknown)
            assert missing.value.code == "not_found"
            assert missing.value.message == f"no {noun} with the id '{unknown}'"


def test_lookups_by_id_take_no_name_nor_prefix(filled: None, store: Workspace) -> None:
    with store.store.read() as session:
        campaign = find_campaign(session, "Echo")
        for ref in ("Echo", campaign.id[:8], campaign.id.upper()):
            assert find_campaign(session, ref) == campaign  # people's lookup: unchanged
            with pytest.raises(NotFound):
                campaign_by_id(session, ref)
        for by_id in (list_by_id, topic_by_id, segment_by_id, template_by_id):
            with pytest.raises(NotFound):
                by_id(session, "Echo")
        with pytest.raises(NotFound):
            contact_by_id(session, "echo@example.com")


def windows(fetch: Callable[..., Page[Any]], size: int) -> tuple[list[Any], set[int]]:
    """Every row, fetched ``size`` at a time, and the totals the pages reported."""
    rows: list[Any] = []
    totals: set[int] = set()
    offset = 0
    while True:
        found = fetch(limit=size, offset=offset)
        totals.add(found.total)
        assert (found.limit, found.offset) == (size, offset)
        if not found.rows:
            return rows, totals
        assert len(found.rows) <= size
        rows += found.rows
        offset += size


def test_pages_cover_each_listing_once_in_its_order(lettr, filled: None, store: Workspace) -> None:
    by_name = sorted(NAMES)  # names compare as stored: upper case first
    with store.store.read() as session:
        listings: list[tuple[Callable[..., Page[Any]], list[str]]] = [
            (lambda **w: lists_page(session, **w), by_name),
            (lambda **w: topics_page(session, **w), by_name),
            (lambda **w: segments_page(session, **w), by_name),
            (lambda **w: templates_page(session, **w), by_name),
            (lambda **w: properties_page(session, **w), sorted(n.lower() for n in NAMES)),
            (lambda **w: campaigns_page(session, **w), list(reversed(NAMES))),  # newest first
        ]
        for fetch, expected in listings:
            for size in (1, 2, 5, 7):
                rows, totals = windows(fetch, size)
                assert [row.name for row in rows] == expected
                assert totals == {len(expected)}
            whole = fetch()
            assert [row.name for row in whole.rows] == expected
            assert (whole.total, whole.limit, whole.offset) == (len(expected), None, 0)
            counted = fetch(limit=0)
            assert (counted.rows, counted.total) == ([], len(expected))
        contacts, totals = windows(lambda **w: contacts_page(session, **w), 2)
    listed = lettr("contact", "list", "--limit", "0", "--json").json()
    assert [c.email for c in contacts] == [c["email"] for c in listed]  # contact list's order
    assert totals == {len(NAMES) + 1}


def test_pages_filter(filled: None, store: Workspace) -> None:
    with store.store.read() as session:
        out = contacts_page(session, ContactFilter(status="unsubscribed"))
        assert ([c.email for c in out.rows], out.total) == (["out@example.com"], 1)
        delta = find(session, LISTS, "Delta").id
        scoped = segments_page(session, list_id=delta)
        assert ([s.name for s in scoped.rows], scoped.total) == (["Delta"], 1)
        with pytest.raises(NotFound):
            segments_page(session, list_id="nope")
        assert campaigns_page(session, "sent").total == 0
        assert campaigns_page(session, "draft", limit=2).total == len(NAMES)
        with pytest.raises(ValidationError):
            campaigns_page(session, "bogus")


def test_a_page_refuses_a_negative_window(filled: None, store: Workspace) -> None:
    with store.store.read() as session:
        for window, field in (({"limit": -1}, "limit"), ({"offset": -1}, "offset")):
            for fetch in (lists_page, topics_page, segments_page, properties_page, campaigns_page,
                          contacts_page, templates_page):  # fmt: skip
                with pytest.raises(ValidationError) as refused:
                    fetch(session, **window)
                assert refused.value.code == "validation_error"
                assert refused.value.errors is not None and field in refused.value.errors


def test_campaigns_created_at_the_same_moment_page_in_a_total_order(
    filled: None, store: Workspace
) -> None:
    same = datetime(2026, 1, 1, tzinfo=UTC)
    with store.store.write() as session:
        for campaign in session.exec(select(Campaign)).all():
            campaign.created_at = same
            session.add(campaign)
    with store.store.read() as session:
        rows, _ = windows(lambda **w: campaigns_page(session, **w), 2)
        ids = [row.id for row in rows]
        assert ids == sorted(ids, reverse=True)
        assert len(set(ids)) == len(NAMES)
