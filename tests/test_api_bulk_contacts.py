"""Bulk contact create with Lettr's SDK: both shapes, batch-wide lists, properties and topics
merged into each row, bad rows skipped and reported while the rest are written, existing
contacts counted apart and merged only with update_existing."""

from __future__ import annotations

from pathlib import Path

import lettr as sdk
import pytest
from lettr import BulkContactRow, TopicSubscription

from tests.api_helpers import client


def test_bulk_create_reports_bad_rows_and_writes_the_rest(lettr, isolated_home: Path) -> None:
    with client(lettr, isolated_home) as api:
        api.audience.properties.create(name="plan", type="string")
        api.audience.properties.create(name="age", type="number")
        everyone = api.audience.lists.create(name="Everyone")
        vip = api.audience.lists.create(name="VIP")
        news = api.audience.topics.create(name="News")
        promos = api.audience.topics.create(name="Promos", default_subscription="opt_out")
        ann = api.audience.contacts.create(email="ann@example.com", properties={"plan": "free"})
        first = api.audience.contacts.bulk_create(
            emails=["ANN@example.com", "bob@example.com", "not an address", "bob@example.com"],
            list_id=everyone.id,
            properties={"plan": "pro"},
        )
        second = api.audience.contacts.bulk_create(
            contacts=[
                BulkContactRow(email="cy@example.com", properties={"age": "30"},
                               topics=[TopicSubscription.opt_out(promos.id)]),
                BulkContactRow(email="dee@example.com", properties={"age": "old"}),
                BulkContactRow(email="eve@example.com", properties={"shoe": "9"}),
                BulkContactRow(email="fay@example.com", list_ids=["nope"]),
                BulkContactRow(email="ann@example.com", properties={"plan": "team"},
                               list_ids=[vip.id]),
            ],
            topics=[TopicSubscription.opt_in(news.id)],
            update_existing=True,
        )  # fmt: skip
        with pytest.raises(sdk.ValidationError):
            api.audience.contacts._client.post("/audience/contacts/bulk", json={"emails": []})
        ann_now = api.audience.contacts.get(ann.id)
        cy = api.audience.contacts.get(second.id_for("cy@example.com") or "")
    assert (first.created, first.already_existed, first.updated) == (1, 2, 1)
    assert [(e.index, e.error_code) for e in first.errors] == [(2, "invalid_email")]
    assert [(c.email, c.created) for c in first.contacts] == [
        ("ann@example.com", False),
        ("bob@example.com", True),
        ("bob@example.com", False),
    ]
    assert first.contacts[0].id == ann.id
    assert [(e.index, e.error_code) for e in second.errors] == [
        (1, "invalid_property_value"),
        (2, "unknown_property_key"),
        (3, "unknown_list"),
    ]
    assert second.error_count == 3 and second.has_errors
    assert (second.created, second.already_existed, second.updated) == (1, 1, 1)
    assert ann_now.properties == {"plan": "team"}  # update_existing merges; the first did not
    assert sorted(x.name for x in ann_now.lists) == ["Everyone", "VIP"]
    assert [t.name for t in ann_now.topics] == ["News", "Promos"]  # Promos: joined at creation
    assert cy.properties == {"age": 30} and [t.name for t in cy.topics] == ["News"]
    bob = lettr("contact", "show", "bob@example.com", "--json").json()
    assert bob["properties"] == {"plan": "pro"}
    assert [t["name"] for t in bob["topics"]] == ["Promos"]  # opt-out topics join new contacts


def test_the_service_refuses_an_empty_or_oversized_batch_and_writes_nothing(
    lettr, isolated_home: Path
) -> None:
    from lettr_cli.audience.bulk_create import MAX_ROWS, Row, bulk_create
    from lettr_cli.errors import ValidationError
    from lettr_cli.workspace import Workspace

    workspace = Workspace.open(isolated_home / "lettr.db", home=isolated_home, environ={})
    try:
        for rows in ([], [Row(f"r{n}@example.com") for n in range(MAX_ROWS + 1)]):
            with pytest.raises(ValidationError), workspace.store.write() as session:
                bulk_create(session, rows, update_existing=False)
        with workspace.store.write() as session:
            done = bulk_create(
                session, [Row("a@example.com"), Row("@bad"), Row("A@EXAMPLE.com")],
                update_existing=False,
            )  # fmt: skip
    finally:
        workspace.close()
    assert (done.created, done.already_existed, done.updated) == (1, 1, 0)
    assert [(e.index, e.email, e.error_code) for e in done.errors] == [(1, "@bad", "invalid_email")]
    assert [c["email"] for c in lettr("contact", "list", "--json").json()] == ["a@example.com"]
