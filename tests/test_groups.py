"""`lettr list` and `lettr topic`."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("each_engine")


def test_list_lifecycle(lettr) -> None:
    created = lettr("list", "create", "Customers", "--json").json()
    assert set(created) == {"id", "name", "contacts_count"}
    assert created["contacts_count"] == 0
    lettr("contact", "add", "ann@example.com", "bob@example.org")
    added = lettr("list", "add", "Customers", "ANN@example.com", "bob@example.org", "--json").json()
    assert added == {**created, "contacts_count": 2}
    again = lettr("list", "add", "Customers", "ann@example.com", "--json").json()
    assert again["contacts_count"] == 2  # already a member: unchanged
    renamed = lettr("list", "rename", "Customers", "Clients", "--json").json()
    assert renamed["id"] == created["id"] and renamed["name"] == "Clients"
    members = lettr("contact", "list", "--list", "Clients", "--json").json()
    assert sorted(c["email"] for c in members) == ["ann@example.com", "bob@example.org"]
    removed = lettr("list", "remove", "Clients", "bob@example.org", "--yes", "--json").json()
    assert removed["contacts_count"] == 1
    shown = lettr("list", "show", "Clients", "--json").json()
    assert shown == {**created, "name": "Clients", "contacts_count": 1}
    assert lettr("list", "list", "--json").json() == [shown]
    deleted = lettr("list", "delete", "Clients", "--yes", "--json").json()
    assert deleted == {"deleted": [created["id"]]}
    assert len(lettr("contact", "list", "--json").json()) == 2  # the contacts stay


def test_list_add_with_an_unknown_contact_changes_nothing(lettr) -> None:
    lettr("list", "create", "VIP")
    lettr("contact", "add", "ann@example.com")
    result = lettr("list", "add", "VIP", "ann@example.com", "ghost@example.com", "--json")
    assert result.exit_code == 1
    assert result.error()["error_code"] == "not_found"
    assert "ghost@example.com" in result.error()["message"]
    assert lettr("list", "show", "VIP", "--json").json()["contacts_count"] == 0


def test_list_names_are_unique_and_exact(lettr) -> None:
    lettr("list", "create", "VIP")
    assert lettr("list", "create", "VIP").stderr.startswith("Error [resource_already_exists]")
    assert lettr("list", "create", "vip").exit_code == 0  # exact names: another list
    lettr("list", "create", "Other")
    assert lettr("list", "rename", "Other", "VIP").exit_code == 1
    assert lettr("list", "show", "nope").stderr == "Error [not_found]: no list named 'nope'\n"
    assert lettr("list", "create", "   ").exit_code == 1
    assert lettr("list", "delete", "VIP").stderr.startswith("Error [confirmation_required]")


def test_topic_lifecycle(lettr) -> None:
    created = lettr(
        "topic",
        "create",
        "Product news",
        "--description",
        "What is new",
        "--default",
        "opt-out",
        "--visibility",
        "public",
        "--json",
    ).json()
    assert {k: v for k, v in created.items() if k != "id"} == {
        "name": "Product news",
        "description": "What is new",
        "default_subscription": "opt_out",
        "visibility": "public",
        "contacts_count": 0,
    }
    plain = lettr("topic", "create", "Offers", "--json").json()
    assert plain["default_subscription"] == "opt_in" and plain["visibility"] == "private"
    updated = lettr(
        "topic", "update", "Offers", "--description", "Deals", "--visibility", "public", "--json"
    ).json()
    assert updated["description"] == "Deals" and updated["visibility"] == "public"
    assert lettr("topic", "rename", "Offers", "Deals", "--json").json()["id"] == plain["id"]
    assert [t["name"] for t in lettr("topic", "list", "--json").json()] == ["Deals", "Product news"]
    assert lettr("topic", "delete", "Deals", "--yes", "--json").json() == {"deleted": [plain["id"]]}


def test_topic_options_are_checked(lettr) -> None:
    assert lettr("topic", "create", "X", "--default", "sometimes").exit_code == 1
    assert lettr("topic", "create", "X", "--visibility", "secret").exit_code == 1
    assert lettr("topic", "create", "X", "--description", "d" * 1001).exit_code == 1
    assert lettr("topic", "list", "--json").json() == []


def test_an_opt_out_topic_attaches_to_every_new_contact(lettr) -> None:
    lettr("topic", "create", "News", "--default", "opt-out")
    lettr("topic", "create", "Offers")
    contact = lettr("contact", "add", "ann@example.com", "--json").json()
    assert [t["name"] for t in contact["topics"]] == ["News"]
    shown = lettr("contact", "show", "ann@example.com", "--json").json()
    assert {"kind": "topic_opted_in", "detail": "News"} in [
        {"kind": a["kind"], "detail": a["detail"]} for a in shown["activity"]
    ]
    topics = {t["name"]: t["contacts_count"] for t in lettr("topic", "list", "--json").json()}
    assert topics == {"News": 1, "Offers": 0}
