"""List and topic memberships over the API with Lettr's SDK, single and bulk, with Lettr's
counts; the service refuses an unknown id and writes nothing (all or nothing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import lettr as sdk
import pytest

from lettr_cli.audience.groups import LISTS
from lettr_cli.audience.memberships import join_all
from lettr_cli.errors import ValidationError
from lettr_cli.workspace import Workspace
from tests.api_helpers import client

MISSING = "00000000-0000-0000-0000-000000000000"


def _members(home: Path) -> int:
    with sqlite3.connect(home / "lettr.db") as conn:
        return int(conn.execute("SELECT count(*) FROM list_members").fetchone()[0])


def test_single_and_bulk_memberships_with_lettrs_counts(lettr, isolated_home: Path) -> None:
    with client(lettr, isolated_home) as api:
        a, b = (api.audience.lists.create(name=n) for n in ("A", "B"))
        news = api.audience.topics.create(name="News")
        ann = api.audience.contacts.create(email="ann@example.com")
        bob = api.audience.contacts.create(email="bob@example.com")
        api.audience.contacts.add_to_list(contact_id=ann.id, list_id=a.id)
        api.audience.contacts.add_to_list(contact_id=ann.id, list_id=a.id)  # idempotent
        attached = api.audience.contacts.bulk_attach_lists(
            contact_ids=[ann.id, bob.id], list_ids=[a.id, b.id]
        )
        detached = api.audience.contacts.bulk_detach_lists(contact_ids=[bob.id], list_ids=[a.id])
        api.audience.contacts.remove_from_list(contact_id=bob.id, list_id=a.id)  # idempotent
        api.audience.contacts.subscribe_to_topic(contact_id=ann.id, topic_id=news.id)
        subscribed = api.audience.contacts.bulk_subscribe_topics(
            contact_ids=[ann.id, bob.id], topic_ids=[news.id]
        )
        unsubscribed = api.audience.contacts.bulk_unsubscribe_topics(
            contact_ids=[ann.id], topic_ids=[news.id]
        )
        with pytest.raises(sdk.NotFoundError) as missing:
            api.audience.contacts.add_to_list(contact_id=MISSING, list_id=a.id)
        with pytest.raises(sdk.ValidationError) as unknown:
            api.audience.contacts.bulk_attach_lists(contact_ids=[ann.id], list_ids=[MISSING])
        ann_now = api.audience.contacts.get(ann.id)
        bob_now = api.audience.contacts.get(bob.id)
        c = api.audience.lists.create(name="C")
        deleted = api.audience.lists.bulk_delete(list_ids=[b.id, c.id])
        left = api.audience.lists.list()
    assert (attached.attached, attached.already_attached, attached.total_pairs) == (3, 1, 4)
    assert (detached.detached, detached.not_present, detached.total_pairs) == (1, 0, 1)
    assert (subscribed.subscribed, subscribed.already_subscribed, subscribed.total_pairs) == (
        1,
        1,
        2,
    )
    assert (unsubscribed.unsubscribed, unsubscribed.total_pairs) == (1, 1)
    assert missing.value.message == "Contact or list not found."
    assert "list_ids" in unknown.value.errors
    assert sorted(x.name for x in ann_now.lists) == ["A", "B"] and ann_now.topics == []
    assert [x.name for x in bob_now.lists] == ["B"] and [t.name for t in bob_now.topics] == ["News"]
    assert deleted.deleted == 2 and [x.name for x in left.lists] == ["A"]
    shown = lettr("contact", "show", "bob@example.com", "--json").json()
    assert shown["lists"] == []  # B deleted with the bulk delete, A left before
    assert [x["name"] for x in shown["topics"]] == ["News"]


def test_bulk_join_refuses_an_unknown_id_and_writes_nothing(lettr, isolated_home: Path) -> None:
    lettr("list", "create", "A")
    lettr("contact", "add", "ann@example.com", "--list", "A")
    lettr("contact", "add", "bob@example.com")
    workspace = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    try:
        with workspace.store.read() as session:
            ids = [row[0] for row in session.connection().exec_driver_sql(
                "SELECT id FROM contacts ORDER BY email_key")]  # fmt: skip
            list_id = session.connection().exec_driver_sql("SELECT id FROM lists").scalar_one()
        before = _members(isolated_home)
        for contacts, lists, field in (
            ([*ids, MISSING], [list_id], "contact_ids"),
            (ids, [list_id, MISSING], "list_ids"),
            ([], [list_id], "contact_ids"),
            (ids, [list_id] * 51, "list_ids"),
        ):
            with pytest.raises(ValidationError) as refused, workspace.store.write() as session:
                join_all(session, LISTS, contacts, lists, "list_ids")
            assert list(refused.value.errors or {}) == [field]
            assert _members(isolated_home) == before
        with workspace.store.write() as session:
            pairs = join_all(session, LISTS, ids, [list_id], "list_ids")
        assert (pairs.changed, pairs.unchanged, pairs.total) == (1, 1, 2)
    finally:
        workspace.close()
