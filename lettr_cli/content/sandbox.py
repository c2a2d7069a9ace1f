"""A hardened Jinja2 sandbox for operators' templates.

Jinja's ``SandboxedEnvironment`` keeps templates away from Python internals; on top of it this
bounds what can make a render huge or endless (DESIGN "Messages"): ``**``, ``*``, ``+`` and
``%`` are intercepted, method calls and every filter have their size arguments checked before
the work (``bounds``, ``filter_bounds``), ``~`` and captured blocks are measured before they are
joined, ``str.format`` is refused, the output has a size cap, and a render has a time cap
enforced by a line tracer on the template's own compiled code. Every refusal is a
``validation_error`` that names the field.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping
from types import FrameType
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from lettr_cli.content import bounds
from lettr_cli.content.bounds import RenderRefused
from lettr_cli.content.bounds import refuse as _refuse
from lettr_cli.content.filter_bounds import bounded_filter
from lettr_cli.content.missing import plain

MAX_OUTPUT = 2_000_000  # characters of rendered output
RENDER_SECONDS = 2.0

__all__ = ["RenderRefused", "compile_template", "environment", "referenced_names", "render"]

# How messages name a campaign's template fields (the keys stay the contract's field names).
LABELS = {"subject": "subject", "html_content": "HTML", "text_content": "text part"}


def _label(field: str) -> str:
    return LABELS.get(field, field)


class _Generator(CodeGenerator):
    """Jinja's code generator, with the pieces of ``a ~ b`` measured before they are joined."""

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"{join}(environment.concat_pieces((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


class LettrSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*", "%", "+"})
    code_generator_class = _Generator

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            finalize=_printed,
        )
        self.globals.pop("lipsum", None)
        for name, function in list(self.filters.items()):
            self.filters[name] = bounded_filter(name, function)

    @staticmethod
    def concat(pieces: Iterable[str]) -> str:
        """Join what a block, a macro or ``{% set %}...{% endset %}`` captured, measured first."""
        return "".join(bounds.bounded_concat(pieces))

    @staticmethod
    def new_buffer() -> list[str]:
        """Where a block, a macro or ``{% set %}...{% endset %}`` collects its output."""
        return bounds.Buffer()

    @staticmethod
    def concat_pieces(pieces: Iterable[Any]) -> list[Any]:
        return bounds.bounded_concat(pieces)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        left, right = plain(left), plain(right)
        if operator == "**":
            bounds.check_power(left, right)
            return left**right
        if operator == "*":
            bounds.check_multiply(left, right)
            return left * right
        if operator == "+":
            bounds.check_add(left, right)
            return left + right
        bounds.check_percent(left, right)
        return left % right

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        checked = bounds.check_method(__obj, list(args), kwargs)
        result = super().call(__context, __obj, *checked, **kwargs)
        return bounds.check_result(result, f"{getattr(__obj, '__name__', 'a call')}(…)")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if super().wrap_str_format(value) is None:
            return None

        def refused(*args: Any, **kwargs: Any) -> str:
            raise _refuse("str.format is not available in templates; use {{ value }} instead")

        return refused


def _printed(value: Any) -> Any:
    """What ``{{ value }}`` prints: a container is measured before it becomes text."""
    if not isinstance(plain(value), str):
        bounds.check_printed(value, "printing a value")
    return value


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
