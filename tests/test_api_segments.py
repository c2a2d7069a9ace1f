"""Segments over the API with Lettr's SDK: ``conditions.groups`` in (a list by id or by exact
name), ``condition_groups`` out, ``cached_contacts_count`` the subscribed members, contacts
listed by segment; the CLI shows the same segment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lettr as sdk
import pytest

from tests.api_helpers import client


def _where(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"groups": [{"conditions": list(conditions)}]}


def test_a_segment_made_over_the_api_counts_and_lists_its_contacts(
    lettr, isolated_home: Path
) -> None:
    with client(lettr, isolated_home) as api:
        vip = api.audience.lists.create(name="VIP")
        ann = api.audience.contacts.create(email="ann@example.com", list_id=vip.id)
        bob = api.audience.contacts.create(email="bob@example.com", list_id=vip.id)
        api.audience.contacts.create(email="cy@example.org", list_id=vip.id)
        api.audience.contacts.update(bob.id, status="unsubscribed")
        by_id = api.audience.segments.create(
            name="VIP at example.com",
            conditions=_where({"field": "email", "operator": "ends_with", "value": "@example.com"}),
            list_id=vip.id,
        )
        by_name = api.audience.segments.create(
            name="In VIP",
            conditions=_where({"field": "lists", "operator": "equals", "value": "VIP"}),
        )
        members = api.audience.contacts.list(segment_id=by_id.id)
        api.audience.lists.update(vip.id, name="Very important")  # stored by id: rename-safe
        after_rename = api.audience.segments.get(by_name.id)
        renamed = api.audience.segments.update(by_id.id, name="Example VIPs", list_id=None)
        unchanged = api.audience.segments.update(by_id.id)
        listed = api.audience.segments.list()
        with pytest.raises(sdk.ValidationError) as bad_field:
            api.audience.segments.create(
                name="Bad",
                conditions=_where({"field": "shoe_size", "operator": "equals", "value": "9"}),
            )
        with pytest.raises(sdk.ConflictError):
            api.audience.segments.create(name="In VIP", conditions=_where(
                {"field": "email", "operator": "contains", "value": "a"}))  # fmt: skip
        with pytest.raises(sdk.NotFoundError) as missing_list:
            api.audience.segments.create(
                name="Nowhere",
                conditions=_where({"field": "email", "operator": "contains", "value": "a"}),
                list_id="00000000-0000-0000-0000-000000000000",
            )
        api.audience.segments.delete(by_name.id)
        with pytest.raises(sdk.NotFoundError) as gone:
            api.audience.segments.get(by_name.id)
    assert by_id.list_id == vip.id and by_id.list_name == "VIP" and by_id.created_at
    assert by_id.condition_groups == [
        {"conditions": [{"field": "email", "operator": "ends_with", "value": "@example.com"}]}
    ]
    assert by_id.cached_contacts_count == 1  # Bob is unsubscribed
    assert {c.id for c in members.contacts} == {ann.id, bob.id}  # every status listed
    assert by_name.cached_contacts_count == 2
    assert after_rename.cached_contacts_count == 2
    assert after_rename.condition_groups[0]["conditions"][0]["value"] == vip.id
    assert renamed.name == "Example VIPs" and renamed.list_id is None
    assert unchanged.name == "Example VIPs"
    assert [s.name for s in listed.segments] == ["Example VIPs", "In VIP"]
    assert "conditions" in bad_field.value.errors
    assert missing_list.value.message == "List not found."
    assert gone.value.message == "Segment not found."
    shown = lettr("segment", "show", "Example VIPs", "--json")
    assert shown.exit_code == 0, shown.stderr
    cli = shown.json()
    assert (cli["id"], cli["condition_groups"], cli["list_id"]) == (
        renamed.id,
        renamed.condition_groups,
        None,
    )
