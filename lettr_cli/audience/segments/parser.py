"""The text form of segment conditions (CONTRACT "Segment expressions"), read and written.

    EXPR  := GROUP ("and" GROUP)*
    GROUP := COND | "(" COND ("or" COND)* ")"
    COND  := FIELD OPERATOR [VALUE]

Keywords and operators are case-insensitive. VALUE is a bare word (no white space, no
parentheses, not starting with a quote) or a quoted string, '…' or "…", in which a backslash keeps
the next character as it is. Conditions joined by ``or`` alone are one group. Mixing ``and`` and
``or`` without parentheses is refused, showing both readings. Refusals quote the expression (at
most 200 characters of it, around the fault) and underline the offending part. A segment has at
most 100 groups and 500 conditions; a bigger one is refused before anything is evaluated.
Engagement reads ``[not] opened CAMPAIGN`` as operator ``is``/``is_not``, and ``not opened_any
within 90d`` as ``not_within`` (README "Engagement"). Tokens are ``tokens``'s.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from math import prod

from lettr_cli.audience.excerpts import clipped
from lettr_cli.audience.segments.model import (
    CAMPAIGN_FIELDS,
    MAX_CONDITIONS,
    MAX_GROUPS,
    NO_VALUE,
    OPERATORS,
    RECENCY_FIELDS,
    RawCondition,
    Span,
    size_problem,
)
from lettr_cli.audience.segments.tokens import (
    CLOSE,
    OPEN,
    QUOTED,
    WORD,
    TextSource,
    Token,
    quote,
    tokenize,
)
from lettr_cli.errors import ValidationError

__all__ = ["TextSource", "condition_text", "parse", "quote", "to_text"]

_MAX_REWRITE = 8  # show the AND-first reading rewritten as groups when it takes this few
_WORD = 60  # characters of a token a message quotes (the excerpt below it shows more)


def parse(text: str) -> list[list[RawCondition]]:
    """The condition groups of ``text``; raises ``ValidationError`` (field ``where``)."""
    return _Parser(text).parse()


def to_text(groups: Sequence[Sequence[tuple[str, str, str | None]]]) -> str:
    """The text form of groups of ``(field, operator, value)``; :func:`parse` reads it back."""
    return _join_groups([[condition_text(*c) for c in group] for group in groups])


def condition_text(field: str, operator: str, value: str | None) -> str:
    if field in CAMPAIGN_FIELDS and operator in ("is", "is_not") and value is not None:
        # ``[not] opened CAMPAIGN``; a name that reads as an operator or keyword is quoted
        shown = quote(value)
        if shown == value and value.lower() in {*OPERATORS, "not"}:
            shown = f'"{value}"'
        return f"{'not ' if operator == 'is_not' else ''}{field} {shown}"
    if operator == "not_within" and value is not None:
        return f"not {field} within {quote(value)}"
    return f"{field} {operator}" if value is None else f"{field} {operator} {quote(value)}"


def _join_groups(groups: Sequence[Sequence[str]]) -> str:
    return " and ".join(g[0] if len(g) == 1 else f"({' or '.join(g)})" for g in groups)


@dataclass
class _Item:
    """One operand of the top level: a condition, or a parenthesised group of them."""

    conditions: list[RawCondition]
    span: Span  # where it starts: its condition, or its '('


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.source = TextSource(text)
        self.tokens = tokenize(text, self.source)
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token | None:
        token = self.peek()
        self.pos += token is not None
        return token

    def fail(self, where: Token | Span | None, message: str) -> ValidationError:
        if where is None:  # past the end
            where = Span(len(self.text), len(self.text) + 1)
        return self.source.at(where.span if isinstance(where, Token) else where, message)

    def parse(self) -> list[list[RawCondition]]:
        if not self.tokens:
            raise self.fail(
                Span(0, max(1, len(self.text))),
                "the expression is empty; write conditions such as: city equals Paris",
            )
        items = [self.item(None)]
        joins: list[Token] = []
        while (token := self.take()) is not None:
            if token.keyword is None:
                raise self.unexpected(token)
            joins.append(token)
            items.append(self.item(token))
        words = {join.keyword for join in joins}
        if words == {"and", "or"}:
            raise self.mixed(items, joins)
        self.check_size(items, one_group=words == {"or"})
        if words == {"or"}:
            return [[c for item in items for c in item.conditions]]
        return [item.conditions for item in items]

    def check_size(self, items: list[_Item], *, one_group: bool) -> None:
        conditions = [c for item in items for c in item.conditions]
        problem = size_problem(1 if one_group else len(items), len(conditions))
        if problem is None:
            return
        if not one_group and len(items) > MAX_GROUPS:
            raise self.fail(items[MAX_GROUPS].span, problem)
        raise self.fail(conditions[MAX_CONDITIONS].spans["condition"], problem)

    def unexpected(self, token: Token) -> ValidationError:
        if token.kind == CLOSE:
            return self.fail(token, "this ')' has no matching '('")
        return self.fail(
            token, f"expected 'and', 'or' or the end, found '{clipped(token.text, _WORD)}'"
        )

    def item(self, after: Token | None) -> _Item:
        token = self.peek()
        if token is None or token.kind == CLOSE or token.keyword:
            place = f" after '{after.text}'" if after else ""
            raise self.fail(token, f"expected a condition{place} (FIELD OPERATOR VALUE)")
        if token.kind != OPEN:
            return _Item([self.condition()], token.span)
        self.take()
        conditions = [self.condition()]
        while True:
            join = self.take()
            if join is None:
                raise self.fail(token, "this '(' is never closed")
            if join.kind == CLOSE:
                return _Item(conditions, token.span)
            if join.keyword == "and":
                raise self.fail(
                    join,
                    "inside parentheses only 'or' joins conditions; "
                    "'and' joins groups, as in (A or B) and (C or D)",
                )
            if join.keyword != "or":
                raise self.fail(join, f"expected 'or' or ')', found '{clipped(join.text, _WORD)}'")
            conditions.append(self.condition())

    def condition(self) -> RawCondition:
        field = self.take()
        if field is None or field.kind == CLOSE or field.keyword:
            raise self.fail(field, "expected a condition (FIELD OPERATOR VALUE)")
        if field.kind == OPEN:
            raise self.fail(field, "parentheses do not nest; a group is (A or B or C)")
        if field.kind == QUOTED:
            raise self.fail(field, "a field is a bare name, not a quoted string")
        engagement = self.engagement(field)
        if engagement is not None:
            return engagement
        operator = self.take()
        if operator is None or not operator.is_value:
            raise self.fail(operator, f"expected an operator after '{clipped(field.text, _WORD)}'")
        name = operator.text.lower()
        if operator.kind != WORD or name not in OPERATORS:
            raise self.fail(operator, _unknown_operator(operator.text))
        spans = {"field": field.span, "operator": operator.span}
        value: str | None = None
        last = operator
        if name not in NO_VALUE:
            token = self.take()
            if token is None or not token.is_value:
                hint = f"; to compare with the word '{token.text}', quote it" if token else ""
                raise self.fail(token, f"'{name}' needs a value{hint}")
            value, spans["value"], last = token.text, token.span, token
        following = self.peek()
        if following is not None and following.is_value:
            if value is None:
                raise self.fail(following, f"'{name}' takes no value")
            hint = ""
            if last.kind == WORD and following.kind == WORD:
                spaced = quote(self.slice(last, following))
                hint = f"; quote a value that has spaces: {clipped(spaced, _WORD)}"
            found = clipped(following.text, _WORD)
            raise self.fail(following, f"expected 'and', 'or' or the end, found '{found}'{hint}")
        spans["condition"] = Span(field.span.start, last.span.end)
        return RawCondition(field.text, name, value, spans=spans)

    def engagement(self, first: Token) -> RawCondition | None:
        """``[not] opened|clicked|received CAMPAIGN``, read as operator ``is`` or ``is_not``;
        None when ``first`` does not start one (``opened is X`` is read as FIELD OPERATOR VALUE).
        """
        negated = first.text.lower() == "not"
        field = self.peek() if negated else first
        if negated and field is not None and field.text.lower() in RECENCY_FIELDS:
            return self.not_within(first)
        if field is None or field.kind != WORD or field.text.lower() not in CAMPAIGN_FIELDS:
            if negated:
                fields = " or ".join(sorted(CAMPAIGN_FIELDS | RECENCY_FIELDS))
                raise self.fail(field or first, f"expected {fields} after 'not'")
            return None
        following = (
            self.tokens[self.pos + negated] if self.pos + negated < len(self.tokens) else None
        )
        if following is not None and following.kind == WORD and following.text.lower() in OPERATORS:
            if negated:
                raise self.fail(following, f"write 'not {field.text} CAMPAIGN'")
            return None
        if negated:
            self.take()
        value = self.take()
        if value is None or not value.is_value:
            raise self.fail(value, f"'{field.text}' needs a campaign: its name (quoted) or id")
        after = self.peek()
        if after is not None and after.is_value:
            hint = f"; quote a name that has spaces: {clipped(quote(self.slice(value, after)))}"
            raise self.fail(
                after,
                f"expected 'and', 'or' or the end, found '{clipped(after.text, _WORD)}'{hint}",
            )
        spans = {
            "field": field.span,
            "operator": first.span if negated else field.span,
            "value": value.span,
            "condition": Span(first.span.start, value.span.end),
        }
        operator = "is_not" if negated else "is"
        return RawCondition(field.text, operator, value.text, spans=spans)

    def not_within(self, first: Token) -> RawCondition:
        """``not opened_any|clicked_any within Nd``: operator ``not_within``."""
        raw = self.condition()
        if raw.operator != "within":
            raise self.fail(raw.spans["operator"], f"write 'not {raw.field} within 90d'")
        spans = {**raw.spans, "condition": Span(first.span.start, raw.spans["condition"].end)}
        return RawCondition(raw.field, "not_within", raw.value, spans=spans)

    def slice(self, first: Token, last: Token) -> str:
        return self.text[first.span.start : last.span.end]

    def written(self, condition: RawCondition) -> str:
        span = condition.spans["condition"]
        return self.text[span.start : span.end]

    def mixed(self, items: list[_Item], joins: list[Token]) -> ValidationError:
        """Both readings of ``A and B or C``: OR first (segment groups) and AND first."""
        clauses = [[self.written(c) for c in item.conditions] for item in items]
        or_first: list[list[str]] = [list(clauses[0])]
        and_first: list[list[list[str]]] = [[clauses[0]]]
        for join, clause in zip(joins, clauses[1:], strict=True):
            if join.keyword == "and":
                or_first.append(list(clause))
                and_first[-1].append(clause)
            else:
                or_first[-1].extend(clause)
                and_first.append([clause])
        terms = [" and ".join(_join_groups([c]) for c in term) for term in and_first]
        reading = " or ".join(
            f"({t})" if len(term) > 1 else t for t, term in zip(terms, and_first, strict=True)
        )
        if prod(len(term) for term in and_first) <= _MAX_REWRITE:
            rewritten = [
                list(dict.fromkeys(c for clause in pick for c in clause))
                for pick in product(*and_first)
            ]
            reading += f", which is written {_join_groups(rewritten)}"
        first_other = next(j for j in joins if j.keyword != joins[0].keyword)
        return self.fail(
            first_other,
            "'and' and 'or' are mixed without parentheses. It could mean "
            f"{clipped(_join_groups(or_first))} (OR inside the parentheses, AND between them), "
            f"or {clipped(reading)}. Write the one you mean with parentheses",
        )


def _unknown_operator(text: str) -> str:
    close = difflib.get_close_matches(text.lower(), list(OPERATORS), n=1)
    shown = clipped(text, _WORD)
    if close:
        return f"unknown operator '{shown}'; did you mean '{close[0]}'?"
    return f"unknown operator '{shown}'; operators are: {', '.join(OPERATORS)}"
