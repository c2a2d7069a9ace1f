"""A hardened Jinja2 sandbox for operators' templates.

Jinja's ``SandboxedEnvironment`` keeps templates away from Python internals; on top of it this
bounds what can make a render huge or endless (DESIGN "Messages"): ``**`` and ``*`` (and ``%``
on strings) are intercepted and bounded, padding filters are capped, ``str.format`` is refused,
the output has a size cap, and a render has a time cap enforced by a line tracer on the
template's own compiled code. Every refusal is a ``validation_error``.
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from lettr_cli.errors import ValidationError

MAX_OUTPUT = 2_000_000  # characters of rendered output
MAX_SEQUENCE = 100_000  # characters or items that * may build
MAX_POWER_BITS = 4096  # size of an integer that ** may build
MAX_WIDTH = 10_000  # padding widths (center, indent, %-formatting)
RENDER_SECONDS = 2.0
_PERCENT_WIDTH = re.compile(r"%[-+ #0]*(\d+|\*)")


# How messages name a campaign's template fields (the keys stay the contract's field names).
LABELS = {"subject": "subject", "html_content": "HTML", "text_content": "text part"}


class RenderRefused(ValidationError):
    """A template that the sandbox stopped; the message says what it tried and where."""

    in_field: str | None = None


def _refuse(message: str, field: str | None = None) -> RenderRefused:
    refused = RenderRefused(message, errors={field or "template": [message]})
    refused.in_field = field
    return refused


def _label(field: str) -> str:
    return LABELS.get(field, field)


class LettrSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*", "%"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape, undefined=StrictUndefined, keep_trailing_newline=True
        )
        self.globals.pop("lipsum", None)
        self.filters["center"] = _capped(self.filters["center"], "width")
        self.filters["indent"] = _capped(self.filters["indent"], "width")
        self.filters["format"] = _checked_format(self.filters["format"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            return _power(left, right)
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
            return left * right
        if isinstance(left, str):
            _check_percent_widths(left)
        return left % right

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if super().wrap_str_format(value) is None:
            return None

        def refused(*args: Any, **kwargs: Any) -> str:
            raise _refuse("str.format is not available in templates; use {{ value }} instead")

        return refused


def _check_percent_widths(pattern: str) -> None:
    for width in _PERCENT_WIDTH.findall(pattern):
        if width == "*" or int(width) > MAX_WIDTH:
            raise _refuse(f"a %-format width over {MAX_WIDTH} is not allowed")


def _checked_format(function: Callable[..., str]) -> Callable[..., str]:
    def checked(value: Any, *args: Any, **kwargs: Any) -> str:
        _check_percent_widths(str(value))
        return function(value, *args, **kwargs)

    return checked


def _power(left: Any, right: Any) -> Any:
    if isinstance(left, int | float) and isinstance(right, int | float):
        magnitude = abs(left)
        if magnitude > 1 and right > 0:
            bits = right * math.log2(magnitude)
            if bits > MAX_POWER_BITS:
                raise _refuse(f"{left} ** {right} is too large a number for a template")
    return left**right


def _check_repeat(sequence: Any, count: Any) -> None:
    repeats = isinstance(sequence, str | list | tuple) and isinstance(count, int)
    if repeats and len(sequence) * count > MAX_SEQUENCE:
        raise _refuse(f"repeating a value {count} times is too large for a template")


def _capped(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    def capped(value: Any, *args: Any, **kwargs: Any) -> Any:
        width = kwargs.get(name, args[0] if args else 0)
        if isinstance(width, int) and width > MAX_WIDTH:
            raise _refuse(f"a {name} over {MAX_WIDTH} is not allowed")
        if isinstance(width, str) and len(width) > MAX_WIDTH:
            raise _refuse(f"an indent over {MAX_WIDTH} characters is not allowed")
        return function(value, *args, **kwargs)

    return capped


_environments: dict[bool, LettrSandbox] = {}


def environment(*, autoescape: bool) -> LettrSandbox:
    """The shared sandbox: HTML is autoescaped, text is not."""
    if autoescape not in _environments:
        _environments[autoescape] = LettrSandbox(autoescape=autoescape)
    return _environments[autoescape]


def compile_template(source: str, *, html: bool, field: str = "template") -> Template:
    """Parse ``source``; a syntax error is a ``validation_error`` naming the line."""
    env = environment(autoescape=html)
    try:
        return env.from_string(source)
    except TemplateError as exc:
        raise _invalid(exc, field) from None


def _invalid(exc: TemplateError, field: str) -> RenderRefused:
    line = getattr(exc, "lineno", None)
    where = f" (line {line})" if line else ""
    message = f"the {_label(field)} is not a valid template{where}: {exc.message}"
    return _refuse(message, field)


def referenced_names(source: str, *, html: bool, field: str = "template") -> set[str]:
    """Every top-level name the template reads (its merge tags)."""
    from jinja2 import meta

    env = environment(autoescape=html)
    try:
        tree = env.parse(source)
    except TemplateError as exc:
        raise _invalid(exc, field) from None
    # Loop variables and names set inside the template are not merge tags; Jinja leaves them out.
    return set(meta.find_undeclared_variables(tree))


def render(
    template: Template,
    values: Mapping[str, Any],
    *,
    seconds: float = RENDER_SECONDS,
    limit: int = MAX_OUTPUT,
    field: str = "template",
) -> str:
    """Render within a time and a size cap; any failure is a ``validation_error``."""
    pieces: list[str] = []
    size = 0
    label = _label(field)
    try:
        with _Deadline(seconds, field):
            for piece in template.generate(values):
                size += len(piece)
                if size > limit:
                    raise _refuse(f"the rendered {label} is larger than {limit} characters", field)
                pieces.append(piece)
    except RenderRefused as exc:
        if exc.in_field is not None:
            raise
        raise _refuse(f"the {label} was refused: {exc.message}", field) from None
    except SecurityError as exc:
        raise _refuse(f"the {label} tried something the sandbox forbids: {exc}", field) from None
    except TemplateError as exc:
        raise _refuse(f"the {label} could not be rendered: {exc.message}", field) from None
    except (ArithmeticError, TypeError, ValueError, MemoryError, RecursionError) as exc:
        raise _refuse(f"the {label} could not be rendered: {exc}", field) from None
    return "".join(pieces)


class _TooSlow(Exception):
    pass


class _Deadline:
    """Stop a render that runs past ``seconds``, by tracing the template's compiled code only."""

    def __init__(self, seconds: float, field: str) -> None:
        self.seconds = seconds
        self.field = field

    def __enter__(self) -> None:
        self.until = time.monotonic() + self.seconds
        self.previous = sys.gettrace()
        self.count = 0
        sys.settrace(self._global)

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        sys.settrace(self.previous)
        if isinstance(error, _TooSlow):
            message = f"the {_label(self.field)} took longer than {self.seconds:g} s to render"
            raise _refuse(message, self.field) from None

    def _global(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename == "<template>":
            return self._local
        return None

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        self.count += 1
        if self.count & 0xFF == 0 and time.monotonic() > self.until:
            raise _TooSlow
        return self._local
