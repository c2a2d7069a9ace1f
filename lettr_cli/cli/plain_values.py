"""Command-line values that need no pydantic: text, flags, whole numbers in range, lists of text.

Typer converts each parameter's value through a pydantic ``TypeAdapter`` built on first use;
importing pydantic and building the adapters costs a tenth of a second at every start, which a
command like `lettr config get smtp.host` pays for nothing (issue 18, "Start-up"). Here the
values whose conversion cannot fail or differ (a text is itself, ``--limit 50`` is 50 when in
range) are converted directly; every other value, and every value that would be refused, goes to
typer's own conversion, so results and error messages stay typer's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, get_args, get_origin

_UNSURE = object()
_DIGITS = re.compile(r"[0-9]{1,18}")

try:  # typer's conversion layer (typer >= 0.20); without it typer converts everything itself
    from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
except ImportError:  # pragma: no cover (another typer)
    RuntimeParam = None  # type: ignore[assignment,misc]


def plain_values(params: list[Any]) -> list[Any]:
    """Give each parameter with a plain type the direct conversion; returns ``params``."""
    if RuntimeParam is None:  # pragma: no cover
        return params
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if not isinstance(descriptor, TypeDescriptor) or getattr(param, "_runtime_param", True):
            continue
        if descriptor.parameter_info.parser is None and _is_plain(descriptor.annotation):
            param._runtime_param = _PlainValue(
                parameter_info=descriptor.parameter_info,
                annotation=descriptor.annotation,
                descriptor=descriptor,
            )
    return params


def _is_plain(annotation: Any) -> bool:
    if annotation in (str, int, bool):
        return True
    return get_origin(annotation) is list and get_args(annotation) == (str,)


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _PlainValue(RuntimeParam):
        descriptor: TypeDescriptor

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            converted = _convert(self.descriptor, value)
            if converted is not _UNSURE:
                return converted
            # Anything else is typer's to convert, or to refuse with its own message.
            typer_own = build_runtime_param(self.descriptor)
            return typer_own._coerce_value(value, param=param, ctx=ctx)


def _convert(descriptor: Any, value: Any) -> Any:
    annotation = descriptor.annotation
    if annotation in (str, bool):
        return value if type(value) is annotation else _UNSURE
    if annotation is int:
        return _whole_number(descriptor.parameter_info, value)
    if isinstance(value, list | tuple) and all(type(item) is str for item in value):
        return list(value)
    return _UNSURE


def _whole_number(info: Any, value: Any) -> Any:
    if getattr(info, "clamp", False):
        return _UNSURE
    if type(value) is int:
        number = value
    elif type(value) is str and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return _UNSURE
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        return _UNSURE  # refused by typer, in its words
    return number
