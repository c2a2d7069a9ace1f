"""Segment size limits (100 groups, 500 conditions), and refusals that quote little of the input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.store_templates import build_template
from tests.test_segment_commands import build_audience

GROUP = "(city equals a or city equals b)"
LONG = "x" * 120_000
MOST_ECHOED = 200


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory, "segment-limits", build_audience)


def text(groups: int, per_group: int) -> str:
    group = " or ".join(f"city equals c{i}" for i in range(per_group))
    return " and ".join([f"({group})" if per_group > 1 else group] * groups)


def document(groups: int, per_group: int) -> str:
    condition = {"field": "city", "operator": "equals", "value": "c"}
    group = {"conditions": [condition] * per_group}
    return json.dumps({"groups": [group] * groups})


def test_a_thousand_groups_are_refused_before_evaluation(lettr, audience) -> None:
    where = " and ".join([GROUP] * 1000)
    for command in (["segment", "preview"], ["segment", "create", "Big"]):
        result = lettr(*command, "--where", where, "--json")
        assert result.exit_code == 1
        error = result.error()
        assert error["error_code"] == "validation_error"
        assert "a segment has at most 100 groups" in error["message"]
        assert "this one has 1000" in error["message"]
        assert len(error["message"]) < 600
    plain = lettr("segment", "preview", "--where", where)
    assert plain.stderr.startswith("Error [validation_error]: at column 3701: ")
    assert lettr("segment", "list", "--json").json() == []


LIMITS = [
    (101, 1, "at most 100 groups; this one has 101"),
    (1, 501, "at most 500 conditions; this one has 501"),
    (100, 6, "at most 500 conditions; this one has 600"),
    (1000, 2, "at most 100 groups; this one has 1000"),
]


@pytest.mark.parametrize(("groups", "per_group", "says"), LIMITS)
def test_the_limits_are_stated_for_text_and_documents(
    lettr, audience, tmp_path: Path, groups: int, per_group: int, says: str
) -> None:
    result = lettr("segment", "create", "S", "--where", text(groups, per_group), "--json")
    assert result.error()["error_code"] == "validation_error"
    assert says in result.error()["message"]
    path = tmp_path / "big.json"
    path.write_text(document(groups, per_group), encoding="utf-8")
    result = lettr("segment", "create", "S", "--conditions", str(path), "--json")
    error = result.error()
    assert error["error_code"] == "validation_error"
    assert list(error["errors"]) == ["conditions"]
    assert error["message"].startswith(f"{path}: ")
    assert says in error["message"]
    assert lettr("segment", "list", "--json").json() == []


# Every group true for everyone, with negations and memberships: the deepest SQL there is.
FILLER = (
    "(city not_contains zz or city not_starts_with q or age less_than 0"
    " or lists not_equals Press or email ends_with .org)"
)
LAST = (
    "(vip is_true or age equals 17 or city equals nowhere or status equals bounced"
    " or topics equals News)"
)


def test_a_hundred_groups_of_five_work_end_to_end(lettr, audience, tmp_path: Path) -> None:
    where = " and ".join([FILLER] * 99 + [LAST])
    created = lettr("segment", "create", "Largest", "--where", where, "--json")
    assert created.exit_code == 0, created.stderr
    body = created.json()
    assert len(body["condition_groups"]) == 100
    assert sum(len(g["conditions"]) for g in body["condition_groups"]) == 500
    assert body["contacts_count"] == 2
    assert sorted(body["sample"]) == ["ann@example.com", "bob@example.org"]
    preview = lettr("segment", "preview", "--where", where, "--list", "Customers", "--json")
    assert preview.json()["count"] == 2
    path = tmp_path / "largest.json"
    path.write_text(lettr("segment", "show", "Largest", "--json").stdout, encoding="utf-8")
    again = lettr("segment", "preview", "--conditions", str(path), "--json")
    assert again.json()["count"] == 2
    listed = lettr("contact", "list", "--segment", "Largest", "--json")
    assert sorted(c["email"] for c in listed.json()) == ["ann@example.com", "bob@example.org"]


def test_one_group_of_five_hundred_works_end_to_end(lettr, audience) -> None:
    where = " or ".join([f"city not_equals c{i}" for i in range(499)] + ["city equals PARIS"])
    created = lettr("segment", "create", "Wide", "--where", where, "--json")
    assert created.exit_code == 0, created.stderr
    assert created.json()["contacts_count"] == 3  # every not_equals holds for everyone
    narrow = " or ".join([f"city equals c{i}" for i in range(499)] + ["city equals PARIS"])
    preview = lettr("segment", "preview", "--where", narrow, "--json")
    assert preview.json() == {"count": 1, "sample": ["cy@example.net"]}


def assert_short(message: str, filler: str = "x") -> None:
    assert filler * (MOST_ECHOED + 1) not in message
    assert len(message) < 2000


TEXT_ECHOES = [
    (f"city equals {LONG}", "a value is at most 1000 characters"),
    (f"{LONG} equals a", "unknown field 'xxx"),
    (f"city {LONG} a", "unknown operator 'xxx"),
    (f"city equals 'a and {LONG}", "this quote is never closed"),
    (f"city equals a {LONG}", "expected 'and', 'or' or the end, found 'xxx"),
    (f"city equals a {LONG} b", "quote a value that has spaces"),
    (f"city equals {LONG} and age equals 1 or vip is_true", "are mixed without parentheses"),
    (f"age equals 1{'x' * 999}", "is not a number"),
    (f"lists equals {'x' * 999}", "there is no list named 'xxx"),
    (f"{'(city equals a) and ' * 99}cty equals {LONG}", "unknown field 'cty'"),
]


@pytest.mark.parametrize(("where", "says"), TEXT_ECHOES, ids=[w[:30] for w, _ in TEXT_ECHOES])
def test_a_refusal_quotes_at_most_200_characters_of_the_expression(
    lettr, audience, where: str, says: str
) -> None:
    result = lettr("segment", "preview", "--where", where, "--json")
    error = result.error()
    assert error["error_code"] == "validation_error"
    message = error["message"]
    assert says in message
    assert_short(message)
    first, quoted, marks = message.split("\n")
    assert "…" in quoted
    column = int(first.removeprefix("at column ").split(":")[0])
    # the caret still points at the offending part, inside the excerpt
    start = marks.index("^")
    assert quoted[start:].startswith(where[column - 1 : column + 2])
    plain = lettr("segment", "preview", "--where", where)
    assert_short(plain.stderr)


DOCUMENT_ECHOES = [
    {"field": LONG, "operator": "equals", "value": "a"},
    {"field": "city", "operator": LONG, "value": "a"},
    {"field": "city", "operator": "equals", "value": LONG},
    {"field": "city", "operator": "equals", "value": "a", LONG: 1},
    {"field": "age", "operator": "equals", "value": "1" + "x" * 999},
]


@pytest.mark.parametrize("condition", DOCUMENT_ECHOES, ids=range(len(DOCUMENT_ECHOES)))
def test_a_document_refusal_quotes_at_most_200_characters(
    lettr, audience, tmp_path: Path, condition: dict[str, object]
) -> None:
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"groups": [{"conditions": [condition]}]}), encoding="utf-8")
    result = lettr("segment", "create", "S", "--conditions", str(path), "--json")
    error = result.error()
    assert error["error_code"] == "validation_error"
    assert error["message"].startswith(f"{path}: groups[0].conditions[0]")
    assert_short(error["message"])
