"""The JSON form of segment conditions, as ``--conditions FILE.json`` gives it.

Three shapes are accepted (CONTRACT "Segment expressions"): ``{"groups": [...]}``, Lettr's create
body ``{"conditions": {"groups": [...]}}`` and the Segment object's ``{"condition_groups": [...]}``,
so that ``segment show --json`` output can be fed back in (its other keys are ignored). Each
group is ``{"conditions": [{"field", "operator", "value"}]}``; a value is a string, a number, or
null (for ``is_true`` and ``is_false``). A document of more than 100 groups or 500 conditions
is refused before its conditions are read; refusals quote at most 200 characters of a value.
"""

from __future__ import annotations

import json
from typing import Any

from lettr_cli.audience.excerpts import clipped
from lettr_cli.audience.segments.model import MAX_GROUPS, RawCondition, size_problem
from lettr_cli.errors import ValidationError

CONDITION_KEYS = frozenset({"field", "operator", "value"})
_WORD = 60  # characters of a field, operator or key a refusal quotes
_SHOWN_KEYS = 5


class DocumentSource:
    """Refusals about a JSON document: the path to the condition, and the condition itself."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, message: str) -> ValidationError:
        return ValidationError.field("conditions", f"{self.name}: {message}")

    def refuse(self, raw: RawCondition, part: str, message: str) -> ValidationError:
        shown = {
            "field": clipped(raw.field, _WORD),
            "operator": clipped(raw.operator, _WORD),
            "value": None if raw.value is None else clipped(raw.value),
        }
        written = json.dumps(shown, ensure_ascii=False)
        return self.fail(f"{raw.path}.{part} in {written}: {message}")


def parse_document(text: str, name: str) -> list[list[RawCondition]]:
    """The condition groups of a JSON document; raises ``ValidationError`` (``conditions``)."""
    source = DocumentSource(name)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise source.fail(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise source.fail("not valid JSON: nested too deeply") from None
    groups = _groups(document, source)
    if not isinstance(groups, list) or not groups:
        raise source.fail("the groups must be a list of at least one group")
    _check_size(groups, source)
    return [_group(group, f"groups[{i}]", source) for i, group in enumerate(groups)]


def _check_size(groups: list[Any], source: DocumentSource) -> None:
    conditions = sum(
        len(group["conditions"])
        for group in groups[: MAX_GROUPS + 1]
        if isinstance(group, dict) and isinstance(group.get("conditions"), list)
    )
    problem = size_problem(len(groups), conditions)
    if problem is not None:
        raise source.fail(problem)


def _groups(document: Any, source: DocumentSource) -> Any:
    if isinstance(document, dict):
        if "condition_groups" in document:
            return document["condition_groups"]
        inner = document.get("conditions")
        if isinstance(inner, dict) and "groups" in inner:
            return inner["groups"]
        if "groups" in document:
            return document["groups"]
    raise source.fail(
        'expected {"groups": [...]}, {"conditions": {"groups": [...]}} '
        'or {"condition_groups": [...]}'
    )


def _group(group: Any, path: str, source: DocumentSource) -> list[RawCondition]:
    conditions = group.get("conditions") if isinstance(group, dict) else None
    if not isinstance(conditions, list) or not conditions:
        raise source.fail(f'{path} must be {{"conditions": [...]}} with at least one condition')
    return [_condition(c, f"{path}.conditions[{j}]", source) for j, c in enumerate(conditions)]


def _condition(item: Any, path: str, source: DocumentSource) -> RawCondition:
    if not isinstance(item, dict):
        raise source.fail(f'{path} must be an object {{"field", "operator", "value"}}')
    unknown = sorted(set(item) - CONDITION_KEYS)
    if unknown:
        shown = ", ".join(clipped(key, _WORD) for key in unknown[:_SHOWN_KEYS])
        more = f" and {len(unknown) - _SHOWN_KEYS} more" if len(unknown) > _SHOWN_KEYS else ""
        raise source.fail(f"{path} has unknown keys {shown}{more} (use field, operator, value)")
    for key in ("field", "operator"):
        if not isinstance(item.get(key), str):
            raise source.fail(f"{path}.{key} must be a string")
    value = item.get("value")
    if isinstance(value, bool) or not isinstance(value, str | int | float | None):
        raise source.fail(f"{path}.value must be a string, a number or null")
    text = value if isinstance(value, str) or value is None else json.dumps(value)
    return RawCondition(item["field"], item["operator"].lower(), text, path=path)
