"""Size bounds for everything a template can make (DESIGN "Messages").

A template may not make any one value larger than ``MAX_VALUE`` characters (or items), and the
check comes before the work wherever the size depends on an argument: widths and repetitions
(``zfill``, ``ljust``, ``center``, ``expandtabs``, ``%``-formats, ``*``...), replacements,
joins, and the text of a container about to be printed. Operations whose result is at most a
small multiple of their inputs are checked after. Together these keep a render within a few
tens of megabytes whatever the template; every refusal is a ``validation_error`` that names
the expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from lettr_cli.content.missing import plain
from lettr_cli.errors import ValidationError

MAX_VALUE = 1_000_000  # characters (or items) any one value may reach
MAX_SEQUENCE = 100_000  # characters or items that * may build
MAX_POWER_BITS = 4096  # size of an integer that ** may build
MAX_INT_BITS = 8192  # size of an integer that * may build
MAX_WIDTH = 10_000  # padding widths and precisions (center, zfill, indent, %-formats...)
MAX_DEPTH = 64  # nesting of containers that may be printed
_PERCENT = re.compile(r"%(\([^)]*\))?[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?(.?)", re.DOTALL)
_NESTED_KEY = re.compile(r"%\([^)]*\(")
_TEXT = (str, bytes, bytearray)


class RenderRefused(ValidationError):
    """A template that the sandbox stopped; the message says what it tried and where."""

    in_field: str | None = None


def refuse(message: str, field: str | None = None) -> RenderRefused:
    refused = RenderRefused(message, errors={field or "template": [message]})
    refused.in_field = field
    return refused


def shown(value: Any) -> str:
    """A short form of ``value`` for a message."""
    text = repr(plain(value))
    return text if len(text) <= 24 else text[:20] + "…" + text[-3:]


def call_text(name: str, args: Iterable[Any], kwargs: Mapping[str, Any]) -> str:
    parts = [shown(a) for a in args] + [f"{k}={shown(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def too_large(what: str, size: int, limit: int = MAX_VALUE) -> RenderRefused:
    return refuse(f"{what} would make about {size:,} characters or items; at most {limit:,}")


# -- the printed size of a value ---------------------------------------------------------------


def text_size(value: Any) -> int:
    """An upper bound for ``len(str(value))``; stops counting past ``MAX_VALUE``."""
    value = plain(value)
    if isinstance(value, _TEXT):
        return len(value)
    return _Sizer().size(value, 0)


class _Sizer:
    def __init__(self) -> None:
        self.seen: dict[int, int] = {}

    def size(self, value: Any, depth: int) -> int:
        value = plain(value)
        if isinstance(value, str):
            return 10 * len(value) + 3  # repr: a character may become \U0001f600
        if isinstance(value, bytes | bytearray):
            return 4 * len(value) + 3
        if value is None or isinstance(value, bool | float):
            return 32
        if isinstance(value, int):
            return value.bit_length() // 3 + 2
        key = id(value)
        if key in self.seen:
            return self.seen[key]
        if depth > MAX_DEPTH:
            raise refuse(f"a value is nested more than {MAX_DEPTH} levels deep")
        self.seen[key] = 0  # a container that holds itself prints as [...]
        total = 2
        for item in _parts(value):
            total += self.size(item, depth + 1) + 2
            if total > MAX_VALUE:
                break
        self.seen[key] = total
        return total


def _parts(value: Any) -> Iterable[Any]:
    from jinja2.utils import Namespace

    if isinstance(value, Mapping):
        return [part for item in value.items() for part in item]
    if isinstance(value, list | tuple | set | frozenset | type({}.keys()) | type({}.values())):
        return value
    if isinstance(value, type({}.items())):
        pairs: Iterable[tuple[Any, Any]] = value
        return [part for pair in pairs for part in pair]
    if isinstance(value, Namespace):
        return [object.__getattribute__(value, "_Namespace__attrs")]
    return ()  # functions, loops, cyclers, ranges...: short reprs


def check_printed(value: Any, what: str) -> None:
    """Refuse to turn a container into text when that text would be too large."""
    size = text_size(value)
    if size > MAX_VALUE:
        raise too_large(what, size)


def check_result(value: Any, what: str) -> Any:
    """``value``, unless it is text larger than ``MAX_VALUE`` (made by a linear operation)."""
    if isinstance(value, _TEXT) and len(value) > MAX_VALUE:
        raise too_large(what, len(value))
    return value


def bounded_concat(pieces: Iterable[Any]) -> list[Any]:
    """The pieces of a ``~`` or a captured block, checked before they are joined."""
    items = list(pieces)
    total = sum(text_size(item) for item in items)
    if total > MAX_VALUE:
        raise too_large("joining text", total)
    return items


class Buffer(list[str]):
    """A list of output pieces that refuses to grow past ``MAX_VALUE`` characters."""

    size = 0

    def append(self, piece: str) -> None:
        self._grow(len(piece))
        super().append(piece)

    def extend(self, pieces: Iterable[str]) -> None:
        items = list(pieces)
        self._grow(sum(len(piece) for piece in items))
        super().extend(items)

    def _grow(self, size: int) -> None:
        self.size += size
        if self.size > MAX_VALUE:
            raise too_large("the output of a block or macro", self.size)


# -- operators ---------------------------------------------------------------------------------


def check_add(left: Any, right: Any) -> None:
    texts = isinstance(left, _TEXT) and isinstance(right, _TEXT)
    lists = isinstance(left, list | tuple) and isinstance(right, list | tuple)
    if texts and len(left) + len(right) > MAX_VALUE:
        raise too_large(f"{shown(left)} + {shown(right)}", len(left) + len(right))
    if lists and len(left) + len(right) > MAX_SEQUENCE:
        raise too_large("adding lists", len(left) + len(right), MAX_SEQUENCE)


def check_multiply(left: Any, right: Any) -> None:
    for sequence, count in ((left, right), (right, left)):
        repeats = isinstance(sequence, (*_TEXT, list, tuple)) and isinstance(count, int)
        if repeats and len(sequence) * count > MAX_SEQUENCE:
            raise refuse(
                f"{shown(sequence)} * {count}: repeating a value {count} times is too large "
                "for a template"
            )
    numbers = isinstance(left, int) and isinstance(right, int)
    if numbers and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise refuse(f"{shown(left)} * {shown(right)} is too large a number for a template")


def check_power(left: Any, right: Any) -> None:
    import math

    if isinstance(left, int | float) and isinstance(right, int | float):
        magnitude = abs(left)
        if magnitude > 1 and right > 0 and right * math.log2(magnitude) > MAX_POWER_BITS:
            raise refuse(f"{left} ** {right} is too large a number for a template")


def check_percent(pattern: Any, args: Any) -> None:
    """``pattern % args``: every width and precision bounded, and the whole result."""
    if not isinstance(pattern, _TEXT):
        return
    text = pattern if isinstance(pattern, str) else pattern.decode("latin-1")
    if _NESTED_KEY.search(text):
        raise refuse(f"the format {shown(pattern)} has a key with parentheses")
    growth = 0
    for found in _PERCENT.finditer(text):
        for number in (found.group(2), found.group(3)):
            if number == "*" or (number and int(number) > MAX_WIDTH):
                raise refuse(
                    f"the format {shown(pattern)}: a width over {MAX_WIDTH} is not allowed "
                    "(%-format width or precision)"
                )
            growth += int(number or 0)
    factor = 6 if hasattr(pattern, "__html__") else 1  # Markup escapes what it formats
    total = len(pattern) + growth + factor * text_size(args)
    if total > MAX_VALUE:
        raise too_large(f"the format {shown(pattern)}", total)


# -- str, bytes and int methods ----------------------------------------------------------------


def argument(args: list[Any], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    if len(args) > index:
        return plain(args[index])
    return plain(kwargs.get(name))


def check_method(method: Any, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """Refuse a call of a str, bytes or int method that would build too much; the arguments
    to call it with (an iterable that ``join`` reads is read once, here)."""
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if isinstance(owner, _TEXT):
        return _check_text_method(owner, name, args, kwargs)
    if isinstance(owner, int) and name == "to_bytes":
        length = argument(args, kwargs, 0, "length")
        if isinstance(length, int) and length > MAX_WIDTH:
            raise refuse(f"{call_text(name, args, kwargs)}: a length over {MAX_WIDTH}")
    return args


def _check_text_method(
    owner: str | bytes | bytearray, name: str, args: list[Any], kwargs: dict[str, Any]
) -> list[Any]:
    what = f"{shown(owner)}.{call_text(name, args, kwargs)}"
    if name in {"center", "ljust", "rjust", "zfill"}:
        width = argument(args, kwargs, 0, "width")
        if isinstance(width, int) and width > MAX_WIDTH:
            raise refuse(f"{what}: a width over {MAX_WIDTH} is not allowed")
    elif name == "expandtabs":
        size = argument(args, kwargs, 0, "tabsize")
        size = 8 if size is None else size
        if isinstance(size, int) and size > 0:
            tab = "\t" if isinstance(owner, str) else b"\t"
            total = len(owner) + owner.count(tab) * size  # type: ignore[arg-type]
            if size > MAX_WIDTH or total > MAX_VALUE:
                raise too_large(what, total)
    elif name == "replace":
        old, new = argument(args, kwargs, 0, "old"), argument(args, kwargs, 1, "new")
        count = argument(args, kwargs, 2, "count")
        total = replaced_size(owner, old, new, count)
        if total > MAX_VALUE:
            raise too_large(what, total)
    elif name == "join" and args:
        items = [plain(item) for item in args[0]]
        total = len(owner) * max(len(items) - 1, 0) + sum(text_size(i) for i in items)
        if total > MAX_VALUE:
            raise too_large(f"{shown(owner)}.join(…)", total)
        return [items, *args[1:]]
    elif name == "translate" and isinstance(owner, str) and args:
        table = plain(args[0])
        values = table.values() if isinstance(table, Mapping) else table
        longest = max((len(v) for v in values if isinstance(v, str)), default=1)
        if len(owner) * longest > MAX_VALUE:
            raise too_large(what, len(owner) * longest)
    return args


def replaced_size(text: Any, old: Any, new: Any, count: Any) -> int:
    """The length of ``text.replace(old, new, count)``, worked out without doing it."""
    if not (isinstance(text, _TEXT) and isinstance(old, _TEXT) and isinstance(new, _TEXT)):
        return 0
    if type(old) is not type(new) or isinstance(text, str) != isinstance(old, str):
        return 0  # a TypeError, raised by the call itself
    found = text.count(old) if old else len(text) + 1  # type: ignore[arg-type]
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(len(new) - len(old), 0)
