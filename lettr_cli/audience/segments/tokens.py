"""The tokens of a segment expression, and refusals that point into its text.

A token is a bare word, a quoted string ('…' or "…", a backslash keeping the next character as
it is), or a parenthesis. :func:`quote` writes a value back as a token that reads as itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from lettr_cli.audience.excerpts import window
from lettr_cli.audience.segments.model import KEYWORDS, RawCondition, Span
from lettr_cli.errors import ValidationError

WORD, QUOTED, OPEN, CLOSE = "word", "quoted", "(", ")"
QUOTES = "\"'"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str  # a quoted string's text without its quotes and escapes
    span: Span

    @property
    def keyword(self) -> str | None:
        folded = self.text.casefold()
        return folded if self.kind == WORD and folded in KEYWORDS else None

    @property
    def is_value(self) -> bool:
        return self.kind in (WORD, QUOTED) and self.keyword is None


class TextSource:
    """Refusals about a text expression: the expression, with the offending part underlined."""

    def __init__(self, text: str) -> None:
        self.text = text

    def at(self, span: Span, message: str) -> ValidationError:
        shown = "".join(ch if ch.isprintable() else "·" for ch in self.text)
        start = min(span.start, len(shown))
        excerpt, offset, end = window(shown, start)
        marks = "^" * max(1, min(span.end, end) - span.start)
        return ValidationError.field(
            "where",
            f"at column {start + 1}: {message}\n    {excerpt}\n    {' ' * offset}{marks}",
        )

    def refuse(self, raw: RawCondition, part: str, message: str) -> ValidationError:
        span = raw.spans.get(part) or raw.spans.get("condition") or Span(0, len(self.text))
        return self.at(span, message)


def quote(value: str) -> str:
    """``value`` as a bare word when it reads back as itself, else as a quoted string."""
    if value and value.casefold() not in KEYWORDS and all(_bare(ch) for ch in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _bare(ch: str) -> bool:
    return ch.isprintable() and not ch.isspace() and ch not in "()\"'\\"


def tokenize(text: str, source: TextSource) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(Token(ch, ch, Span(i, i + 1)))
            i += 1
        elif ch in QUOTES:
            start, chars = i, []
            i += 1
            while i < n and text[i] != ch:
                if text[i] == "\\":
                    i += 1
                if i < n:
                    chars.append(text[i])
                    i += 1
            if i >= n:
                raise source.at(Span(start, n), "this quote is never closed")
            i += 1
            tokens.append(Token(QUOTED, "".join(chars), Span(start, i)))
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in "()":
                i += 1
            tokens.append(Token(WORD, text[start:i], Span(start, i)))
    return tokens
