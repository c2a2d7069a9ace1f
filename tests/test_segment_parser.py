"""The text form of segments: what it reads, how it prints, and that printing reads back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lettr_cli.audience.segments.parser import parse, quote, to_text
from lettr_cli.errors import ValidationError


def triples(text: str) -> list[list[tuple[str, str, str | None]]]:
    return [[(c.field, c.operator, c.value) for c in group] for group in parse(text)]


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("city equals Paris", [[("city", "equals", "Paris")]]),
        (
            "(city equals Paris or city equals 'New York') and vip is_true",
            [
                [("city", "equals", "Paris"), ("city", "equals", "New York")],
                [("vip", "is_true", None)],
            ],
        ),
        # keywords and operators in any case; fields as written
        (
            "Email ENDS_WITH .org AND vip Is_False",
            [[("Email", "ends_with", ".org")], [("vip", "is_false", None)]],
        ),
        # `or` alone is one group, with or without parentheses
        (
            "a equals 1 or b equals 2 OR c equals 3",
            [[("a", "equals", "1"), ("b", "equals", "2"), ("c", "equals", "3")]],
        ),
        ("(a equals 1) or (b equals 2)", [[("a", "equals", "1"), ("b", "equals", "2")]]),
        (
            "(a equals 1) and (b equals 2 or c equals 3)",
            [[("a", "equals", "1")], [("b", "equals", "2"), ("c", "equals", "3")]],
        ),
        # quotes: either kind, backslash escapes, a quote inside a bare word
        ("name equals 'O\\'Neil'", [[("name", "equals", "O'Neil")]]),
        ('name equals "say \\"hi\\" \\\\ bye"', [[("name", "equals", 'say "hi" \\ bye')]]),
        ("name equals O'Neil", [[("name", "equals", "O'Neil")]]),
        ("name equals ''", [[("name", "equals", "")]]),
        ("name equals 'and'", [[("name", "equals", "and")]]),
        # white space of any kind between tokens; none needed around parentheses
        (
            "(a equals x\tor\nb equals y)and c is_true",
            [[("a", "equals", "x"), ("b", "equals", "y")], [("c", "is_true", None)]],
        ),
        ("properties.city contains ü", [[("properties.city", "contains", "ü")]]),
    ],
)
def test_what_the_text_form_reads(text: str, groups) -> None:
    assert triples(text) == groups


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("Paris", "Paris"),
        ("Zürich", "Zürich"),
        ("2026-01-01T09:00:00+01:00", "2026-01-01T09:00:00+01:00"),
        ("New York", '"New York"'),
        ("", '""'),
        ("AND", '"AND"'),
        ("or", '"or"'),
        ("O'Neil", '"O\'Neil"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("a\\b", '"a\\\\b"'),
        ("(x)", '"(x)"'),
        ("tab\there", '"tab\there"'),
    ],
)
def test_values_are_quoted_only_when_needed(value: str, written: str) -> None:
    assert quote(value) == written


def test_groups_print_with_parentheses_only_around_alternatives() -> None:
    groups = [
        [("city", "equals", "Paris"), ("city", "equals", "New York")],
        [("vip", "is_true", None)],
    ]
    assert to_text(groups) == '(city equals Paris or city equals "New York") and vip is_true'


values = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)


@settings(max_examples=300)
@given(st.lists(st.lists(values, min_size=1, max_size=3), min_size=1, max_size=3))
def test_any_value_prints_and_reads_back(value_groups: list[list[str]]) -> None:
    groups = [[("city", "contains", v) for v in group] for group in value_groups]
    assert triples(to_text(groups)) == groups


def refusal(text: str) -> ValidationError | None:
    try:
        parse(text)
    except ValidationError as error:
        return error
    return None


pieces = st.sampled_from([*"ab ()'\"\\", "and", "or", "x equals", "is_true"])


@settings(max_examples=300)
@given(st.lists(pieces).map("".join))
def test_any_text_is_read_or_refused_with_a_column(text: str) -> None:
    error = refusal(text)
    if error is not None:
        assert error.errors == {"where": [error.message]}
        assert error.message.startswith("at column ")
