"""The JSON form of segment conditions, as ``--conditions FILE.json`` gives it.

Three shapes are accepted (CONTRACT "Segment expressions"): ``{"groups": [...]}``, Lettr's create
body ``{"conditions": {"groups": [...]}}`` and the Segment object's ``{"condition_groups": [...]}``,
so that ``segment show --json`` output can be fed back in (its other keys are ignored). Each
group is ``{"conditions": [{"field", "operator", "value"}]}``; a value is a string, a number, or
null (for ``is_true`` and ``is_false``).
"""

from __future__ import annotations

import json
from typing import Any

from lettr_cli.audience.segments.model import RawCondition
from lettr_cli.errors import ValidationError

CONDITION_KEYS = frozenset({"field", "operator", "value"})


class DocumentSource:
    """Refusals about a JSON document: the path to the condition, and the condition itself."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, message: str) -> ValidationError:
        return ValidationError.field("conditions", f"{self.name}: {message}")

    def refuse(self, raw: RawCondition, part: str, message: str) -> ValidationError:
        written = json.dumps(
            {"field": raw.field, "operator": raw.operator, "value": raw.value}, ensure_ascii=False
        )
        return self.fail(f"{raw.path}.{part} in {written}: {message}")


def parse_document(text: str, name: str) -> list[list[RawCondition]]:
    """The condition groups of a JSON document; raises ``ValidationError`` (``conditions``)."""
    source = DocumentSource(name)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise source.fail(f"not valid JSON: {exc}") from None
    groups = _groups(document, source)
    if not isinstance(groups, list) or not groups:
        raise source.fail("the groups must be a list of at least one group")
    return [_group(group, f"groups[{i}]", source) for i, group in enumerate(groups)]


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
        raise source.fail(
            f"{path} has unknown keys {', '.join(unknown)} (use field, operator, value)"
        )
    for key in ("field", "operator"):
        if not isinstance(item.get(key), str):
            raise source.fail(f"{path}.{key} must be a string")
    value = item.get("value")
    if isinstance(value, bool) or not isinstance(value, str | int | float | None):
        raise source.fail(f"{path}.value must be a string, a number or null")
    text = value if isinstance(value, str) or value is None else json.dumps(value)
    return RawCondition(item["field"], item["operator"].lower(), text, path=path)
