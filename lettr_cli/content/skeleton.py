"""The per-campaign message skeleton (DESIGN "Messages"): what every recipient's message shares
is built once, and each recipient's fields are substituted as correctly encoded bytes.

A campaign qualifies when its merge tags are plain names (``{{ first_name }}``) standing in
text, not inside a tag or a control structure: then the whole HTML pipeline (preheader, footer,
inlined CSS, tracked links, open pixel, the text part) runs once, on sentinel values, and a
recipient's message is the skeleton with their escaped values and tokens put in. Anything else
(filters, ``{% if %}``, a merge tag in an attribute, a non-ASCII address) takes the full path.
A property-based test parses messages from both paths back and compares them.
"""

from __future__ import annotations

import binascii
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from markupsafe import escape

from lettr_cli.content.html import TrackedLink
from lettr_cli.content.message import build_message, encode_text_header, message_id, to_bytes
from lettr_cli.content.sandbox import environment
from lettr_cli.signing.tokens import Purpose

if TYPE_CHECKING:
    from lettr_cli.content.compose import Composer

OPEN, CLOSE = "\ue000", "\ue001"
_SLOT = re.compile(f"{OPEN}([mt])([0-9a-z]+){CLOSE}")
_TAG = re.compile(r"<[^>]*>")
_MARK = re.compile(rb"LETTRSLOT(TO|SUBJECT|DATE|MID|UNSUB)MARK|LETTRSLOT(TEXT|HTML)MARK\r\n")
ROW_PURPOSES = (
    Purpose.OPEN, Purpose.CLICK, Purpose.UNSUBSCRIBE, Purpose.VIEW, Purpose.PREFERENCES
)  # fmt: skip
_WHITESPACE = re.compile(r"\s+")

Pieces = tuple[tuple[str, str | None, str], ...]  # (literal, slot kind, slot key)


def _flat_names(source: str, *, html: bool) -> list[str] | None:
    """The merge names of a template made only of text and ``{{ name }}``; else None."""
    from jinja2 import nodes

    if OPEN in source or CLOSE in source:
        return None
    tree = environment(autoescape=html).parse(source)
    names: list[str] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                continue
            if isinstance(child, nodes.Name) and child.ctx == "load":
                names.append(child.name)
                continue
            return None
    return names


def _pieces(document: str) -> Pieces:
    pieces: list[tuple[str, str | None, str]] = []
    at = 0
    for found in _SLOT.finditer(document):
        pieces.append((document[at : found.start()], found.group(1), found.group(2)))
        at = found.end()
    pieces.append((document[at:], None, ""))
    return tuple(pieces)


def _fill(pieces: Pieces, values: list[str], tokens: Mapping[str, str]) -> str:
    out: list[str] = []
    for literal, kind, key in pieces:
        out.append(literal)
        if kind == "m":
            out.append(values[int(key)])
        elif kind == "t":
            out.append(tokens[key])
    return "".join(out)


def _qp(text: str) -> bytes:
    """A body as the email package writes it: UTF-8, quoted-printable, CRLF, final newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    return encoded.replace(b"\n", b"\r\n")


def token_slot(purpose: Purpose) -> str:
    """What stands for a recipient's token of ``purpose`` until it is put in."""
    return f"{OPEN}t{purpose.value}{CLOSE}"


class SlottedLinks:
    """Tracked links whose URLs hold token slots (``token_slot``) where a recipient's tokens go:
    one message's links, made once, and each recipient's by putting their tokens in."""

    def __init__(self, links: tuple[TrackedLink, ...]) -> None:
        # Each link with its URL (and the URL as written) cut at the token slots.
        self._links = tuple(
            (link, _pieces(link.url), None if link.written is None else _pieces(link.written))
            for link in links
        )

    def fill(self, token: Callable[[Purpose], str]) -> tuple[TrackedLink, ...]:
        """The links with the tokens ``token`` gives put in."""
        tokens: dict[str, str] = {}

        def filled(pieces: Pieces) -> str:
            for _literal, kind, key in pieces:
                if kind == "t" and key not in tokens:
                    tokens[key] = token(Purpose(key))
            return _fill(pieces, [], tokens)

        found: list[TrackedLink] = []
        for link, url, written in self._links:
            if len(url) == 1 and (written is None or len(written) == 1):
                found.append(link)  # no token in it: the same for everyone
            else:
                as_written = None if written is None else filled(written)
                found.append(replace(link, url=filled(url), written=as_written))
        return tuple(found)


@dataclass(frozen=True)
class _Wire:
    """The message bytes around the per-recipient slots."""

    pieces: tuple[tuple[bytes, str | None], ...]

    @classmethod
    def build(cls, composer: Composer) -> _Wire:
        from lettr_cli.content.compose import Links, Rendered

        links = Links(composer.sender.base_url, lambda _purpose: "LETTRSLOTUNSUBMARK")
        rendered = Rendered(
            "LETTRSLOTSUBJECTMARK", "LETTRSLOTHTMLMARK\n", "LETTRSLOTTEXTMARK\n", ()
        )
        headers = composer.headers(rendered, "lettrslottomark@example.com", links, test=False)
        # Date and Message-ID are per message; the markers keep their places.
        headers = replace(
            headers, to_email="LETTRSLOTTOMARK@example.com", message_id="<LETTRSLOTMIDMARK>"
        )
        data = to_bytes(build_message(headers, rendered.html, rendered.text))
        data = re.sub(rb"(?m)^Date: [^\r\n]*\r\n", b"Date: LETTRSLOTDATEMARK\r\n", data, count=1)
        data = data.replace(b"LETTRSLOTTOMARK@example.com", b"LETTRSLOTTOMARK")
        data = data.replace(b"<LETTRSLOTMIDMARK>", b"LETTRSLOTMIDMARK")
        pieces: list[tuple[bytes, str | None]] = []
        at = 0
        for found in _MARK.finditer(data):
            slot = found.group(1) or found.group(2)
            pieces.append((data[at : found.start()], slot.decode()))
            at = found.end()
        pieces.append((data[at:], None))
        return cls(tuple(pieces))


class Skeleton:
    """One campaign's messages, each built by substitution."""

    def __init__(self, composer: Composer, names: list[str], html: Pieces, text: Pieces) -> None:
        self.composer = composer
        self.names = names
        self.html = html
        self.text = text
        self.wire = _Wire.build(composer)
        self.domain = composer.content.from_email.rpartition("@")[2]
        self._date = (0, "")

    @classmethod
    def plan(cls, composer: Composer) -> Skeleton | None:
        """The skeleton of ``composer``'s campaign, or None when it needs the full path."""
        from lettr_cli.content.compose import Links

        content = composer.content
        html_names = _flat_names(content.html, html=True)
        text_names = [] if content.text is None else _flat_names(content.text, html=False)
        if html_names is None or text_names is None:
            return None
        names = sorted(set(composer.fallbacks) | {"email"})
        slot = {name: f"{OPEN}m{index}{CLOSE}" for index, name in enumerate(names)}
        values = {name: slot[name] for name in composer.fallbacks}
        links = Links(composer.sender.base_url, token_slot)
        rendered = composer.render(slot["email"], values, links)
        # A merge value inside a tag (an href, a style) could change what the pipeline does.
        inside = [tag.group(0) for tag in _TAG.finditer(rendered.html)]
        inside += [link.url for link in rendered.links]
        if any(f"{OPEN}m" in piece for piece in inside):
            return None
        return cls(composer, names, _pieces(rendered.html), _pieces(rendered.text))

    def message(
        self,
        email: str,
        to_address: str,
        values: Mapping[str, Any],
        token: Callable[[Purpose], str],
    ) -> bytes | None:
        """The recipient's message, or None when it must take the full path."""
        if not to_address.isascii():
            return None
        composer = self.composer
        merged = _merged(composer, values, email)
        tokens = {purpose.value: token(purpose) for purpose in ROW_PURPOSES}
        html_values = [str(escape(merged[name])) for name in self.names]
        text_values = [_WHITESPACE.sub(" ", str(merged[name])) for name in self.names]
        html = _fill(self.html, html_values, tokens)
        text = _fill(self.text, text_values, tokens)
        base = composer.sender.base_url
        merged["unsubscribe_link"] = f"{base}/u/{tokens[Purpose.UNSUBSCRIBE.value]}"
        merged["webversion_link"] = f"{base}/v/{tokens[Purpose.VIEW.value]}"
        merged["preferences_link"] = f"{base}/p/{tokens[Purpose.PREFERENCES.value]}"
        subject = composer.subject_for(merged)
        slots = {
            "TO": to_address.encode("ascii"),
            "SUBJECT": encode_text_header("Subject", subject).replace("\n", "\r\n").encode(),
            "DATE": self._now().encode("ascii"),
            "MID": message_id(self.domain).encode("ascii"),
            "UNSUB": tokens[Purpose.UNSUBSCRIBE.value].encode("ascii"),
            "TEXT": _qp(text),
            "HTML": _qp(html),
        }
        out: list[bytes] = []
        for literal, slot in self.wire.pieces:
            out.append(literal)
            if slot is not None:
                out.append(slots[slot])
        return b"".join(out)

    def _now(self) -> str:
        second = int(time.time())
        if self._date[0] != second:
            from lettr_cli.store.types import utcnow

            self._date = (second, format_datetime(utcnow()))
        return self._date[1]


def _merged(composer: Composer, values: Mapping[str, Any], email: str) -> dict[str, Any]:
    from lettr_cli.content.compose import merge_values

    return merge_values(composer.fallbacks, values, email)
