"""`lettr property`: names, types, fallbacks, and values checked against the type."""

from __future__ import annotations

import pytest

from lettr_cli.audience.properties import InvalidValue, coerce

pytestmark = pytest.mark.usefixtures("each_engine")


def test_create_list_update_delete(lettr) -> None:
    created = lettr("property", "create", "first_name", "--fallback", "there", "--json")
    assert created.exit_code == 0, created.stderr
    body = created.json()
    assert body["name"] == "first_name"
    assert body["type"] == "string"
    assert body["fallback_value"] == "there"
    lettr("property", "create", "age", "--type", "number")
    listed = lettr("property", "list", "--json").json()
    assert [(p["name"], p["type"]) for p in listed] == [("age", "number"), ("first_name", "string")]
    updated = lettr("property", "update", "first_name", "--fallback", "friend", "--json").json()
    assert updated["fallback_value"] == "friend"
    assert updated["id"] == body["id"]
    cleared = lettr("property", "update", "first_name", "--no-fallback", "--json").json()
    assert cleared["fallback_value"] is None
    deleted = lettr("property", "delete", "age", "--yes", "--json")
    assert deleted.json() == {"deleted": [listed[0]["id"]]}
    assert [p["name"] for p in lettr("property", "list", "--json").json()] == ["first_name"]


@pytest.mark.parametrize(
    "name",
    [
        "First",
        "1st",
        "first-name",
        "email",
        "status",
        "lists",
        "loop",
        "range",
        "true",
        "class",
        "unsubscribe_link",
        "confirmation_url",
        "preferences_link",
        "x" * 256,
        "",
    ],
)
def test_bad_or_reserved_names_are_refused(lettr, name: str) -> None:
    result = lettr("property", "create", "--json", "--", name)
    assert result.exit_code == 1
    assert result.error()["error_code"] == "validation_error"
    assert lettr("property", "list", "--json").json() == []


def test_duplicate_name_and_unknown_type(lettr) -> None:
    lettr("property", "create", "city")
    again = lettr("property", "create", "city", "--type", "number")
    assert again.exit_code == 1
    assert again.stderr.startswith("Error [resource_already_exists]:")
    bad_type = lettr("property", "create", "when", "--type", "datetime")
    assert bad_type.exit_code == 1
    assert "string, number, boolean, date, json" in bad_type.stderr


def test_fallback_must_fit_the_type(lettr) -> None:
    assert (
        lettr("property", "create", "age", "--type", "number", "--fallback", "old").exit_code == 1
    )
    assert lettr("property", "create", "age", "--type", "number", "--fallback", "30").exit_code == 0
    assert lettr("property", "update", "age", "--fallback", "thirty").exit_code == 1
    assert lettr("property", "update", "age").exit_code == 1  # neither --fallback nor --no-fallback


def test_unknown_property_is_not_found(lettr) -> None:
    for args in (("update", "ghost", "--fallback", "x"), ("delete", "ghost", "--yes")):
        result = lettr("property", *args)
        assert result.exit_code == 1
        assert result.stderr == "Error [not_found]: no property named 'ghost'\n"


def test_deleting_a_property_removes_its_values(lettr) -> None:
    lettr("property", "create", "age", "--type", "number")
    lettr("contact", "add", "ann@example.com", "--prop", "age=41")
    lettr("property", "delete", "age", "--yes")
    lettr("property", "create", "age", "--type", "string")
    assert lettr("contact", "show", "ann@example.com", "--json").json()["properties"] == {}


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("string", " keep spaces ", " keep spaces "),
        ("number", "42", 42),
        ("number", "-4.5", -4.5),
        ("number", "1e3", 1000),
        ("boolean", "Yes", True),
        ("boolean", "0", False),
        ("date", "2026-02-28", "2026-02-28"),
        ("date", "2026-02-28T23:00:00Z", "2026-02-28"),
        ("json", '{"a": [1, 2]}', {"a": [1, 2]}),
    ],
)
def test_values_are_typed(kind: str, raw: str, value: object) -> None:
    assert coerce(kind, raw) == value


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("number", "4,5"),
        ("number", "nan"),
        ("number", "inf"),
        ("number", ""),
        ("boolean", "maybe"),
        ("date", "28/02/2026"),
        ("date", "2026-02-30"),
        ("json", "{nope}"),
        ("string", "x" * 1001),
    ],
)
def test_bad_values_are_refused(kind: str, raw: str) -> None:
    with pytest.raises(InvalidValue):
        coerce(kind, raw)
