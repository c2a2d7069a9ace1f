"""`lettr segment ...` and `contact list --segment`, as a user or a script runs them."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
from sqlmodel import Session

from lettr_cli.audience import groups
from lettr_cli.audience.contacts import add_contacts
from lettr_cli.audience.properties import create_property
from tests.store_templates import build_template, install

pytestmark = pytest.mark.usefixtures("each_engine")

SEGMENT_KEYS = ["id", "name", "list_id", "list_name", "condition_groups", "contacts_count"]


def build_audience(session: Session) -> None:
    for name, kind in (
        ("city", "string"),
        ("age", "number"),
        ("vip", "boolean"),
        ("joined", "date"),
    ):
        create_property(session, name, kind, None)
    for name in ("Customers", "Press"):
        groups.create(session, groups.LISTS, name)
    groups.create(session, groups.TOPICS, "News")
    add = partial(add_contacts, session)
    add(["ann@example.com"], assignments=["city=Zürich", "age=41", "vip=true"],
        lists=["Customers"], topics=["News"])  # fmt: skip
    add(["bob@example.org"], assignments=["city=STRASSE", "age=17"], lists=["Customers"])
    add(["cy@example.net"], assignments=["city=Paris"], lists=["Press"], status="unsubscribed")


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory, "segment-commands", build_audience)


@pytest.fixture
def audience(lettr, template: Path, isolated_home: Path) -> dict[str, str]:
    """A small audience; returns the ids of its lists and topics by name."""
    install(template, isolated_home)
    ids = {g["name"]: g["id"] for g in lettr("list", "list", "--json").json()}
    ids |= {g["name"]: g["id"] for g in lettr("topic", "list", "--json").json()}
    return ids


def test_create_shows_the_segment_object(lettr, audience) -> None:
    result = lettr(
        "segment", "create", "Grown-ups", "--json",
        "--where", "(age greater_than_or_equal 18 or vip is_true) and lists equals Customers",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert list(body) == [*SEGMENT_KEYS, "where", "sample"]
    assert body["name"] == "Grown-ups"
    assert body["list_id"] is None and body["list_name"] is None
    assert body["condition_groups"] == [
        {
            "conditions": [
                {"field": "age", "operator": "greater_than_or_equal", "value": "18"},
                {"field": "vip", "operator": "is_true", "value": None},
            ]
        },
        {"conditions": [{"field": "lists", "operator": "equals", "value": audience["Customers"]}]},
    ]
    assert body["contacts_count"] == 1
    assert body["sample"] == ["ann@example.com"]
    assert (
        body["where"] == "(age greater_than_or_equal 18 or vip is_true) and lists equals Customers"
    )


def test_list_show_edit_and_delete(lettr, audience) -> None:
    lettr("segment", "create", "Swiss", "--where", "city contains ü")
    lettr("segment", "create", "Everyone", "--where", "email contains @", "--list", "Customers")
    listing = lettr("segment", "list", "--json").json()
    assert [s["name"] for s in listing] == ["Everyone", "Swiss"]
    assert [list(s) for s in listing] == [SEGMENT_KEYS, SEGMENT_KEYS]
    assert [s["contacts_count"] for s in listing] == [2, 1]
    assert listing[0]["list_name"] == "Customers"

    shown = lettr("segment", "show", "Everyone", "--json").json()
    assert shown["sample"] == ["ann@example.com", "bob@example.org"]
    assert shown["where"] == "email contains @"

    edited = lettr("segment", "edit", "Everyone", "--name", "All", "--no-list", "--json").json()
    assert (edited["name"], edited["list_id"], edited["contacts_count"]) == ("All", None, 3)
    edited = lettr("segment", "edit", "All", "--where", "status equals unsubscribed", "--json")
    assert edited.json()["sample"] == ["cy@example.net"]
    edited = lettr("segment", "edit", "All", "--list", "Customers", "--json").json()
    assert edited["where"] == "status equals unsubscribed"  # conditions kept
    assert (edited["list_name"], edited["contacts_count"]) == ("Customers", 0)

    words = lettr("segment", "show", "Swiss")
    assert "city contains ü" in words.stdout and "ann@example.com" in words.stdout

    refused = lettr("segment", "delete", "Swiss")
    assert refused.exit_code == 1 and "confirmation_required" in refused.stderr
    deleted = lettr("segment", "delete", "Swiss", "--yes", "--json")
    assert deleted.json() == {"deleted": [listing[1]["id"]]}
    assert [s["name"] for s in lettr("segment", "list", "--json").json()] == ["All"]
    assert lettr("contact", "list", "--json").json()[0]["email"] == "ann@example.com"


def test_preview_counts_without_saving(lettr, audience) -> None:
    result = lettr("segment", "preview", "--where", "city equals straße", "--json")
    assert result.json() == {"count": 1, "sample": ["bob@example.org"]}
    scoped = lettr("segment", "preview", "--where", "age less_than 100", "--list", "Press")
    assert scoped.stdout == "0 contacts match\n"
    words = lettr("segment", "preview", "--where", "age less_than 100")
    assert words.stdout == "2 contacts match\nann@example.com\nbob@example.org\n"
    assert lettr("segment", "list", "--json").json() == []


def test_contact_list_by_segment(lettr, audience) -> None:
    lettr("segment", "create", "Customers not in news", "--where", "topics not_equals News",
          "--list", "Customers")  # fmt: skip
    result = lettr("contact", "list", "--segment", "Customers not in news", "--json")
    assert [c["email"] for c in result.json()] == ["bob@example.org"]
    both = lettr(
        "contact",
        "list",
        "--segment",
        "Customers not in news",
        "--status",
        "unsubscribed",
        "--json",
    )
    assert both.json() == []
    missing = lettr("contact", "list", "--segment", "Nope", "--json")
    assert missing.exit_code == 1 and missing.error()["error_code"] == "not_found"


@pytest.mark.parametrize(
    "shape",
    [
        lambda groups: {"groups": groups},
        lambda groups: {"conditions": {"groups": groups}},
        lambda groups: {"condition_groups": groups, "name": "ignored", "id": "ignored"},
    ],
    ids=["groups", "conditions.groups", "condition_groups"],
)
def test_conditions_files_in_each_shape(lettr, audience, tmp_path: Path, shape) -> None:
    groups = [
        {"conditions": [{"field": "properties.city", "operator": "ends_with", "value": "ICH"},
                        {"field": "age", "operator": "less_than", "value": 18}]},
        {"conditions": [{"field": "lists", "operator": "equals", "value": audience["Customers"]}]},
    ]  # fmt: skip
    path = tmp_path / "conditions.json"
    path.write_text(json.dumps(shape(groups)), encoding="utf-8")
    result = lettr("segment", "create", "From file", "--conditions", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["where"] == "(city ends_with ICH or age less_than 18) and lists equals Customers"
    assert body["condition_groups"][0]["conditions"][1]["value"] == "18"
    assert body["contacts_count"] == 2


def test_show_json_feeds_back_in_and_lists_accept_names(lettr, audience, tmp_path: Path) -> None:
    lettr("segment", "create", "Original", "--where", "topics equals News and city contains r")
    saved = tmp_path / "segment.json"
    saved.write_text(lettr("segment", "show", "Original", "--json").stdout, encoding="utf-8")
    copy = lettr("segment", "create", "Copy", "--conditions", str(saved), "--json").json()
    original = lettr("segment", "show", "Original", "--json").json()
    assert copy["condition_groups"] == original["condition_groups"]
    by_name = {
        "groups": [{"conditions": [{"field": "topics", "operator": "equals", "value": "News"}]}]
    }
    result = lettr("segment", "preview", "--conditions", "-", "--json", input=json.dumps(by_name))
    assert result.json() == {"count": 1, "sample": ["ann@example.com"]}


def test_renaming_lists_and_topics_never_breaks_a_segment(lettr, audience) -> None:
    lettr("segment", "create", "Loyal", "--where", "lists equals Customers and topics equals News",
          "--list", "Customers")  # fmt: skip
    before = lettr("segment", "show", "Loyal", "--json").json()
    assert lettr("list", "rename", "Customers", "Clients").exit_code == 0
    assert lettr("topic", "create", "Weekly").exit_code == 0
    # A new list takes the old name: the segment still means the renamed one.
    assert lettr("list", "create", "Customers").exit_code == 0
    after = lettr("segment", "show", "Loyal", "--json").json()
    assert after["condition_groups"] == before["condition_groups"]
    assert after["contacts_count"] == before["contacts_count"] == 1
    assert after["list_name"] == "Clients"
    assert after["where"] == "lists equals Clients and topics equals News"
    members = lettr("contact", "list", "--segment", "Loyal", "--json").json()
    assert [c["email"] for c in members] == ["ann@example.com"]


@pytest.mark.parametrize(
    ("command", "name", "segments"),
    [
        (("list", "delete"), "Customers", "segment 'By condition', segment 'By scope'"),
        (("list", "delete"), "Press", "segment 'By scope'"),
        (("topic", "delete"), "News", "segment 'By condition'"),
        (("property", "delete"), "age", "segment 'By condition'"),
    ],
)
def test_deleting_what_a_segment_uses_is_refused(lettr, audience, command, name, segments) -> None:
    where = "(lists equals Customers or topics equals News) and age greater_than 1"
    lettr("segment", "create", "By condition", "--where", where)
    scope = ("--where", "lists not_equals Press", "--list", "Customers")
    lettr("segment", "create", "By scope", *scope)
    result = lettr(*command, name, "--yes", "--json")
    assert result.exit_code == 1
    error = result.error()
    assert error["error_code"] == "resource_in_use"
    assert segments in error["message"]
    for segment in ("By condition", "By scope"):
        assert lettr("segment", "delete", segment, "--yes").exit_code == 0
    assert lettr(*command, name, "--yes").exit_code == 0


def test_a_property_no_segment_uses_can_still_be_deleted(lettr, audience) -> None:
    lettr("segment", "create", "Ages", "--where", "age greater_than 1")
    assert lettr("property", "delete", "city", "--yes").exit_code == 0
    assert lettr("list", "delete", "Press", "--yes").exit_code == 0


def test_names_are_unique_and_looked_up_exactly(lettr, audience) -> None:
    assert lettr("segment", "create", "VIP", "--where", "vip is_true").exit_code == 0
    taken = lettr("segment", "create", "VIP", "--where", "vip is_false", "--json")
    assert taken.error()["error_code"] == "resource_already_exists"
    lettr("segment", "create", "Other", "--where", "vip is_false")
    renamed = lettr("segment", "edit", "Other", "--name", "VIP", "--json")
    assert renamed.error()["error_code"] == "resource_already_exists"
    for args in (("show", "vip"), ("edit", "vip", "--name", "x"), ("delete", "vip", "--yes")):
        result = lettr("segment", *args, "--json")
        assert result.exit_code == 1 and result.error()["error_code"] == "not_found"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        (("create", "S"), "where", "give the conditions with --where"),
        (("preview",), "where", "give the conditions with --where"),
        (
            ("create", "S", "--where", "vip is_true", "--conditions", "x.json"),
            "conditions",
            "not both",
        ),
        (("create", " ", "--where", "vip is_true"), "name", "a segment name is 1–255"),
        (("create", "S", "--conditions", "missing.json"), "conditions", "cannot read missing.json"),
        (("edit", "S"), "name", "nothing to change"),
        (("edit", "S", "--list", "Press", "--no-list"), "list", "not both"),
    ],
)
def test_command_line_refusals(lettr, audience, args, field, fragment) -> None:
    lettr("segment", "create", "S", "--where", "vip is_true")
    result = lettr("segment", *args, "--json")
    assert result.exit_code == 1
    error = result.error()
    assert error["error_code"] == "validation_error"
    assert fragment in error["errors"][field][0]
    assert [s["name"] for s in lettr("segment", "list", "--json").json()] == ["S"]


def test_an_unknown_list_scope_is_not_found(lettr, audience) -> None:
    result = lettr("segment", "create", "S", "--where", "vip is_true", "--list", "Nope", "--json")
    assert result.error()["error_code"] == "not_found"
    assert lettr("segment", "list", "--json").json() == []
