"""Every wrong expression is refused when saved, quoting it and pointing at the offending part."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session

from lettr_cli.audience import groups
from lettr_cli.audience.properties import create_property
from tests.store_templates import build_template


def build_audience(session: Session) -> None:
    for name, kind in (
        ("city", "string"),
        ("age", "number"),
        ("vip", "boolean"),
        ("joined", "date"),
        ("extra", "json"),
    ):
        create_property(session, name, kind, None)
    groups.create(session, groups.LISTS, "Customers")
    groups.create(session, groups.TOPICS, "News")


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory, "segment-refusals", build_audience)


LONG = "x" * 1001
# (expression, column the refusal points at, what it says)
REFUSED = [
    ("cty equals Paris", 1, "unknown field 'cty'; did you mean 'city'?"),
    ("properties.cty equals Paris", 1, "unknown field 'properties.cty'"),
    ("city equal Paris", 6, "unknown operator 'equal'; did you mean 'equals'?"),
    ("city = Paris", 6, "unknown operator '='; operators are: contains,"),
    ("city greater_than 3", 6, "'greater_than' does not apply to city (a string property)"),
    ("age contains 3", 5, "'contains' does not apply to age (a number property); use one of"),
    ("vip equals true", 5, "'equals' does not apply to vip (a boolean property); use one of: is_"),
    ("city is_true", 6, "'is_true' does not apply to city"),
    ("age before 2020-01-01", 5, "'before' does not apply to age"),
    ("joined equals 2020-01-01", 8, "'equals' does not apply to joined (a date property)"),
    ("status contains sub", 8, "'contains' does not apply to status (a status field)"),
    ("email greater_than a", 7, "'greater_than' does not apply to email (a string field)"),
    ("lists contains Customers", 7, "'contains' does not apply to lists (a list field)"),
    ("topics is_true", 8, "'is_true' does not apply to topics (a topic field)"),
    ("created_at equals 2020-01-01", 12, "'equals' does not apply to created_at (a date field)"),
    ("extra equals 1", 1, "'extra' is a json property; segments cannot compare json values"),
    ("age equals abc", 12, "'abc' is not a number"),
    ("age greater_than 1,5", 18, "'1,5' is not a number"),
    ("joined before 2020-13-01", 15, "'2020-13-01' is not a date (YYYY-MM-DD)"),
    ("joined after 2020-01-01T10:00:00Z", 14, "is not a date (YYYY-MM-DD)"),
    ("created_at after 2020-01-01T10:00", 18, "a time with an offset"),
    ("created_at before yesterday", 19, "'yesterday' is not a date"),
    ("status equals gone", 15, "'gone' is not a status (subscribed, unsubscribed,"),
    ("lists equals Nope", 14, "there is no list named 'Nope'"),
    ("topics not_equals Nope", 19, "there is no topic named 'Nope'"),
    (f"city equals {LONG}", 13, "a value is at most 1000 characters"),
    ("vip is_true yes", 13, "'is_true' takes no value"),
    ("city equals", 12, "'equals' needs a value"),
    ("city equals and vip is_true", 13, "'equals' needs a value; to compare with the word"),
    ("city equals New York", 17, 'quote a value that has spaces: "New York"'),
    ('"city" equals Paris', 1, "a field is a bare name"),
    ("city equals 'Paris", 13, "this quote is never closed"),
    ("(city equals a or age equals 1", 1, "this '(' is never closed"),
    ("city equals a)", 14, "this ')' has no matching '('"),
    ("(city equals a and age equals 1)", 16, "inside parentheses only 'or' joins conditions"),
    ("((city equals a))", 2, "parentheses do not nest"),
    ("city equals a and", 18, "expected a condition after 'and'"),
    ("city equals a or and vip is_true", 18, "expected a condition after 'or'"),
    ("vip is_true (age equals 1)", 13, "expected 'and', 'or' or the end, found '('"),
    ("", 1, "the expression is empty"),
    (
        "city equals a and age equals 1 or vip is_true",
        32,
        "'and' and 'or' are mixed without parentheses. It could mean "
        "city equals a and (age equals 1 or vip is_true) (OR inside the parentheses, AND "
        "between them), or (city equals a and age equals 1) or vip is_true, which is written "
        "(city equals a or vip is_true) and (age equals 1 or vip is_true)",
    ),
    (
        "vip is_true or city equals a and age equals 1",
        30,
        "It could mean (vip is_true or city equals a) and age equals 1 (OR inside the "
        "parentheses, AND between them), or vip is_true or (city equals a and age equals 1)",
    ),
]


@pytest.mark.parametrize(("where", "column", "says"), REFUSED, ids=[r[0][:40] for r in REFUSED])
def test_a_wrong_expression_is_refused_pointing_at_the_fault(
    lettr, audience, where: str, column: int, says: str
) -> None:
    result = lettr("segment", "create", "S", "--where", where, "--json")
    assert result.exit_code == 1
    error = result.error()
    assert error["error_code"] == "validation_error"
    message = error["message"]
    assert error["errors"] == {"where": [message]}
    first, quoted, marks = message.split("\n")
    assert first.startswith(f"at column {column}: ")
    assert says in first
    if len(where) <= 200:  # longer ones are quoted in part (test_segment_limits)
        assert quoted == f"    {where}"
        assert marks.index("^") == 4 + column - 1
    assert lettr("segment", "list", "--json").json() == []
    # the same refusal for a preview, as plain text on stderr
    words = lettr("segment", "preview", "--where", where)
    assert words.exit_code == 1
    assert words.stderr.startswith(f"Error [validation_error]: at column {column}: ")


def test_the_caret_underlines_the_whole_offending_word(lettr, audience) -> None:
    result = lettr("segment", "preview", "--where", "city equals Paris and age contains 3")
    _, quoted, marks = result.stderr.rstrip("\n").split("\n")
    start = marks.index("^")
    assert quoted[start : len(marks)] == "contains"


DOCUMENT_REFUSALS = [
    ("{", "not valid JSON"),
    ("[]", 'expected {"groups": [...]}'),
    ('{"groups": []}', "the groups must be a list of at least one group"),
    ('{"groups": [{"conditions": []}]}', 'groups[0] must be {"conditions": [...]}'),
    ('{"groups": [{"conditions": ["city equals a"]}]}', "groups[0].conditions[0] must be an"),
    (
        '{"groups": [{"conditions": [{"field": "city", "operater": "equals", "value": "a"}]}]}',
        "groups[0].conditions[0] has unknown keys operater",
    ),
    (
        '{"groups": [{"conditions": [{"field": "city", "operator": "equals", "value": true}]}]}',
        "groups[0].conditions[0].value must be a string, a number or null",
    ),
    (
        '{"groups": [{"conditions": [{"field": 1, "operator": "equals", "value": "a"}]}]}',
        "groups[0].conditions[0].field must be a string",
    ),
    (
        '{"groups": [{"conditions": [{"field": "vip", "operator": "is_true"}]},'
        ' {"conditions": [{"field": "city", "operator": "equal", "value": "a"}]}]}',
        'groups[1].conditions[0].operator in {"field": "city", "operator": "equal", "value": "a"}:'
        " unknown operator 'equal'; did you mean 'equals'?",
    ),
    (
        '{"groups": [{"conditions": [{"field": "cty", "operator": "equals", "value": "a"}]}]}',
        "groups[0].conditions[0].field in",
    ),
    (
        '{"groups": [{"conditions": [{"field": "vip", "operator": "is_true", "value": "x"}]}]}',
        "groups[0].conditions[0].value in",
    ),
    (
        '{"groups": [{"conditions": [{"field": "age", "operator": "equals"}]}]}',
        "'equals' needs a value",
    ),
    (
        '{"groups": [{"conditions": [{"field": "lists", "operator": "equals", "value": "x"}]}]}',
        "there is no list named 'x' (nor with that id)",
    ),
]


@pytest.mark.parametrize(("document", "says"), DOCUMENT_REFUSALS)
def test_a_wrong_conditions_file_is_refused_naming_the_place(
    lettr, audience, tmp_path: Path, document: str, says: str
) -> None:
    path = tmp_path / "conditions.json"
    path.write_text(document, encoding="utf-8")
    result = lettr("segment", "create", "S", "--conditions", str(path), "--json")
    assert result.exit_code == 1
    error = result.error()
    assert error["error_code"] == "validation_error"
    assert list(error["errors"]) == ["conditions"]
    assert error["message"].startswith(f"{path}: ")
    assert says in error["message"]
    assert lettr("segment", "list", "--json").json() == []


def test_an_edit_with_a_wrong_expression_changes_nothing(lettr, audience) -> None:
    lettr("segment", "create", "S", "--where", "vip is_true")
    before = lettr("segment", "show", "S", "--json").json()
    result = lettr("segment", "edit", "S", "--name", "T", "--where", "vip is_true and", "--json")
    assert result.error()["error_code"] == "validation_error"
    assert lettr("segment", "show", "S", "--json").json() == before


def test_refusals_show_control_characters_without_breaking_the_layout(lettr, audience) -> None:
    result = lettr("segment", "preview", "--where", "city equals 'a\nb' and x equals 1", "--json")
    message = result.error()["message"]
    _, quoted, marks = message.split("\n")
    assert quoted == "    city equals 'a·b' and x equals 1"
    assert quoted[marks.index("^")] == "x"
    assert json.loads(result.stderr)["errors"]["where"] == [message]
