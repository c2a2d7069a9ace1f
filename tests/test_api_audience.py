"""The Audience API driven by Lettr's official SDK, unmodified: properties, lists, topics and
contacts built over HTTP, seen the same way by the CLI; each documented error raises the SDK's
matching exception and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import lettr as sdk
import pytest

from tests.api_helpers import api_server, client, make_key

MISSING = "00000000-0000-0000-0000-000000000000"


def _cli(lettr: Any, *args: str) -> Any:
    result = lettr(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def test_properties_lists_and_topics_round_trip_and_match_the_cli(
    lettr, isolated_home: Path
) -> None:
    with client(lettr, isolated_home) as api:
        plan = api.audience.properties.create(name="plan", type="string", fallback_value="free")
        api.audience.properties.create(name="age", type="number")
        with pytest.raises(sdk.ConflictError) as twice:
            api.audience.properties.create(name="plan", type="string")
        with pytest.raises(sdk.ValidationError) as bad_type:
            api.audience.properties.create(name="x", type="colour")
        changed = api.audience.properties.update(plan.id, fallback_value=None)
        props = api.audience.properties.list(per_page=1)
        vip = api.audience.lists.create(name="VIP")
        renamed = api.audience.lists.update(vip.id, name="Very important")
        news = api.audience.topics.create(name="News", description="Weekly", visibility="public")
        quiet = api.audience.topics.update(news.id, description=None)
        lists = api.audience.lists.list()
        topics = api.audience.topics.list()
        with pytest.raises(sdk.NotFoundError) as missing:
            api.audience.lists.get(MISSING)
        with pytest.raises(sdk.NotFoundError):
            api.audience.topics.get("News")  # ids only, never names
        api.audience.properties.delete(plan.id)
        with pytest.raises(sdk.NotFoundError):
            api.audience.properties.get(plan.id)
    assert twice.value.error_code == "resource_already_exists"
    assert "type" in bad_type.value.errors
    assert plan.fallback_value == "free" and changed.fallback_value is None and plan.created_at
    assert (props.total, props.last_page, [p.name for p in props.properties]) == (2, 2, ["age"])
    assert renamed.name == "Very important" and renamed.id == vip.id and renamed.contacts_count == 0
    assert (news.default_subscription, news.visibility, news.description) == (
        "opt_in",
        "public",
        "Weekly",
    )
    assert quiet.description is None and news.created_at
    assert (missing.value.message, missing.value.error_code) == ("List not found.", "not_found")
    assert [(x.id, x.name, x.contacts_count) for x in lists.lists] == [
        (g["id"], g["name"], g["contacts_count"]) for g in _cli(lettr, "list", "list")
    ]
    assert [(t.id, t.name, t.visibility) for t in topics.topics] == [
        (g["id"], g["name"], g["visibility"]) for g in _cli(lettr, "topic", "list")
    ]
    assert [p["name"] for p in _cli(lettr, "property", "list")] == ["age"]


def test_contacts_create_list_update_and_delete(lettr, isolated_home: Path) -> None:
    with client(lettr, isolated_home) as api:
        api.audience.properties.create(name="first_name", type="string")
        api.audience.properties.create(name="age", type="number")
        customers = api.audience.lists.create(name="Customers")
        ann = api.audience.contacts.create(
            email="Ann@Example.com",
            list_id=customers.id,
            properties={"first_name": "Ann", "age": "41"},
        )
        bob = api.audience.contacts.create(email="bob@example.org")
        with pytest.raises(sdk.ContactAlreadyExistsError) as duplicate:
            api.audience.contacts.create(email="ANN@example.COM")
        with pytest.raises(sdk.ValidationError) as opt_in:
            api.audience.contacts.create(email="cy@example.com", double_opt_in={"from": "a@b.c"})
        with pytest.raises(sdk.ValidationError) as unknown:
            api.audience.contacts.create(email="cy@example.com", properties={"colour": "red"})
        in_list = api.audience.contacts.list(list_id=customers.id)
        searched = api.audience.contacts.list(search="bob")
        everyone = api.audience.contacts.list(per_page=1, page=2)
        updated = api.audience.contacts.update(
            ann.id, status="unsubscribed", properties={"age": None, "first_name": "Annie"}
        )
        with pytest.raises(sdk.ValidationError) as bounced:
            api.audience.contacts.update(bob.id, status="bounced")
        unsubscribed = api.audience.contacts.list(status="unsubscribed")
        with pytest.raises(sdk.ValidationError):
            api.audience.contacts.list(status="nonsense")
        with pytest.raises(sdk.NotFoundError) as no_list:
            api.audience.contacts.list(list_id=MISSING)
        api.audience.contacts.delete(bob.id)
        with pytest.raises(sdk.NotFoundError) as gone:
            api.audience.contacts.get(bob.id)
        again = api.audience.contacts.get(ann.id)
    assert ann.email == "Ann@Example.com" and ann.status == "subscribed"
    assert ann.properties == {"first_name": "Ann", "age": 41}
    assert [(x.id, x.name) for x in ann.lists] == [(customers.id, "Customers")]
    assert duplicate.value.error_code == "resource_already_exists"
    assert duplicate.value.email == "ANN@example.COM"
    assert "subject" in opt_in.value.errors and "properties" in unknown.value.errors
    assert [c.id for c in in_list.contacts] == [ann.id]
    assert [c.id for c in searched.contacts] == [bob.id]
    assert (everyone.total, everyone.last_page, everyone.contacts[0].id) == (2, 2, bob.id)
    assert updated.status == "unsubscribed" and updated.properties == {"first_name": "Annie"}
    assert "status" in bounced.value.errors
    assert [c.id for c in unsubscribed.contacts] == [ann.id]
    assert no_list.value.message == "List not found."
    assert (gone.value.message, gone.value.error_code) == ("Contact not found.", "not_found")
    shown = _cli(lettr, "contact", "show", "ann@example.com")
    assert (again.id, again.email, again.status, again.properties) == (
        shown["id"],
        shown["email"],
        shown["status"],
        shown["properties"],
    )
    assert [c["email"] for c in _cli(lettr, "contact", "list")] == ["Ann@Example.com"]


def test_audience_scopes_and_a_delete_answers_204(lettr, isolated_home: Path) -> None:
    reader = make_key(lettr, "reader", "audience:read")
    writer = make_key(lettr, "writer", "audience:write,audience:read")
    with api_server(isolated_home) as base:
        with sdk.Lettr(reader, base_url=base) as api, pytest.raises(sdk.ForbiddenError):
            api.audience.lists.create(name="VIP")
        with sdk.Lettr(writer, base_url=base) as api:
            vip = api.audience.lists.create(name="VIP")
        with httpx.Client(headers={"Authorization": f"Bearer {writer}"}) as http:
            deleted = http.delete(f"{base}/audience/lists/{vip.id}")
            again = http.delete(f"{base}/audience/lists/{vip.id}")
    assert deleted.status_code == 204 and again.status_code == 404
    assert _cli(lettr, "list", "list") == []
