"""Size bounds for Jinja's filters (see ``bounds``): each filter's value is measured when the
filter prints it, its size arguments are checked before the call, and its result after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lettr_cli.content.bounds import (
    MAX_DEPTH,
    MAX_SEQUENCE,
    MAX_VALUE,
    MAX_WIDTH,
    argument,
    check_percent,
    check_printed,
    check_result,
    refuse,
    replaced_size,
    shown,
    text_size,
    too_large,
)
from lettr_cli.content.missing import plain

# -- filters -----------------------------------------------------------------------------------

# Filters that turn their value into text: a container is measured first.
PRINTING = frozenset(
    [
        "capitalize",
        "center",
        "e",
        "escape",
        "forceescape",
        "format",
        "indent",
        "lower",
        "pprint",
        "replace",
        "safe",
        "string",
        "striptags",
        "title",
        "tojson",
        "trim",
        "truncate",
        "upper",
        "urlencode",
        "urlize",
        "wordcount",
        "wordwrap",
        "xmlattr",
    ]
)

Check = Callable[[list[Any], dict[str, Any]], list[Any]]


def _center(rest: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    width = argument(rest, kwargs, 1, "width")
    if isinstance(width, int) and width > MAX_WIDTH:
        raise refuse(f"center({shown(width)}): a width over {MAX_WIDTH} is not allowed")
    return rest


def _indent(rest: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    width = argument(rest, kwargs, 1, "width")
    size = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    if size > MAX_WIDTH:
        raise refuse(f"indent({shown(width)}): a width over {MAX_WIDTH} is not allowed")
    text = str(plain(rest[0])) if rest else ""
    total = len(text) + (text.count("\n") + 1) * size
    if total > MAX_VALUE:
        raise too_large(f"indent({shown(width)})", total)
    return rest


def _replace(rest: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    old, new = argument(rest, kwargs, 1, "old"), argument(rest, kwargs, 2, "new")
    count = argument(rest, kwargs, 3, "count")
    text = plain(rest[0]) if rest else ""
    total = replaced_size(str(text), str(old), str(new), count)
    if total > MAX_VALUE:
        raise too_large(f"replace({shown(old)}, {shown(new)})", total)
    return rest


def _join(rest: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    if not rest:
        return rest
    items = list(plain(rest[0]))
    separator = argument(rest, kwargs, 1, "d") or ""
    total = len(str(separator)) * max(len(items) - 1, 0) + sum(text_size(i) for i in items)
    if total > MAX_VALUE:
        raise too_large(f"join({shown(separator)})", total)
    return [items, *rest[1:]]


def _wordwrap(rest: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    separator = argument(rest, kwargs, 4, "wrapsep")
    text = str(plain(rest[0])) if rest else ""
    total = len(text) * (1 + len(str(separator or "\n")))
    if separator is not None and total > MAX_VALUE:
        raise too_large(f"wordwrap(wrapsep={shown(separator)})", total)
    return rest


def _format(rest: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    if rest:
        check_percent(str(plain(rest[0])), kwargs or tuple(rest[1:]))
    return rest


def _tojson(rest: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    indent = argument(rest, kwargs, 1, "indent")
    size = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    total = text_size(rest[0] if rest else None) * (1 + size * MAX_DEPTH)
    if size > MAX_WIDTH or total > MAX_VALUE:
        raise too_large(f"tojson({shown(indent)})", total)
    return rest


def _pprint(rest: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    total = text_size(rest[0] if rest else None) * (1 + MAX_DEPTH)
    if total > MAX_VALUE:
        raise too_large("pprint", total)
    return rest


def _count(position: int, name: str) -> Check:
    def check(rest: list[Any], kwargs: dict[str, Any]) -> list[Any]:
        count = argument(rest, kwargs, position, name)
        if isinstance(count, int) and count > MAX_SEQUENCE:
            raise too_large(f"{name} {count}", count, MAX_SEQUENCE)
        return rest

    return check


def _sum(rest: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    start = argument(rest, kwargs, 2, "start")
    if not rest or start is None or isinstance(start, int | float):
        return rest
    items = list(plain(rest[0]))
    total = len(start) + sum(len(i) for i in items if isinstance(i, list | tuple))
    if total > MAX_SEQUENCE:
        raise too_large("sum", total, MAX_SEQUENCE)
    return [items, *rest[1:]]


def _urlize(rest: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    text = str(plain(rest[0])) if rest else ""
    extra = sum(
        len(str(argument(rest, kwargs, i, n) or "")) for i, n in ((3, "target"), (4, "rel"))
    )
    links = sum(1 for word in text.split() if any(mark in word for mark in ".:@"))
    total = 3 * len(text) + links * (80 + extra)
    if total > MAX_VALUE:
        raise too_large("urlize", total)
    return rest


FILTER_CHECKS: dict[str, Check] = {
    "center": _center,
    "indent": _indent,
    "replace": _replace,
    "join": _join,
    "wordwrap": _wordwrap,
    "format": _format,
    "tojson": _tojson,
    "pprint": _pprint,
    "batch": _count(1, "linecount"),
    "slice": _count(1, "slices"),
    "sum": _sum,
    "urlize": _urlize,
}


def bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (a Jinja filter) with its value measured, its size arguments checked
    before the call and its result checked after."""
    passes = getattr(function, "jinja_pass_arg", None)
    skip = 0 if passes is None else 1
    check = FILTER_CHECKS.get(name)

    def bounded(*args: Any, **kwargs: Any) -> Any:
        head, rest = list(args[:skip]), list(args[skip:])
        if rest and name in PRINTING and not isinstance(plain(rest[0]), str):
            check_printed(rest[0], f"the '{name}' filter")
        if check is not None:
            rest = check(rest, kwargs)
        return check_result(function(*head, *rest, **kwargs), f"the '{name}' filter")

    if passes is not None:
        bounded.jinja_pass_arg = passes  # type: ignore[attr-defined]
    bounded.__name__ = getattr(function, "__name__", name)
    return bounded
